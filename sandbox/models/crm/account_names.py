"""Customer rename (客户更名): the names an account had before, with why it changed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import TenantModel


class AccountName(TenantModel):
    """A former name of an account (the rename itself is in the audit log)."""

    __tablename__ = "account_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Former name")}
    )
    reason: Mapped[str | None] = mapped_column(
        sa.String(500), info={"label": _l("Reason")}
    )
    #: When the account stopped being called ``name``.
    until: Mapped[dt.datetime] = mapped_column(default=utcnow)


def former_names_expression() -> sa.ColumnElement:
    """An account's former names as one text, for searches that should find an
    account by a name it no longer has."""
    return (
        sa.select(sa.func.group_concat(AccountName.name, " | "))
        .where(AccountName.account_id == Account.id)
        .correlate(Account)
        .scalar_subquery()
    )


@sa.event.listens_for(Session, "before_flush")
def _keep_former_names(session: Session, _context, _instances) -> None:
    """Whatever changes an account's name keeps the old one in its history (the
    rename action adds its reason itself)."""
    noted = {n.account_id for n in session.new if isinstance(n, AccountName)}
    for record in session.dirty:
        if not isinstance(record, Account) or record.id in noted:
            continue
        history = sa.inspect(record).attrs.name.history
        old = history.deleted[0] if history.deleted else None
        if old and old != record.name:
            session.add(AccountName(account_id=record.id, name=old))
