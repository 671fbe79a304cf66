"""Contact rules: creating and updating, reports-to, and the duplicate warning."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.accounts.service import message_text
from sandbox.crm.service import apply_changes, save
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Contact

FIELDS = (
    "first_name",
    "last_name",
    "account_id",
    "role",
    "reports_to_id",
    "title",
    "department",
    "email",
    "phone",
    "mobile",
    "notes",
)

#: Separators people type inside phone numbers; compared without them.
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "+", "/")


class ContactRuleError(ValueError):
    """A contact rule refused a change; ``field`` is the field it concerns."""

    def __init__(self, field: str, message: object) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return message_text(self.message)


def _check_account(session: Session, account_id: int | None) -> None:
    if account_id is None:
        return
    account = session.get(Account, account_id)
    if account is not None and account.inactive:
        raise ContactRuleError(
            "account_id",
            _l(
                "“%(name)s” is inactive (%(reason)s): new contacts cannot be linked "
                "to it.",
                name=account.name,
                reason=account.inactive_reason or "—",
            ),
        )


def _check_reports_to(
    session: Session, contact: Contact, reports_to_id: int | None
) -> None:
    if reports_to_id is None:
        return
    if contact.id is not None and reports_to_id == contact.id:
        raise ContactRuleError(
            "reports_to_id", _l("A contact cannot report to themselves.")
        )
    seen: set[int] = set()
    boss = session.get(Contact, reports_to_id)
    while boss is not None and boss.id not in seen:
        if contact.id is not None and boss.id == contact.id:
            raise ContactRuleError(
                "reports_to_id",
                _l("That contact already reports to this one; choose another."),
            )
        seen.add(boss.id)
        boss = boss.reports_to


def _check(session: Session, contact: Contact, data: dict[str, Any]) -> None:
    if data.get("account_id") != contact.account_id:
        _check_account(session, data.get("account_id"))
    _check_reports_to(session, contact, data.get("reports_to_id"))


def create_contact(session: Session, data: dict[str, Any]) -> Contact:
    """:raise ContactRuleError: the account is inactive, or reports-to would go
    round in a circle (nothing is written)."""
    contact = Contact()
    _check(session, contact, data)
    apply_changes(contact, data, FIELDS)
    return save(session, contact)


def update_contact(session: Session, contact: Contact, data: dict[str, Any]) -> Contact:
    """:raise ContactRuleError: see :func:`create_contact`. A contact already at an
    inactive account may still be edited; moving one there is refused."""
    _check(session, contact, data)
    apply_changes(contact, data, FIELDS)
    return save(session, contact)


def phone_key(number: str | None) -> str:
    """A phone number as digits only (full-width digits folded)."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", number or "") if ch.isdigit()
    )


def _sql_phone_key(column: sa.ColumnElement) -> sa.ColumnElement:
    for separator in _PHONE_SEPARATORS:
        column = sa.func.replace(column, separator, "")
    return column


def duplicate_contacts(
    session: Session,
    contact: Contact,
    *,
    email: str | None = None,
    mobile: str | None = None,
) -> list[tuple[str, Contact]]:
    """Other contacts with the same email (any case) or mobile (any separators),
    as ``(field, contact)`` pairs. A warning, never a refusal: two people may share
    a switchboard or a team mailbox."""
    email = (contact.email if email is None else email) or ""
    mobile = phone_key(contact.mobile if mobile is None else mobile)
    found: list[tuple[str, Contact]] = []
    others = sa.select(Contact).options(sa.orm.joinedload(Contact.account))
    if contact.id is not None:
        others = others.where(Contact.id != contact.id)
    others = others.order_by(Contact.id).limit(5)
    if email.strip():
        for other in session.scalars(
            others.where(sa.func.lower(Contact.email) == email.strip().lower())
        ):
            found.append(("email", other))
    if len(mobile) >= 5 and not re.fullmatch(r"0+", mobile):
        for other in session.scalars(
            others.where(_sql_phone_key(Contact.mobile) == mobile)
        ):
            found.append(("mobile", other))
    return found
