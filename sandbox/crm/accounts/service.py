"""Account rules: creating, updating, deleting and the duplicate-name check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.crm.service import apply_changes, commit
from sandbox.models.crm import Account
from sandbox.text import company_key, is_blank, name_key

SIMILAR_LIMIT = 5

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


def similar_accounts(
    session: Session,
    name: str,
    *,
    exclude_id: int | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Account]:
    """Accounts that are probably the company called ``name`` (at most ``limit``).

    Case, width, spaces, punctuation and legal forms (Ltd, Inc, 有限公司 …) are
    ignored, and one name containing the other counts: "杭州某某科技" finds
    "杭州某某科技有限公司". The owner is loaded with each, to say whose it is.
    """
    core = company_key(name)
    if not core:
        return []
    stmt = (
        sa.select(Account)
        .options(sa.orm.joinedload(Account.owner))
        .where(
            sa.or_(
                Account.match_key == core,
                sa.func.instr(Account.match_key, core) > 0,
                sa.and_(
                    Account.match_key != "",
                    sa.func.instr(sa.literal(core), Account.match_key) > 0,
                ),
            )
        )
        .order_by((Account.match_key == core).desc(), sa.func.length(Account.name))
        .limit(limit)
    )
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return list(session.scalars(stmt))


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
