"""Sales order rules: lifecycle, lines, invoices, payments and balances.

An order belongs to an active contract or a won opportunity (its account, product
lines and amount come from there) and goes Draft → Confirmed → Delivered → Closed,
or to Cancelled from Draft or Confirmed. Only a draft is edited or deleted.

The orders of one contract (or of one won deal) never add up to more than its
amount: cancelled orders aside, an order that would take them above it is not
created or confirmed. A deal that has a contract is ordered under the contract.

Invoices (发票) and payments (回款) are recorded against a confirmed or delivered
order. Invoices never add up to more than the order amount, and a payment that would
take the paid total above the order amount is refused. An invoice is dated on or
after its order, and a payment is received between the order date and today.
Payments settle the order's invoices oldest due date first; an invoice past its due
date that payments have not settled is overdue. Every amount is a
:class:`~decimal.Decimal` to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from sandbox.crm import lines as product_lines
from sandbox.crm.audit import define_action, record_action
from sandbox.crm.display import join_list, money, percent
from sandbox.crm.service import commit
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import FIRST_DAY, LAST_DAY
from sandbox.models.crm.contracts import Contract
from sandbox.models.crm.orders import Invoice, OrderLine, Payment, SalesOrder
from sandbox.models.crm.sales import Opportunity

ZERO = Decimal("0.00")
#: Orders whose balance still counts (a cancelled order owes nothing).
LIVE_STATES = ("draft", "confirmed", "delivered", "closed")

define_action("order_from_source", _l("Created %(entity)s %(record)s from %(source)s"))
define_action("order_confirm", _l("Confirmed %(entity)s %(record)s"))
define_action("order_deliver", _l("Delivered %(entity)s %(record)s"))
define_action("order_close", _l("Closed %(entity)s %(record)s"))
define_action("order_cancel", _l("Cancelled %(entity)s %(record)s: %(reason)s"))
define_action(
    "order_invoice",
    _l("Issued invoice %(invoice)s of %(amount)s for %(entity)s %(record)s"),
)
define_action(
    "order_payment",
    _l("Received a payment of %(amount)s for %(entity)s %(record)s"),
)

ORDER_FIELDS = ("owner_id", "order_date", "delivery_date", "description")


class OrderRefused(ValueError):
    """The order's state or the input does not allow the change; ``field`` is the
    form field at fault (None when the action itself is not allowed)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ------------------------------------------------------------------ numbers


def _next_number(session: Session, column: Any, prefix: str) -> str:
    last = session.scalar(
        sa.select(sa.func.max(column)).where(column.like(f"{prefix}%"))
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def next_order_number(session: Session, year: int) -> str:
    """``SO-<year>-<four-digit sequence>``."""
    return _next_number(session, SalesOrder.number, f"SO-{year}-")


def next_invoice_number(session: Session, year: int) -> str:
    """``INV-<year>-<four-digit sequence>``."""
    return _next_number(session, Invoice.number, f"INV-{year}-")


def order_search(query: str) -> sa.ColumnElement:
    """The list search: the number from its start (``*`` a wildcard), or the
    account, contract or opportunity containing the text."""
    from sandbox.crm.contracts.service import number_pattern
    from sandbox.models.crm import Account

    conditions = [SalesOrder.number.ilike(number_pattern(query.strip()), escape="\\")]
    text = query.replace("*", "").strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions += [
            SalesOrder.account.has(Account.name.ilike(pattern, escape="\\")),
            SalesOrder.contract.has(Contract.number.ilike(pattern, escape="\\")),
            SalesOrder.opportunity.has(Opportunity.name.ilike(pattern, escape="\\")),
        ]
    return sa.or_(*conditions)


# ------------------------------------------------------------------ balances


@dataclass
class InvoiceState:
    invoice: Invoice
    paid: Decimal
    overdue: bool

    @property
    def unpaid(self) -> Decimal:
        return self.invoice.amount - self.paid


@dataclass
class Balance:
    """What an order (or an account's orders) amount to, invoiced and paid."""

    amount: Decimal = ZERO
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO
    overdue: Decimal = ZERO
    invoices: list[InvoiceState] = field(default_factory=list)

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid

    @property
    def uninvoiced(self) -> Decimal:
        return self.amount - self.invoiced

    @property
    def overdue_invoices(self) -> list[InvoiceState]:
        return [state for state in self.invoices if state.overdue]

    def add(self, other: Balance) -> None:
        self.amount += other.amount
        self.invoiced += other.invoiced
        self.paid += other.paid
        self.overdue += other.overdue
        self.invoices += other.invoices


def order_balance(order: SalesOrder, today: dt.date | None = None) -> Balance:
    """The order's totals; payments settle its invoices oldest due date first."""
    today = today or dt.date.today()
    if order.status == "cancelled":
        return Balance()
    paid = sum((p.amount for p in order.payments), ZERO)
    balance = Balance(
        amount=order.amount,
        invoiced=sum((i.amount for i in order.invoices), ZERO),
        paid=paid,
    )
    left = paid
    for invoice in sorted(order.invoices, key=lambda i: (i.due_on, i.id or 0)):
        settled = min(left, invoice.amount)
        left -= settled
        overdue = invoice.due_on < today and settled < invoice.amount
        balance.invoices.append(InvoiceState(invoice, settled, overdue))
        if overdue:
            balance.overdue += invoice.amount - settled
    return balance


def _with_money(stmt: sa.Select) -> sa.Select:
    return stmt.options(
        selectinload(SalesOrder.invoices), selectinload(SalesOrder.payments)
    )


def account_orders(
    session: Session, account_id: int, today: dt.date | None = None
) -> tuple[list[tuple[SalesOrder, Balance]], Balance]:
    """The account's orders, newest first, each with its balance, and the total."""
    orders = session.scalars(
        _with_money(
            sa.select(SalesOrder)
            .where(SalesOrder.account_id == account_id)
            .order_by(SalesOrder.order_date.desc(), SalesOrder.id.desc())
        )
    ).all()
    total = Balance()
    rows = []
    for order in orders:
        balance = order_balance(order, today)
        total.add(balance)
        rows.append((order, balance))
    return rows, total


def overdue_orders(
    session: Session, today: dt.date | None = None
) -> list[tuple[SalesOrder, Balance]]:
    """Orders with an invoice past its due date and not settled, most overdue first."""
    today = today or dt.date.today()
    has_late_invoice = sa.exists().where(
        Invoice.order_id == SalesOrder.id, Invoice.due_on < today
    )
    orders = session.scalars(
        _with_money(
            sa.select(SalesOrder)
            .where(SalesOrder.status.in_(("confirmed", "delivered")), has_late_invoice)
            .order_by(SalesOrder.id)
        )
    ).all()
    found = [(o, b) for o in orders if (b := order_balance(o, today)).overdue > 0]
    found.sort(key=lambda pair: min(s.invoice.due_on for s in pair[1].overdue_invoices))
    return found


def ordered_total(
    session: Session, source: Contract | Opportunity, excluding: int | None = None
) -> Decimal:
    """What the orders of a contract (or straight from a deal) add up to, cancelled
    ones and the order ``excluding`` left out."""
    column = (
        SalesOrder.contract_id
        if isinstance(source, Contract)
        else SalesOrder.opportunity_id
    )
    stmt = sa.select(SalesOrder.amount).where(
        column == source.id, SalesOrder.status != "cancelled"
    )
    if excluding is not None:
        stmt = stmt.where(SalesOrder.id != excluding)
    return sum(session.scalars(stmt), ZERO)


def _over_source(session: Session, order: SalesOrder) -> str | None:
    """Why ``order`` would take its contract's (or deal's) orders above its amount,
    or None when it fits."""
    if order.contract is not None:
        source, limit, name = order.contract, order.contract.amount, None
    elif order.opportunity is not None:
        source, limit = order.opportunity, order.opportunity.amount or ZERO
        name = order.opportunity.name
    else:
        return None
    others = ordered_total(session, source, excluding=order.id)
    if others + order.amount <= limit:
        return None
    values = {
        "limit": money(limit),
        "ordered": money(others),
        "left": money(max(limit - others, ZERO)),
        "amount": money(order.amount),
    }
    if name is None:
        return _(
            "Contract %(number)s is for %(limit)s and its other orders come to "
            "%(ordered)s, so %(left)s is left to order: this order's %(amount)s is "
            "too much.",
            number=source.number,
            **values,
        )
    return _(
        "Opportunity “%(name)s” is for %(limit)s and its other orders come to "
        "%(ordered)s, so %(left)s is left to order: this order's %(amount)s is too "
        "much.",
        name=name,
        **values,
    )


def orders_of_contract(session: Session, contract: Contract) -> list[SalesOrder]:
    return list(
        session.scalars(
            sa.select(SalesOrder)
            .where(SalesOrder.contract_id == contract.id)
            .order_by(SalesOrder.id)
        )
    )


# ------------------------------------------------------------------ lifecycle


@dataclass(frozen=True)
class Transition:
    action: str
    label: object
    sources: frozenset[str]
    target: str
    style: str
    has_form: bool = False
    #: The question a page asks before an action that cannot be undone
    #: (``%(record)s`` is the order's number).
    asks: object | None = None


TRANSITIONS = {
    t.action: t
    for t in (
        Transition(
            "confirm",
            _l("Confirm"),
            frozenset({"draft"}),
            "confirmed",
            "primary",
            asks=_l("Confirm order %(record)s? Its lines can no longer be changed."),
        ),
        Transition(
            "deliver",
            _l("Mark delivered"),
            frozenset({"confirmed"}),
            "delivered",
            "primary",
            asks=_l("Mark order %(record)s as delivered? This cannot be undone."),
        ),
        Transition(
            "close",
            _l("Close order"),
            frozenset({"delivered"}),
            "closed",
            "outline-success",
            asks=_l("Close order %(record)s? This cannot be undone."),
        ),
        Transition(
            "cancel",
            _l("Cancel order"),
            frozenset({"draft", "confirmed"}),
            "cancelled",
            "outline-danger",
            has_form=True,
        ),
    )
}
#: States in which invoices and payments are recorded.
BILLING_STATES = frozenset({"confirmed", "delivered"})


def status_label(status: str | None) -> str:
    from sandbox.crm.codes import code_label

    return code_label("order_status", status)


def refusal(order: SalesOrder, action: str, today: dt.date | None = None) -> str | None:
    """Why ``action`` is not allowed on ``order`` now, or None when it is."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return _("There is no such action on orders.")
    if order.status not in transition.sources:
        allowed = join_list(sorted(status_label(s) for s in transition.sources))
        return _(
            "%(action)s is not possible while the order is %(status)s (only when it "
            "is: %(allowed)s).",
            action=transition.label,
            status=status_label(order.status),
            allowed=allowed,
        )
    if action == "confirm" and order.amount <= 0:
        return _("An order needs an amount (or product lines) before it is confirmed.")
    if action == "confirm":
        unapproved = _unapproved_discount(order)
        if unapproved is not None:
            return unapproved
        over = _over_source(sa.orm.object_session(order), order)
        if over is not None:
            return over
    if action == "close":
        outstanding = order_balance(order, today).outstanding
        if outstanding > 0:
            return _(
                "An order is closed once it is paid in full; %(amount)s is still "
                "outstanding.",
                amount=money(outstanding),
            )
    if action == "cancel" and (order.invoices or order.payments):
        return _("This order has invoices or payments, so it cannot be cancelled.")
    return None


def _unapproved_discount(order: SalesOrder) -> str | None:
    """Why the order's discounts go beyond what was approved, or None.

    An order from a contract may give at most the discount its approved contract
    gives; an order straight from a won deal at most what is approved without
    asking (a larger one goes through a contract and its approval)."""
    from sandbox.crm.contracts.service import approval_rules, highest_discount

    highest = max((line.discount for line in order.lines), default=Decimal("0"))
    if order.contract is not None:
        allowed = highest_discount(order.contract)
        if highest > allowed:
            return _(
                "A line's discount of %(discount)s %% is more than the %(allowed)s "
                "%% contract %(number)s approved: lower it to confirm the order.",
                discount=percent(highest),
                allowed=percent(allowed),
                number=order.contract.number,
            )
        return None
    limit = approval_rules(sa.orm.object_session(order)).auto_approve_discount
    if highest > limit:
        return _(
            "A line's discount of %(discount)s %% needs an approved contract (above "
            "%(limit)s %%): lower it, or order through a contract.",
            discount=percent(highest),
            limit=percent(limit),
        )
    return None


def available_actions(order: SalesOrder) -> list[Transition]:
    return [t for a, t in TRANSITIONS.items() if refusal(order, a) is None]


def editable(order: SalesOrder) -> bool:
    return order.status == "draft"


def can_bill(order: SalesOrder) -> bool:
    return order.status in BILLING_STATES


def _require_draft(order: SalesOrder) -> None:
    if not editable(order):
        raise OrderRefused(
            _(
                "Only a draft order can be changed; this one is %(status)s.",
                status=status_label(order.status),
            )
        )


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
    return value or None


def _check_day(day: dt.date | None, field_name: str) -> None:
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise OrderRefused(
            _(
                "Enter a date from %(first)s to %(last)s.",
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            ),
            field_name,
        )


def _check_dates(data: dict[str, Any]) -> None:
    ordered, delivery = data.get("order_date"), data.get("delivery_date")
    _check_day(ordered, "order_date")
    _check_day(delivery, "delivery_date")
    if ordered and delivery and delivery < ordered:
        raise OrderRefused(
            _("The delivery date cannot be before the order date."), "delivery_date"
        )


def create_order(
    session: Session, data: dict[str, Any], *, today: dt.date | None = None
) -> SalesOrder:
    """A draft order under an active contract or a won opportunity (exactly one),
    with its account, product lines and amount.

    :raise OrderRefused: no source or both, a contract not active, a deal not won
        or under a contract, more than is left to order, or a delivery date before
        the order date
    """
    today = today or dt.date.today()
    try:
        contract_id, opportunity_id = (
            data.get("contract_id"),
            data.get("opportunity_id"),
        )
        if (contract_id is None) == (opportunity_id is None):
            raise OrderRefused(
                _("Choose either a contract or an opportunity for the order."),
                "contract_id",
            )
        data = {**data, "order_date": data.get("order_date") or today}
        _check_dates(data)
        order = SalesOrder(
            number=next_order_number(session, today.year), status="draft"
        )
        if contract_id is not None:
            contract = session.get(Contract, contract_id)
            if contract is None or contract.status != "active":
                raise OrderRefused(
                    _("Orders are taken under an active contract only."), "contract_id"
                )
            order.contract_id = contract.id
            order.account_id = contract.account_id
            order.amount = contract.amount
            order.lines.extend(OrderLine.copied_from(i) for i in contract.lines)
            source = contract.number
        else:
            opp = session.get(Opportunity, opportunity_id)
            if opp is None or not (opp.stage.is_closed and opp.stage.is_won):
                raise OrderRefused(
                    _("Orders are taken from a won opportunity only."),
                    "opportunity_id",
                )
            from sandbox.crm.contracts.service import existing_contract

            contract = existing_contract(session, opp)
            if contract is not None:
                raise OrderRefused(
                    _(
                        "This opportunity has contract %(number)s: take the order "
                        "under the contract.",
                        number=contract.number,
                    ),
                    "opportunity_id",
                )
            order.opportunity_id = opp.id
            order.account_id = opp.account_id
            order.amount = opp.amount or ZERO
            order.lines.extend(OrderLine.copied_from(i) for i in opp.line_items)
            source = opp.name
        for name in ORDER_FIELDS:
            setattr(order, name, _text(data.get(name)))
        if order.lines:
            order.amount = sum((line.total for line in order.lines), ZERO)
        session.add(order)
        session.flush()
        over = _over_source(session, order)
        if over is not None:
            raise OrderRefused(
                over, "contract_id" if contract_id is not None else "opportunity_id"
            )
        record_action(order, "order_from_source", {"source": source})
    except Exception:
        session.rollback()
        raise
    commit(session)
    return order


def update_order(session: Session, order: SalesOrder, data: dict[str, Any]) -> None:
    """Change a draft's dates, owner, description (and amount when it has no lines)."""
    try:
        _require_draft(order)
        _check_dates(data)
        for name in ORDER_FIELDS:
            setattr(order, name, _text(data.get(name)))
        if not order.lines and data.get("amount") is not None:
            order.amount = data["amount"]
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)


#: An order's product lines: only a draft's change.
LINES = product_lines.LineKind(
    model=OrderLine,
    parent_key="order_id",
    refused=OrderRefused,
    check=_require_draft,
)


def perform(
    session: Session,
    order: SalesOrder,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    today: dt.date | None = None,
) -> None:
    """Carry out one lifecycle action; nothing is written when it is refused."""
    data = data or {}
    today = today or dt.date.today()
    try:
        reason = refusal(order, action, today)
        if reason is not None:
            raise OrderRefused(reason)
        details: dict[str, Any] = {}
        if action == "cancel":
            text = _text(data.get("reason"))
            if not text:
                raise OrderRefused(_("Say why the order is cancelled."), "reason")
            order.cancel_reason = text
            details["reason"] = text
        if action == "deliver":
            order.delivered_on = today
        order.status = TRANSITIONS[action].target
        record_action(order, f"order_{action}", details)
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)


# ------------------------------------------------------------------ money in


def _positive(amount: Decimal | None, field_name: str) -> Decimal:
    if amount is None or amount <= 0:
        raise OrderRefused(_("Enter an amount greater than 0."), field_name)
    return amount


def _require_billing(order: SalesOrder) -> None:
    if not can_bill(order):
        raise OrderRefused(
            _(
                "Invoices and payments are recorded on a confirmed or delivered "
                "order; this one is %(status)s.",
                status=status_label(order.status),
            )
        )


def issue_invoice(
    session: Session,
    order: SalesOrder,
    amount: Decimal | None,
    issued_on: dt.date,
    due_on: dt.date,
) -> Invoice:
    """Invoice part (or the rest) of the order.

    :raise OrderRefused: the order is not billable, the amount is not positive or
        exceeds what is left to invoice, the invoice date is before the order date,
        or the due date is before the invoice date
    """
    try:
        _require_billing(order)
        amount = _positive(amount, "amount")
        left = order_balance(order).uninvoiced
        if amount > left:
            raise OrderRefused(
                _(
                    "Invoices cannot add up to more than the order amount: "
                    "%(left)s is left to invoice.",
                    left=money(left),
                ),
                "amount",
            )
        _check_day(issued_on, "issued_on")
        _check_day(due_on, "due_on")
        if issued_on < order.order_date:
            raise OrderRefused(
                _(
                    "The invoice date cannot be before the order date (%(date)s).",
                    date=order.order_date.isoformat(),
                ),
                "issued_on",
            )
        if due_on < issued_on:
            raise OrderRefused(
                _("The due date cannot be before the invoice date."), "due_on"
            )
        invoice = Invoice(
            number=next_invoice_number(session, issued_on.year),
            issued_on=issued_on,
            due_on=due_on,
            amount=amount,
        )
        order.invoices.append(invoice)
        session.flush()
        record_action(
            order, "order_invoice", {"invoice": invoice.number, "amount": money(amount)}
        )
    except Exception:
        session.rollback()
        raise
    commit(session)
    return invoice


def record_payment(
    session: Session,
    order: SalesOrder,
    amount: Decimal | None,
    received_on: dt.date,
    method: str | None = None,
    reference: str | None = None,
    *,
    today: dt.date | None = None,
) -> Payment:
    """Record money received; more than the outstanding balance is refused.

    :param today: the course's today (a payment is not received later than that)
    :raise OrderRefused: the order is not billable, the amount is not positive or
        would pay more than is outstanding, or the day is before the order date or
        after today
    """
    from sandbox.crm.activities.service import local_today

    today = today or local_today()
    try:
        _require_billing(order)
        amount = _positive(amount, "amount")
        _check_day(received_on, "received_on")
        if received_on > today:
            raise OrderRefused(
                _(
                    "A payment cannot be received after today (%(today)s).",
                    today=today.isoformat(),
                ),
                "received_on",
            )
        if received_on < order.order_date:
            raise OrderRefused(
                _(
                    "A payment cannot be received before the order date (%(date)s).",
                    date=order.order_date.isoformat(),
                ),
                "received_on",
            )
        outstanding = order_balance(order).outstanding
        if amount > outstanding:
            raise OrderRefused(
                _(
                    "That would be an over-payment: the outstanding balance is "
                    "%(outstanding)s, so a payment of %(amount)s is too much.",
                    outstanding=money(outstanding),
                    amount=money(amount),
                ),
                "amount",
            )
        payment = Payment(
            amount=amount,
            received_on=received_on,
            method=method or None,
            reference=_text(reference),
        )
        order.payments.append(payment)
        session.flush()
        record_action(order, "order_payment", {"amount": money(amount)})
    except Exception:
        session.rollback()
        raise
    commit(session)
    return payment


def delete_order(session: Session, order: SalesOrder) -> None:
    """Delete a draft with its product lines (each audited)."""
    try:
        _require_draft(order)
        session.delete(order)
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)
