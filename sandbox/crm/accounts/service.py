"""Account rules: creating, updating, deleting and the duplicate check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.service import apply_changes, remove, save
from sandbox.models.crm import Account

FIELDS = (
    "name",
    "account_type",
    "industry",
    "phone",
    "email",
    "website",
    "address",
    "city",
    "country",
    "annual_revenue",
    "employees",
    "owner",
    "description",
)


class DuplicateAccountName(ValueError):
    """Another account already has this name; ``existing`` is that account."""

    def __init__(self, existing: Account) -> None:
        super().__init__(f"an account named {existing.name!r} already exists")
        self.existing = existing


def find_same_name(
    session: Session, name: str, exclude_id: int | None = None
) -> Account | None:
    """An existing account whose name matches ``name`` ignoring case and blanks."""
    stmt = sa.select(Account).where(
        sa.func.lower(sa.func.trim(Account.name)) == name.strip().lower()
    )
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def _refuse_duplicate(session: Session, name: str, exclude_id: int | None) -> None:
    same = find_same_name(session, name or "", exclude_id)
    if same is not None:
        raise DuplicateAccountName(same)


def create_account(session: Session, data: dict[str, Any]) -> Account:
    """:raise DuplicateAccountName: the name is taken (nothing is written)."""
    _refuse_duplicate(session, data.get("name"), None)
    account = Account()
    apply_changes(account, data, FIELDS)
    return save(session, account)


def update_account(session: Session, account: Account, data: dict[str, Any]) -> Account:
    """:raise DuplicateAccountName: the new name is taken (nothing is written)."""
    _refuse_duplicate(session, data.get("name"), account.id)
    apply_changes(account, data, FIELDS)
    return save(session, account)


def delete_account(session: Session, account: Account) -> None:
    """Delete an account; its contacts stay, no longer linked to it.

    The ``Account.contacts`` relationship unlinks them in the same flush, so each
    contact's history records the change.
    """
    remove(session, account)
