"""Accounts: the companies the student's company sells to."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Money, Timestamped
from sandbox.models.crm.team import Colleague
from sandbox.text import name_key


class Account(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Account name")}
    )
    #: ``name`` folded (see :func:`sandbox.text.name_key`); unique, so two saves of
    #: the same name at once cannot both succeed.
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    account_type: Mapped[str] = mapped_column(
        sa.String(20),
        default="prospect",
        info={"label": _l("Account type"), "codes": "account_type"},
    )
    industry: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Industry"), "codes": "industry"}
    )
    phone: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Phone")}
    )
    email: Mapped[str | None] = mapped_column(
        sa.String(254), info={"label": _l("Email")}
    )
    website: Mapped[str | None] = mapped_column(
        sa.String(200), info={"label": _l("Website")}
    )
    address: Mapped[str | None] = mapped_column(
        sa.String(300), info={"label": _l("Address")}
    )
    city: Mapped[str | None] = mapped_column(sa.String(100), info={"label": _l("City")})
    country: Mapped[str | None] = mapped_column(
        sa.String(100), info={"label": _l("Country")}
    )
    annual_revenue: Mapped[object | None] = mapped_column(
        Money, info={"label": _l("Annual revenue"), "money": True}
    )
    employees: Mapped[int | None] = mapped_column(info={"label": _l("Employees")})
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Owner")},
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )

    owner: Mapped[Colleague | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(  # noqa: F821
        back_populates="account", order_by="Contact.last_name"
    )

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name!r}>"


@sa.event.listens_for(Account.name, "set", propagate=True)
def _keep_name_key(target: Account, value: str | None, *_args) -> None:
    target.name_key = name_key(value or "")
