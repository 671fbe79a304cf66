"""Sales orders (销售订单), their lines, invoices (发票) and payments (回款)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import Audited, Money, Timestamped
from sandbox.models.crm.contracts import Contract
from sandbox.models.crm.lines import ProductLine
from sandbox.models.crm.sales import Opportunity
from sandbox.models.crm.team import Colleague


class SalesOrder(Timestamped, Audited):
    """An order numbered ``SO-<year>-<nnnn>`` under a contract or a won deal."""

    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(
        sa.String(20), unique=True, info={"label": _l("Order number")}
    )
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Account")},
    )
    contract_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contract.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Contract")},
    )
    #: Kept (unlinked) when the deal is deleted: the order and its money stay.
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
        info={"label": _l("Status"), "codes": "order_status"},
    )
    order_date: Mapped[dt.date] = mapped_column(info={"label": _l("Order date")})
    delivery_date: Mapped[dt.date] = mapped_column(info={"label": _l("Delivery date")})
    delivered_on: Mapped[dt.date | None] = mapped_column(
        info={"label": _l("Delivered on")}
    )
    amount: Mapped[Decimal] = mapped_column(
        Money, default=Decimal("0"), info={"label": _l("Order amount"), "money": True}
    )
    cancel_reason: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Cancellation reason"), "multiline": True}
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )

    account: Mapped[Account] = relationship()
    contract: Mapped[Contract | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    owner: Mapped[Colleague | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderLine.position",
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="(Invoice.due_on, Invoice.id)",
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="(Payment.received_on, Payment.id)",
    )

    @property
    def display_name(self) -> str:
        return self.number or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.number

    def __repr__(self) -> str:
        return f"<SalesOrder {self.number}>"


class OrderLine(ProductLine, Audited):
    """A product on an order: quantity × unit price less the discount."""

    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )
    order: Mapped[SalesOrder] = relationship(back_populates="lines")


class Invoice(Timestamped, Audited):
    """An invoice (发票) issued against an order, due on ``due_on``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_order.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Order")},
    )
    number: Mapped[str] = mapped_column(
        sa.String(20), unique=True, info={"label": _l("Invoice number")}
    )
    issued_on: Mapped[dt.date] = mapped_column(info={"label": _l("Invoice date")})
    due_on: Mapped[dt.date] = mapped_column(index=True, info={"label": _l("Due date")})
    amount: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Invoice amount"), "money": True}
    )

    order: Mapped[SalesOrder] = relationship(back_populates="invoices")

    @property
    def display_name(self) -> str:
        return self.number or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.number


class Payment(Timestamped, Audited):
    """Money received (回款) against an order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_order.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Order")},
    )
    received_on: Mapped[dt.date] = mapped_column(info={"label": _l("Received on")})
    amount: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Payment amount"), "money": True}
    )
    method: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Payment method"), "codes": "payment_method"}
    )
    reference: Mapped[str | None] = mapped_column(
        sa.String(100), info={"label": _l("Reference")}
    )

    order: Mapped[SalesOrder] = relationship(back_populates="payments")

    @property
    def display_name(self) -> str:
        return self.reference or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return sa.func.coalesce(cls.reference, "#" + sa.cast(cls.id, sa.String))
