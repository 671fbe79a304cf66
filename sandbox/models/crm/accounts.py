"""Accounts: the companies the student's company sells to."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Money, Timestamped
from sandbox.models.crm.team import Colleague
from sandbox.text import company_key, name_key

#: Colleagues who share an account with its owner (共同所有人).
account_co_owner = sa.Table(
    "account_co_owner",
    Audited.metadata,
    sa.Column(
        "account_id", sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "colleague_id",
        sa.ForeignKey("colleague.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Account(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Account name")}
    )
    #: ``name`` folded (see :func:`sandbox.text.name_key`); unique, so two saves of
    #: the same name at once cannot both succeed.
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: The name without legal forms (see :func:`sandbox.text.company_key`), for
    #: finding accounts that are probably the same company.
    match_key: Mapped[str] = mapped_column(sa.String(200), index=True, default="")
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
    source: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Source"), "codes": "account_source"}
    )
    status: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Status"), "codes": "account_status"}
    )
    intention: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Intention"), "codes": "account_intention"}
    )
    rating: Mapped[str | None] = mapped_column(
        sa.String(10), info={"label": _l("Rating"), "codes": "account_rating"}
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Parent account")},
    )
    review_state: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Review"), "codes": "review_state"}
    )
    review_note: Mapped[str | None] = mapped_column(
        sa.String(500), info={"label": _l("Review note")}
    )
    #: An inactive account (失效) is read-only everywhere.
    inactive: Mapped[bool] = mapped_column(
        default=False, info={"label": _l("Inactive")}
    )
    inactive_reason: Mapped[str | None] = mapped_column(
        sa.String(500), info={"label": _l("Why inactive")}
    )

    owner: Mapped[Colleague | None] = relationship()
    co_owners: Mapped[list[Colleague]] = relationship(
        secondary=account_co_owner, order_by=Colleague.name
    )
    parent: Mapped[Account | None] = relationship(remote_side="Account.id")
    contacts: Mapped[list[Contact]] = relationship(  # noqa: F821
        back_populates="account", order_by="Contact.last_name"
    )

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name!r}>"


class AccountRelation(Timestamped, Audited):
    """Two accounts that belong together: a channel partner and the end customers
    it serves (关联客户), a subsidiary and its group …"""

    __tablename__ = "account_relation"
    __table_args__ = (sa.UniqueConstraint("account_id", "related_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Account")},
    )
    related_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Related account")},
    )
    relation: Mapped[str] = mapped_column(
        sa.String(20),
        default="serves",
        info={"label": _l("Relationship"), "codes": "account_relation"},
    )

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    related: Mapped[Account] = relationship(foreign_keys=[related_id])

    @property
    def display_name(self) -> str:
        return f"{self.account.display_name} → {self.related.display_name}"


@sa.event.listens_for(Account.name, "set", propagate=True)
def _keep_name_key(target: Account, value: str | None, *_args) -> None:
    target.name_key = name_key(value or "")
    target.match_key = company_key(value or "")
