"""Sales orders: sources, lifecycle, invoices, payments, exact balances, overdue
payments on the order, the account page and the workbench."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.codes import default_list
from sandbox.crm.orders.service import (
    TRANSITIONS,
    OrderRefused,
    account_orders,
    available_actions,
    create_order,
    issue_invoice,
    order_balance,
    overdue_orders,
    perform,
    record_payment,
)
from sandbox.models.crm import (
    Account,
    AuditLog,
    Colleague,
    Contact,
)
from sandbox.models.crm.contracts import Contract, ContractLine
from sandbox.models.crm.orders import Invoice, Payment, SalesOrder
from sandbox.models.crm.products import Product
from sandbox.models.crm.sales import LineItem, Opportunity, Stage
from tests.conftest import close_app, make_app
from tests.helpers import memory_tenant_engine, starts_without

TODAY = dt.date(2026, 3, 10)
STATES = [c.code for c in default_list("order_status")]


no_orders = starts_without("sales_order")


@pytest.fixture(scope="module")
def order_app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("orders") / "instance")
    yield app
    close_app(app)


@pytest.fixture
def session(order_app):
    """An account with an active contract (two lines, 1,000.30 in all) and a won
    deal with one line; an open deal; a draft contract."""
    engine = memory_tenant_engine()
    # As in a tenant database: SQLite enforces the foreign keys.
    sa.event.listen(
        engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON")
    )
    with order_app.test_request_context(), sa.orm.Session(engine) as session:
        stages = [
            Stage(
                id=1,
                code="proposal",
                name="Proposal",
                name_zh="报价",
                position=1,
                probability=60,
                forecast_category="pipeline",
            ),
            Stage(
                id=2,
                code="closed_won",
                name="Closed Won",
                name_zh="赢单",
                position=2,
                probability=100,
                forecast_category="closed",
                is_closed=True,
                is_won=True,
            ),
        ]
        session.add_all(
            [
                Account(id=1, name="Acme", name_key="acme"),
                Account(id=2, name="Globex", name_key="globex"),
                Contact(id=1, first_name="Wei", last_name="Lin", account_id=1),
                Colleague(id=1, name="You", is_self=True),
                *stages,
                Product(id=1, code="A", name="Alpha", list_price=Decimal("0.10")),
                Product(id=2, code="B", name="Beta", list_price=Decimal("333.40")),
                Contract(
                    id=1,
                    number="HT-2026-0001",
                    title="Framework",
                    account_id=1,
                    status="active",
                    start_date=TODAY,
                    end_date=TODAY,
                    amount=Decimal("1000.30"),
                    lines=[
                        ContractLine(
                            product_id=1,
                            position=1,
                            quantity=Decimal("3"),
                            unit_price=Decimal("0.10"),
                            discount=Decimal("0"),
                            total=Decimal("0.30"),
                        ),
                        ContractLine(
                            product_id=2,
                            position=2,
                            quantity=Decimal("3"),
                            unit_price=Decimal("333.40"),
                            discount=Decimal("0.02"),
                            total=Decimal("1000.00"),
                        ),
                    ],
                ),
                Contract(
                    id=2,
                    number="HT-2026-0002",
                    title="Not yet",
                    account_id=1,
                    status="draft",
                    start_date=TODAY,
                    end_date=TODAY,
                    amount=Decimal("5"),
                ),
                Opportunity(
                    id=1,
                    name="Globex – Pilot",
                    account_id=2,
                    amount=Decimal("250.50"),
                    close_date=TODAY,
                    stage_id=2,
                    probability=100,
                    forecast_category="closed",
                    line_items=[
                        LineItem(
                            product_id=2,
                            position=1,
                            quantity=Decimal("1"),
                            unit_price=Decimal("250.50"),
                            discount=Decimal("0"),
                            total=Decimal("250.50"),
                        )
                    ],
                ),
                Opportunity(
                    id=2,
                    name="Globex – Open",
                    account_id=2,
                    amount=Decimal("99"),
                    close_date=TODAY,
                    stage_id=1,
                    probability=60,
                    forecast_category="pipeline",
                ),
            ]
        )
        session.commit()
        yield session
    engine.dispose()


def new_order(session, **data) -> SalesOrder:
    values = {"contract_id": 1, "delivery_date": TODAY + dt.timedelta(days=7)}
    return create_order(session, {**values, **data}, today=TODAY)


def confirmed(session, **data) -> SalesOrder:
    order = new_order(session, **data)
    perform(session, order, "confirm", today=TODAY)
    return order


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


# ------------------------------------------------------------------ sources


def test_an_order_under_a_contract_carries_its_account_lines_and_amount(session):
    order = new_order(session)
    assert order.number == "SO-2026-0001" and order.status == "draft"
    assert (order.account_id, order.contract_id, order.opportunity_id) == (1, 1, None)
    assert [(x.product_id, x.quantity, x.total) for x in order.lines] == [
        (1, Decimal("3.00"), Decimal("0.30")),
        (2, Decimal("3.00"), Decimal("1000.00")),
    ]
    assert order.amount == Decimal("1000.30")
    entry = session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "order_from_source")
    ).one()
    assert entry.details == {"source": "HT-2026-0001"}


def test_an_order_from_a_won_opportunity_takes_its_account_and_lines(session):
    order = new_order(session, contract_id=None, opportunity_id=1)
    assert (order.account_id, order.amount) == (2, Decimal("250.50"))
    assert len(order.lines) == 1


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"contract_id": None}, "contract_id", "either a contract"),
        ({"opportunity_id": 1}, "contract_id", "either a contract"),
        ({"contract_id": 2}, "contract_id", "active contract"),
        ({"contract_id": None, "opportunity_id": 2}, "opportunity_id", "won"),
        ({"delivery_date": TODAY - dt.timedelta(days=1)}, "delivery_date", "before"),
    ],
)
def test_an_order_needs_one_live_source_and_sensible_dates(session, data, field, words):
    logged = count(session, AuditLog)
    with pytest.raises(OrderRefused) as refused:
        new_order(session, **data)
    assert refused.value.field == field and words in refused.value.message
    assert count(session, SalesOrder) == 0
    assert count(session, AuditLog) == logged


def test_a_contract_is_not_ordered_beyond_its_amount(session):
    """A second order of the whole contract is refused naming the amounts; once
    the first is cancelled the contract can be ordered again."""
    first = confirmed(session)
    logged = count(session, AuditLog)
    with pytest.raises(OrderRefused) as refused:
        new_order(session)
    assert refused.value.field == "contract_id"
    assert refused.value.message == (
        "Contract HT-2026-0001 is for 1,000.30 and its other orders come to "
        "1,000.30, so 0.00 is left to order: this order's 1,000.30 is too much."
    )
    assert count(session, SalesOrder) == 1 and count(session, AuditLog) == logged
    perform(session, first, "cancel", {"reason": "Wrong month"}, today=TODAY)
    assert new_order(session).amount == Decimal("1000.30")


def test_confirming_is_refused_while_the_orders_exceed_the_contract(session):
    """A draft's amount (typed, without lines) may be raised, but confirming it
    holds the contract's orders to its amount."""
    from sandbox.crm.orders.service import refusal, update_order

    contract = session.get(Contract, 2)
    contract.status = "active"
    session.commit()
    order = new_order(session, contract_id=2)
    data = {"order_date": TODAY, "delivery_date": TODAY, "amount": Decimal("5.01")}
    update_order(session, order, data)
    assert "this order's 5.01 is too much" in refusal(order, "confirm")
    with pytest.raises(OrderRefused, match="5.00 is left to order"):
        perform(session, order, "confirm", today=TODAY)
    assert session.get(SalesOrder, order.id).status == "draft"
    update_order(session, order, {**data, "amount": Decimal("5.00")})
    perform(session, order, "confirm", today=TODAY)
    assert order.status == "confirmed"


def test_a_won_deal_is_ordered_once_and_not_beside_its_contract(session):
    order = new_order(session, contract_id=None, opportunity_id=1)
    with pytest.raises(OrderRefused, match="“Globex – Pilot” is for 250.50") as again:
        new_order(session, contract_id=None, opportunity_id=1)
    assert again.value.field == "opportunity_id"
    perform(session, order, "cancel", {"reason": "Through a contract"}, today=TODAY)
    session.add(
        Contract(
            number="HT-2026-0003",
            title="Pilot",
            account_id=2,
            opportunity_id=1,
            status="draft",
            start_date=TODAY,
            end_date=TODAY,
            amount=Decimal("250.50"),
        )
    )
    session.commit()
    with pytest.raises(OrderRefused) as refused:
        new_order(session, contract_id=None, opportunity_id=1)
    assert refused.value.field == "opportunity_id"
    assert refused.value.message == (
        "This opportunity has contract HT-2026-0003: take the order under the contract."
    )
    assert count(session, SalesOrder) == 1


# ------------------------------------------------------------------ lifecycle


def order_in(session, state: str) -> SalesOrder:
    order = new_order(session)
    order.status = state
    session.commit()
    return order


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_follows_the_lifecycle(session, state, action):
    order = order_in(session, state)
    if state == "delivered" and action == "close":
        record_payment(session, order, Decimal("1000.30"), TODAY)
    allowed = state in TRANSITIONS[action].sources
    assert (TRANSITIONS[action] in available_actions(order)) is allowed
    if not allowed:
        with pytest.raises(OrderRefused):
            perform(session, order, action, {"reason": "x"}, today=TODAY)
        assert session.get(SalesOrder, order.id).status == state
        return
    perform(session, order, action, {"reason": "Customer changed plans"}, today=TODAY)
    assert order.status == TRANSITIONS[action].target
    assert (
        f"order_{action}"
        in session.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "sales_order", AuditLog.entity_id == order.id
            )
        ).all()
    )


def test_an_order_gives_no_discount_beyond_what_was_approved(session):
    """A draft's lines can change, but confirming holds them to the approval: the
    contract's own highest discount (0.02 %), or without a contract the discount
    approved without asking (10 % by default)."""
    from sandbox.crm import lines as product_lines
    from sandbox.crm.orders.service import LINES, refusal

    def discount(order, value):
        line = order.lines[-1]
        data = {
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount": Decimal(value),
        }
        product_lines.save_line(session, order, line, data, LINES)

    order = new_order(session)
    discount(order, "80")
    reason = refusal(order, "confirm")
    assert "80 % is more than the 0.02 % contract HT-2026-0001 approved" in reason
    with pytest.raises(OrderRefused):
        perform(session, order, "confirm", today=TODAY)
    assert session.get(SalesOrder, order.id).status == "draft"
    discount(order, "0.02")
    perform(session, order, "confirm", today=TODAY)
    assert order.status == "confirmed"

    direct = new_order(session, contract_id=None, opportunity_id=1)
    discount(direct, "10.01")
    assert "10.01 % needs an approved contract (above 10 %)" in refusal(
        direct, "confirm"
    )
    discount(direct, "10")
    assert refusal(direct, "confirm") is None


def test_an_order_is_closed_only_when_paid_in_full(session):
    order = confirmed(session)
    perform(session, order, "deliver", today=TODAY)
    record_payment(session, order, Decimal("1000.29"), TODAY)
    with pytest.raises(OrderRefused, match="0.01 is still outstanding"):
        perform(session, order, "close", today=TODAY)
    assert session.get(SalesOrder, order.id).status == "delivered"
    record_payment(session, order, Decimal("0.01"), TODAY)
    perform(session, order, "close", today=TODAY)
    assert order.status == "closed"


def test_cancelling_needs_a_reason_and_no_money_on_the_order(session):
    order = confirmed(session)
    with pytest.raises(OrderRefused) as refused:
        perform(session, order, "cancel", {"reason": " "}, today=TODAY)
    assert refused.value.field == "reason"
    record_payment(session, order, Decimal("1"), TODAY)
    with pytest.raises(OrderRefused, match="payments"):
        perform(session, order, "cancel", {"reason": "Changed mind"}, today=TODAY)
    assert session.get(SalesOrder, order.id).status == "confirmed"


# ------------------------------------------------------------------ money


def test_totals_and_balance_are_exact_to_the_cent_over_partial_payments(session):
    order = confirmed(session)
    issue_invoice(session, order, Decimal("500.10"), TODAY, TODAY)
    issue_invoice(session, order, Decimal("500.20"), TODAY, TODAY)
    for cents in ("0.10", "0.20", "333.33", "333.33", "0.01"):
        record_payment(session, order, Decimal(cents), TODAY)
    balance = order_balance(order, TODAY)
    # 0.1 + 0.2 is not 0.3 in binary floating point; here it is.
    assert balance.paid == Decimal("666.97")
    assert balance.invoiced == Decimal("1000.30")
    assert balance.outstanding == Decimal("333.33")
    paid_cents = (
        session.connection()
        .exec_driver_sql(
            "SELECT SUM(amount) FROM payment WHERE order_id = ?", (order.id,)
        )
        .scalar()
    )
    assert Decimal(paid_cents) / 100 == balance.paid
    assert [(s.invoice.number, s.paid) for s in balance.invoices] == [
        ("INV-2026-0001", Decimal("500.10")),
        ("INV-2026-0002", Decimal("166.87")),
    ]


def test_an_over_payment_is_refused_with_a_clear_message_and_writes_nothing(
    session,
):
    order = confirmed(session)
    record_payment(session, order, Decimal("1000.00"), TODAY)
    logged = count(session, AuditLog)
    with pytest.raises(OrderRefused) as refused:
        record_payment(session, order, Decimal("0.31"), TODAY)
    assert refused.value.field == "amount"
    assert "over-payment" in refused.value.message
    assert "0.30" in refused.value.message and "0.31" in refused.value.message
    assert count(session, Payment) == 1 and count(session, AuditLog) == logged
    record_payment(session, order, Decimal("0.30"), TODAY)
    assert order_balance(session.get(SalesOrder, order.id)).outstanding == 0


def test_invoices_never_add_up_to_more_than_the_order(session):
    order = confirmed(session)
    issue_invoice(session, order, Decimal("1000.00"), TODAY, TODAY)
    with pytest.raises(OrderRefused, match="0.30 is left"):
        issue_invoice(session, order, Decimal("0.31"), TODAY, TODAY)
    with pytest.raises(OrderRefused) as refused:
        issue_invoice(session, order, Decimal("0.30"), TODAY, TODAY - dt.timedelta(1))
    assert refused.value.field == "due_on"
    assert count(session, Invoice) == 1


RANGE = "Enter a date from 1900-01-01 to 9000-12-31."


@pytest.mark.parametrize(
    ("issued", "due", "field", "message"),
    [
        (dt.date(1, 1, 1), TODAY, "issued_on", RANGE),
        (TODAY, dt.date(9999, 12, 31), "due_on", RANGE),
        (
            TODAY - dt.timedelta(days=1),
            TODAY,
            "issued_on",
            "The invoice date cannot be before the order date (2026-03-10).",
        ),
    ],
)
def test_an_invoice_is_dated_from_its_order_within_the_calendar(
    session, issued, due, field, message
):
    """An invoice dated 0001-01-01 was numbered INV-1-0001."""
    order = confirmed(session)
    with pytest.raises(OrderRefused) as refused:
        issue_invoice(session, order, Decimal("1"), issued, due)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert count(session, Invoice) == 0


@pytest.mark.parametrize(
    ("received", "message"),
    [
        (
            TODAY + dt.timedelta(days=1),
            "A payment cannot be received after today (2026-03-10).",
        ),
        (dt.date(2099, 1, 1), "A payment cannot be received after today (2026-03-10)."),
        (
            TODAY - dt.timedelta(days=31),
            "A payment cannot be received before the order date (2026-02-08).",
        ),
        (dt.date(1, 1, 1), RANGE),
    ],
)
def test_a_payment_is_received_between_the_order_date_and_today(
    session, received, message
):
    """A payment "received" on 2099-01-01 counted as paid today."""
    order = confirmed(session, order_date=TODAY - dt.timedelta(days=30))
    with pytest.raises(OrderRefused) as refused:
        record_payment(session, order, Decimal("1"), received, today=TODAY)
    assert (refused.value.field, refused.value.message) == ("received_on", message)
    assert count(session, Payment) == 0
    for day in (TODAY - dt.timedelta(days=30), TODAY):
        record_payment(session, order, Decimal("1"), day, today=TODAY)
    assert order_balance(order, TODAY).paid == Decimal("2.00")


def test_an_order_is_dated_within_the_calendar(session):
    for data, field in (
        ({"order_date": dt.date(1, 1, 1)}, "order_date"),
        ({"delivery_date": dt.date(9999, 12, 31)}, "delivery_date"),
    ):
        with pytest.raises(OrderRefused) as refused:
            new_order(session, **data)
        assert (refused.value.field, refused.value.message) == (field, RANGE)
    assert count(session, SalesOrder) == 0


@pytest.mark.parametrize("state", ["draft", "closed", "cancelled"])
def test_no_invoices_or_payments_outside_confirmed_and_delivered(session, state):
    order = order_in(session, state)
    with pytest.raises(OrderRefused):
        issue_invoice(session, order, Decimal("1"), TODAY, TODAY)
    with pytest.raises(OrderRefused):
        record_payment(session, order, Decimal("1"), TODAY)
    assert count(session, Invoice) == count(session, Payment) == 0


def test_zero_or_negative_amounts_are_refused(session):
    order = confirmed(session)
    for amount in (Decimal("0"), Decimal("-1"), None):
        with pytest.raises(OrderRefused):
            record_payment(session, order, amount, TODAY)
    assert count(session, Payment) == 0


def test_overdue_means_past_due_and_not_settled_oldest_invoice_first(session):
    issued = TODAY - dt.timedelta(days=30)
    order = confirmed(session, order_date=issued)
    issue_invoice(session, order, Decimal("300.00"), issued, TODAY - dt.timedelta(9))
    issue_invoice(session, order, Decimal("200.00"), issued, TODAY - dt.timedelta(1))
    issue_invoice(session, order, Decimal("100.00"), issued, TODAY + dt.timedelta(5))
    record_payment(session, order, Decimal("350.00"), TODAY)
    balance = order_balance(order, TODAY)
    assert [s.overdue for s in balance.invoices] == [False, True, False]
    assert balance.overdue == Decimal("150.00")
    assert [(o.id, b.overdue) for o, b in overdue_orders(session, TODAY)] == [
        (order.id, Decimal("150.00"))
    ]
    record_payment(session, order, Decimal("150.00"), TODAY)
    assert overdue_orders(session, TODAY) == []


def copy_of_contract_1(session) -> int:
    """Another active contract of Acme, like contract 1 (its id)."""
    first = session.get(Contract, 1)
    contract = Contract(
        number=f"HT-2026-{100 + count(session, Contract)}",
        title="Again",
        account_id=1,
        status="active",
        start_date=TODAY,
        end_date=TODAY,
        amount=first.amount,
        lines=[
            ContractLine(
                product_id=line.product_id,
                position=line.position,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
            )
            for line in first.lines
        ],
    )
    session.add(contract)
    session.commit()
    return contract.id


def test_the_account_balance_adds_its_orders_and_ignores_cancelled_ones(session):
    first = confirmed(session)
    record_payment(session, first, Decimal("0.10"), TODAY)
    issued = TODAY - dt.timedelta(days=9)
    second = confirmed(
        session, contract_id=copy_of_contract_1(session), order_date=issued
    )
    issue_invoice(session, second, Decimal("0.20"), issued, TODAY - dt.timedelta(1))
    third = new_order(session, contract_id=copy_of_contract_1(session))
    perform(session, third, "cancel", {"reason": "Duplicate"}, today=TODAY)
    rows, total = account_orders(session, 1, TODAY)
    assert len(rows) == 3
    assert total.amount == Decimal("2000.60")
    assert total.paid == Decimal("0.10")
    assert total.outstanding == Decimal("2000.50")
    assert total.overdue == Decimal("0.20")


# ------------------------------------------------------------------ pages


def days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def active_contract_order(app, classroom, client) -> str:
    """An active contract in alice's CRM and a confirmed order under it dated 30
    days ago (URL)."""

    def make(session):
        account = session.scalar(sa.select(Account).order_by(Account.id).limit(1))
        contract = Contract(
            number="HT-2026-0099",
            title="Page test",
            account_id=account.id,
            status="active",
            start_date=dt.date.today(),
            end_date=dt.date.today(),
            amount=Decimal("1000.00"),
        )
        session.add(contract)
        session.commit()
        return contract.id, account.id

    contract_id, account_id = classroom.in_tenant(app, make)
    response = client.post(
        "/crm/sales_orders/new",
        data={
            "contract_id": str(contract_id),
            "order_date": days_ago(30),
            "delivery_date": days_ago(30),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    url = response.headers["Location"]
    assert client.post(f"{url}/confirm").status_code == 302
    return url, account_id


def test_the_order_page_takes_invoices_and_payments_and_refuses_over_payment(
    app, client, auth, classroom
):
    auth.login("alice")
    url, _account = active_contract_order(app, classroom, client)
    page = client.get(url).get_data(as_text=True)
    assert "/payments" in page and "/invoices" in page and "/cancel" in page
    response = client.post(
        f"{url}/payments",
        data={"payment-amount": "1000.01", "payment-received_on": days_ago(1)},
    )
    assert response.status_code == 422
    assert "over-payment" in response.get_data(as_text=True)
    response = client.post(
        f"{url}/payments",
        data={"payment-amount": "abc", "payment-received_on": days_ago(1)},
    )
    assert response.status_code == 422
    response = client.post(
        f"{url}/payments",
        data={"payment-amount": "400", "payment-received_on": days_ago(1)},
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "600.00" in page and "/cancel" not in page


def test_the_order_page_refuses_a_payment_from_the_future_beside_its_field(
    app, client, auth, classroom
):
    auth.login("alice")
    url, _account = active_contract_order(app, classroom, client)
    response = client.post(
        f"{url}/payments",
        data={"payment-amount": "100", "payment-received_on": "2099-01-01"},
    )
    assert response.status_code == 422
    assert re.search(
        r'id="payment-received_on-errors">A payment cannot be received after today',
        response.get_data(as_text=True),
    )
    response = client.post(
        f"{url}/invoices",
        data={
            "invoice-amount": "100",
            "invoice-issued_on": "0001-01-01",
            "invoice-due_on": "0001-01-01",
        },
    )
    assert response.status_code == 422
    assert 'id="invoice-issued_on-errors">Enter a date from 1900-01-01' in (
        response.get_data(as_text=True)
    )
    paid = classroom.in_tenant(
        app,
        lambda s: (
            s.scalar(sa.select(sa.func.count()).select_from(Payment)),
            s.scalar(sa.select(sa.func.count()).select_from(Invoice)),
        ),
    )
    assert paid == (0, 0)


def test_a_contract_page_shows_what_is_ordered_and_what_is_left(
    app, client, auth, classroom
):
    auth.login("alice")
    url, _account = active_contract_order(app, classroom, client)
    contract_id = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Contract.id).where(Contract.number == "HT-2026-0099")
        ),
    )
    page = client.get(f"/crm/contracts/{contract_id}").get_data(as_text=True)
    ordered = page.split('class="row mb-2 contract-ordered"')[1].split("</dl>")[0]
    assert re.findall(r"<dd[^>]*>([\d,.]+) ", ordered) == ["1,000.00", "0.00"]
    again = client.post(
        "/crm/sales_orders/new",
        data={
            "contract_id": str(contract_id),
            "order_date": days_ago(1),
            "delivery_date": days_ago(1),
        },
    )
    assert again.status_code == 422
    assert "0.00 is left to order" in again.get_data(as_text=True)


def test_the_account_page_and_workbench_show_balance_and_overdue_payments(
    app, client, auth, classroom
):
    auth.login("alice")
    url, account_id = active_contract_order(app, classroom, client)
    past = (dt.date.today() - dt.timedelta(days=20)).isoformat()
    response = client.post(
        f"{url}/invoices",
        data={
            "invoice-amount": "300",
            "invoice-issued_on": past,
            "invoice-due_on": past,
        },
    )
    assert response.status_code == 302
    client.post(
        f"{url}/payments",
        data={"payment-amount": "100.25", "payment-received_on": past},
    )
    account = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "Sales orders and payments" in account
    assert "899.75" in account and "199.75" in account
    home = client.get("/").get_data(as_text=True)
    number = url.rsplit("/", 1)[1]
    assert "has overdue payments: 199.75" in home
    assert f"/crm/sales_orders/{number}" in home
    listing = client.get("/crm/sales_orders/?overdue=1").get_data(as_text=True)
    assert f"/crm/sales_orders/{number}" in listing


def test_a_draft_order_has_no_money_forms_and_the_server_refuses_them(
    app, client, auth, classroom
):
    auth.login("alice")
    url, _account = active_contract_order(app, classroom, client)
    order_id = int(url.rsplit("/", 1)[1])
    classroom.in_tenant(
        app,
        lambda s: (
            setattr(s.get(SalesOrder, order_id), "status", "closed"),
            s.commit(),
        ),
    )
    page = client.get(url).get_data(as_text=True)
    assert "/payments" not in page and "/edit" not in page
    response = client.post(
        f"{url}/payments",
        data={"payment-amount": "1", "payment-received_on": days_ago(1)},
    )
    assert response.status_code == 302
    paid = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(Payment))
    )
    assert paid == 0


def test_deleting_the_deal_of_an_order_keeps_the_order_and_its_money(session):
    from sandbox.crm.opportunities.service import delete_opportunity

    order = new_order(session, contract_id=None, opportunity_id=1)
    perform(session, order, "confirm", today=TODAY)
    record_payment(session, order, Decimal("50.50"), TODAY)
    delete_opportunity(session, session.get(Opportunity, 1))
    session.expire_all()
    order = session.get(SalesOrder, order.id)
    assert order.opportunity_id is None and order.account_id == 2
    assert order_balance(order).paid == Decimal("50.50")


def test_a_draft_order_is_deleted_with_its_lines(session):
    from sandbox.crm.orders.service import delete_order
    from sandbox.models.crm.orders import OrderLine

    order = new_order(session)
    delete_order(session, order)
    assert count(session, SalesOrder) == count(session, OrderLine) == 0
    kept = confirmed(session)
    with pytest.raises(OrderRefused, match="draft"):
        delete_order(session, kept)
    assert count(session, SalesOrder) == 1


def test_new_order_links_with_impossible_ids_show_an_empty_form(
    app, client, auth, classroom
):
    auth.login("alice")
    for arg in ("contract_id", "opportunity_id"):
        for value in ("9223372036854775808", "-1", "x"):
            response = client.get(f"/crm/sales_orders/new?{arg}={value}")
            assert response.status_code == 200, (arg, value)
    response = client.get("/crm/contracts/new?account_id=9223372036854775808")
    assert response.status_code == 200


def test_actions_that_cannot_be_undone_ask_first(app, client, auth, classroom):
    """Confirm, Mark delivered and Close order, and a contract's Complete, were
    one click; the page's form now carries the question the browser asks."""
    auth.login("alice")
    url, _account = active_contract_order(app, classroom, client)  # confirmed
    order_id = int(url.rsplit("/", 1)[1])
    number = classroom.in_tenant(app, lambda s: s.get(SalesOrder, order_id).number)
    page = client.get(url).get_data(as_text=True)
    deliver = page.split(f'action="{url}/deliver"', 1)[1].split(">", 1)[0]
    assert (
        f'data-confirm="Mark order {number} as delivered? This cannot be undone."'
        in deliver
    )
    contract = classroom.in_tenant(app, lambda s: s.get(SalesOrder, order_id).contract)
    contract_url = f"/crm/contracts/{contract.id}"
    page = client.get(contract_url).get_data(as_text=True)
    complete = page.split(f'action="{contract_url}/complete"', 1)[1].split(">", 1)[0]
    assert f"Complete contract {contract.number}? This cannot be undone." in complete
