"""Account rules: creating, updating, deleting and the duplicate-name check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.crm.service import apply_changes, commit
from sandbox.models.crm import Account
from sandbox.text import is_blank, name_key

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
    "owner_id",
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
    """An existing account whose name is the same once case, width, spaces and
    trailing punctuation are folded away (see :func:`sandbox.text.name_key`)."""
    stmt = sa.select(Account).where(Account.name_key == name_key(name))
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def _save(session: Session, account: Account) -> Account:
    if is_blank(account.name):
        raise ValueError("an account needs a name")
    with session.no_autoflush:
        same = find_same_name(session, account.name, account.id)
    if same is not None:
        session.rollback()
        raise DuplicateAccountName(same)
    session.add(account)
    try:
        commit(session)
    except IntegrityError:
        # Another request saved the same name between our check and our commit.
        same = find_same_name(session, account.name)
        if same is None:
            raise
        raise DuplicateAccountName(same) from None
    return account


def create_account(session: Session, data: dict[str, Any]) -> Account:
    """:raise DuplicateAccountName: the name is taken (nothing is written)."""
    account = Account()
    apply_changes(account, data, FIELDS)
    return _save(session, account)


def update_account(session: Session, account: Account, data: dict[str, Any]) -> Account:
    """:raise DuplicateAccountName: the new name is taken (nothing is written)."""
    apply_changes(account, data, FIELDS)
    return _save(session, account)
