"""The product lines shared by opportunities, contracts and sales orders: the line
arithmetic, adding / changing / removing a line in one transaction, and the line
columns every document's line table has."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm import lines
from sandbox.models.crm import Account
from sandbox.models.crm.contracts import Contract, ContractLine
from sandbox.models.crm.orders import OrderLine
from sandbox.models.crm.products import Product
from sandbox.models.crm.sales import LineItem
from tests.conftest import close_app, make_app
from tests.helpers import memory_tenant_engine


class Refused(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _open_only(contract: Contract) -> None:
    if contract.status != "draft":
        raise Refused("closed")


KIND = lines.LineKind(
    model=ContractLine, parent_key="contract_id", refused=Refused, check=_open_only
)


@pytest.fixture(scope="module")
def lines_app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("lines") / "instance")
    yield app
    close_app(app)


@pytest.fixture
def session(lines_app):
    """A draft contract typed at 500.00, without lines; two products."""
    engine = memory_tenant_engine()
    with lines_app.test_request_context(), sa.orm.Session(engine) as session:
        session.add_all(
            [
                Account(id=1, name="Acme", name_key="acme"),
                Product(id=1, code="SRV", name="Server", list_price=Decimal("1000")),
                Product(id=2, code="LIC", name="Licence", list_price=Decimal("33.33")),
                Contract(
                    id=1,
                    number="HT-2026-0001",
                    title="Rollout",
                    account_id=1,
                    start_date=dt.date(2026, 1, 1),
                    end_date=dt.date(2026, 12, 31),
                    amount=Decimal("500.00"),
                ),
            ]
        )
        session.commit()
        yield session
    engine.dispose()


def contract(session) -> Contract:
    return session.get(Contract, 1)


def line_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(ContractLine))


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "total"),
    [
        ("3", "33.33", "10", "89.99"),  # 89.991
        ("1", "0.05", "50", "0.03"),  # 0.025, half up
        ("2.5", "100", "0", "250.00"),
        ("7", "19.99", "100", "0.00"),
    ],
)
def test_a_line_total_is_quantity_times_price_less_the_discount_to_the_cent(
    quantity, price, discount, total
):
    assert lines.line_total(
        Decimal(quantity), Decimal(price), Decimal(discount)
    ) == Decimal(total)


def test_a_total_beyond_the_money_fields_is_refused_on_the_quantity(session):
    with pytest.raises(Refused) as refused:
        lines.checked_line_total(
            Decimal("10000000"), Decimal("1000000"), Decimal("0"), Refused
        )
    assert refused.value.field == "quantity"
    assert "too large" in refused.value.message
    assert lines.checked_line_total(
        Decimal("2"), Decimal("10"), Decimal("0"), Refused
    ) == Decimal("20.00")


def test_lines_are_added_at_the_end_at_list_price_and_the_amount_is_their_sum(
    session,
):
    doc = contract(session)
    first = lines.save_line(
        session, doc, None, {"product_id": 1, "quantity": Decimal("2")}, KIND
    )
    second = lines.save_line(
        session,
        doc,
        None,
        {"product_id": 2, "quantity": Decimal("3"), "discount": Decimal("10")},
        KIND,
    )
    assert (first.position, second.position) == (1, 2)
    assert first.unit_price == Decimal("1000.00")
    assert second.total == Decimal("89.99")
    assert contract(session).amount == Decimal("2089.99")

    lines.save_line(
        session,
        doc,
        first,
        {"product_id": 1, "quantity": Decimal("1"), "unit_price": Decimal("900")},
        KIND,
    )
    assert first.position == 1
    assert first.total == Decimal("900.00")
    assert contract(session).amount == Decimal("989.99")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"product_id": 99, "quantity": Decimal("1")}, "product_id"),
        ({"product_id": None, "quantity": Decimal("1")}, "product_id"),
        ({"product_id": 1, "quantity": Decimal("100000000000")}, "quantity"),
    ],
)
def test_a_refused_line_writes_nothing(session, data, field):
    with pytest.raises(Refused) as refused:
        lines.save_line(session, contract(session), None, data, KIND)
    assert refused.value.field == field
    assert line_count(session) == 0
    assert contract(session).amount == Decimal("500.00")


def test_a_document_that_takes_no_changes_keeps_its_lines_and_amount(session):
    doc = contract(session)
    line = lines.save_line(
        session, doc, None, {"product_id": 1, "quantity": Decimal("1")}, KIND
    )
    doc.status = "active"
    session.commit()
    with pytest.raises(Refused):
        lines.save_line(
            session, doc, line, {"product_id": 1, "quantity": Decimal("5")}, KIND
        )
    with pytest.raises(Refused):
        lines.remove_line(session, doc, line, KIND)
    assert line_count(session) == 1
    assert session.get(ContractLine, line.id).quantity == Decimal("1.00")
    assert contract(session).amount == Decimal("1000.00")


def test_the_after_hook_runs_in_the_same_transaction(session):
    doc = contract(session)

    def fail() -> None:
        raise RuntimeError("audit failed")

    with pytest.raises(RuntimeError):
        lines.save_line(
            session,
            doc,
            None,
            {"product_id": 1, "quantity": Decimal("1")},
            KIND,
            after=fail,
        )
    assert line_count(session) == 0
    assert contract(session).amount == Decimal("500.00")

    seen = []
    lines.save_line(
        session,
        doc,
        None,
        {"product_id": 1, "quantity": Decimal("1")},
        KIND,
        after=lambda: seen.append(contract(session).amount),
    )
    assert seen == [Decimal("1000.00")]


def test_removing_the_last_line_keeps_the_amount(session):
    doc = contract(session)
    first = lines.save_line(
        session, doc, None, {"product_id": 1, "quantity": Decimal("1")}, KIND
    )
    second = lines.save_line(
        session, doc, None, {"product_id": 2, "quantity": Decimal("3")}, KIND
    )
    lines.remove_line(session, doc, first, KIND)
    assert contract(session).amount == Decimal("99.99")
    lines.remove_line(session, doc, second, KIND)
    assert line_count(session) == 0
    assert contract(session).amount == Decimal("99.99")


def test_every_document_line_table_has_the_same_product_columns():
    names = ["product_id", "position", "quantity", "unit_price", "discount", "total"]
    for model, parent_key in (
        (LineItem, "opportunity_id"),
        (ContractLine, "contract_id"),
        (OrderLine, "order_id"),
    ):
        table = model.__table__
        assert [c.name for c in table.columns] == ["id", parent_key, *names]
        (key,) = table.c.product_id.foreign_keys
        assert (key.column.table.name, key.ondelete) == ("product", "RESTRICT")
        assert table.c.product_id.index
    assert (
        [str(c.type) for c in LineItem.__table__.columns][2:]
        == [str(c.type) for c in ContractLine.__table__.columns][2:]
        == [str(c.type) for c in OrderLine.__table__.columns][2:]
    )


def test_a_line_copied_to_another_document_keeps_its_product_and_figures():
    deal_line = LineItem(
        id=7,
        opportunity_id=3,
        product_id=2,
        position=4,
        quantity=Decimal("5"),
        unit_price=Decimal("99.99"),
        discount=Decimal("4"),
        total=Decimal("479.95"),
    )
    copy = ContractLine.copied_from(deal_line)
    assert isinstance(copy, ContractLine)
    assert copy.id is None and copy.contract_id is None
    assert (
        copy.product_id,
        copy.position,
        copy.quantity,
        copy.unit_price,
        copy.discount,
        copy.total,
    ) == (2, 4, Decimal("5"), Decimal("99.99"), Decimal("4"), Decimal("479.95"))
    assert isinstance(OrderLine.copied_from(copy), OrderLine)
