"""Contracts (合同): what a customer signed, its product lines and its approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import Audited, Money, Timestamped
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.lines import ProductLine
from sandbox.models.crm.sales import Opportunity
from sandbox.models.crm.team import Colleague


class Contract(Timestamped, Audited):
    """A contract numbered ``HT-<year>-<nnnn>``, from a won deal or typed directly."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(
        sa.String(20), unique=True, info={"label": _l("Contract number")}
    )
    title: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Contract title")}
    )
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Account")},
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        info={"label": _l("Customer signatory")},
    )
    opportunity_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Opportunity")},
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Owner")},
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="draft",
        index=True,
        info={"label": _l("Status"), "codes": "contract_status"},
    )
    signed_on: Mapped[dt.date | None] = mapped_column(info={"label": _l("Signed on")})
    start_date: Mapped[dt.date] = mapped_column(info={"label": _l("Start date")})
    end_date: Mapped[dt.date] = mapped_column(
        index=True, info={"label": _l("End date")}
    )
    amount: Mapped[Decimal] = mapped_column(
        Money,
        default=Decimal("0"),
        info={"label": _l("Contract amount"), "money": True},
    )
    payment_terms: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Payment terms"), "codes": "payment_terms"}
    )
    #: Why a discount above the rule's limit is needed (asked at submission).
    justification: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Discount justification"), "multiline": True}
    )
    approver_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        info={"label": _l("Approved by")},
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Decided at")}
    )
    #: The approver's reason: why it was approved, or why it was sent back.
    decision_reason: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Approval decision"), "multiline": True}
    )
    terminated_on: Mapped[dt.date | None] = mapped_column(
        info={"label": _l("Terminated on")}
    )
    termination_reason: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Termination reason"), "multiline": True}
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )

    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    owner: Mapped[Colleague | None] = relationship(foreign_keys=[owner_id])
    approver: Mapped[Colleague | None] = relationship(foreign_keys=[approver_id])
    lines: Mapped[list[ContractLine]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="ContractLine.position",
    )

    @property
    def display_name(self) -> str:
        return self.number or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.number

    def __repr__(self) -> str:
        return f"<Contract {self.number}>"


class ContractLine(ProductLine, Audited):
    """A product on a contract: quantity × unit price less the discount."""

    __tablename__ = "contract_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    contract: Mapped[Contract] = relationship(back_populates="lines")
