"""Customer rename (客户更名): the names an account had before, with why it changed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, object_session

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


#: ``session.info`` key: account id -> why the account is being renamed.
RENAME_REASONS = "account_rename_reasons"


@sa.event.listens_for(Account, "after_update")
def _keep_former_name(_mapper, connection, target: Account) -> None:
    """Whatever changes an account's name keeps the old one in its history, in the
    same transaction and only once the account's row is updated (the rename action
    leaves its reason in ``session.info``)."""
    history = sa.inspect(target).attrs.name.history
    old = history.deleted[0] if history.deleted else None
    if not old or old == target.name:
        return
    session = object_session(target)
    reasons = session.info.get(RENAME_REASONS, {}) if session is not None else {}
    connection.execute(
        sa.insert(AccountName.__table__).values(
            account_id=target.id,
            name=old,
            reason=reasons.pop(target.id, None),
            until=utcnow(),
        )
    )
