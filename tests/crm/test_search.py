"""Global search: grouped by module, substring for text, record numbers by prefix
with * as a wildcard, one query per module."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint

from sandbox.crm.registry import Module, column, register_module, unregister_module
from sandbox.models.crm.products import Product
from tests.conftest import close_app, make_app
from tests.helpers import clear, make_account, make_contact


@pytest.fixture
def app(tmp_path):
    """The app with a throwaway "orders" module whose records carry a number (the
    product code stands in for an order number)."""
    bp = Blueprint("orders", __name__)

    @bp.route("/")
    def index():
        return "orders"

    @bp.route("/<id:order_id>")
    def detail(order_id):
        return f"order {order_id}"

    register_module(
        Module(
            key="orders",
            label="Orders",
            entity_label="Order",
            noun="order",
            icon="receipt",
            model=Product,
            blueprint=bp,
            group="sales",
            order=90,
            id_arg="order_id",
            search=(Product.name, Product.code),
            columns=(column(Product.name, kind="link"),),
            extra={"number": Product.code},
        )
    )
    app = make_app(tmp_path / "instance")
    yield app
    close_app(app)
    unregister_module("orders")


@pytest.fixture
def orders(app, classroom):
    def add(session):
        clear(session, "product")  # a known set of numbers
        for code, name in (
            ("20150401", "Spring order"),
            ("0401-A", "April order"),
            ("X-0401", "Export order"),
            ("7788", "Tea 0401 order"),
        ):
            session.add(Product(code=code, name=name, list_price=1))
        session.commit()

    classroom.in_tenant(app, add)


def found(client, q: str, module: str = "orders") -> list[str]:
    page = client.get("/crm/search", query_string={"q": q}).get_data(as_text=True)
    section = re.search(
        rf'<section[^>]*aria-labelledby="results-{module}">(.*?)</section>', page, re.S
    )
    if section is None:
        return []
    names = re.findall(r'<a href="/crm/\w+/\d+">([^<]+)</a>', section.group(1))
    return [name.split(" (")[0] for name in names]  # a product's name shows its code


def test_results_are_grouped_by_module_with_counts(app, client, auth, classroom):
    classroom.in_tenant(app, lambda s: make_account(s, name="Wombat Holdings"))
    classroom.in_tenant(app, lambda s: make_contact(s, last_name="Wombatson"))
    auth.login("alice")
    page = client.get("/crm/search?q=wombat").get_data(as_text=True)
    accounts = page.index('id="results-accounts"')
    contacts = page.index('id="results-contacts"')
    assert accounts < contacts  # navigation order
    assert found(client, "wombat", "accounts") == ["Wombat Holdings"]
    assert found(client, "wombat", "contacts") == ["Lin Wombatson"]
    assert 'id="results-orders"' not in page  # no empty groups


def test_a_group_shows_its_total_and_links_to_the_full_list(
    app, client, auth, classroom
):
    for n in range(7):
        classroom.in_tenant(app, lambda s, n=n: make_account(s, name=f"Kiwi Co {n}"))
    auth.login("alice")
    page = client.get("/crm/search?q=kiwi+co").get_data(as_text=True)
    assert len(found(client, "kiwi co", "accounts")) == 5
    assert re.search(r'results-accounts">.*?<span class="badge[^"]*">7</span>', page)
    assert "/crm/accounts/?q=kiwi+co" in page


def test_record_numbers_match_from_their_start(app, client, auth, classroom, orders):
    auth.login("alice")
    # "0401" is a prefix of one number only; the text search still finds "Tea 0401"
    assert sorted(found(client, "0401")) == ["April order", "Tea 0401 order"]
    assert found(client, "2015") == ["Spring order"]
    assert found(client, "x-04") == ["Export order"]  # case does not matter
    page = client.get("/crm/search?q=0401").get_data(as_text=True)
    assert '<span class="text-muted me-2 record-number">0401-A</span>' in page


def test_a_star_is_a_wildcard(app, client, auth, classroom, orders):
    auth.login("alice")
    assert sorted(found(client, "*0401")) == [
        "April order",
        "Export order",
        "Spring order",
        "Tea 0401 order",
    ]
    assert sorted(found(client, "2015*01")) == ["Spring order"]
    assert found(client, "77*8") == ["Tea 0401 order"]
    assert found(client, "Spr*order") == ["Spring order"]  # in text too
    page = client.get("/crm/search?q=**").get_data(as_text=True)
    assert "Type some letters or digits besides *." in page
    assert "results-" not in page


def test_percent_and_underscore_are_plain_text(app, client, auth, classroom, orders):
    classroom.in_tenant(app, lambda s: make_account(s, name="100% Pure_Water"))
    auth.login("alice")
    assert found(client, "%", "accounts") == ["100% Pure_Water"]
    assert found(client, "e_w", "accounts") == ["100% Pure_Water"]
    assert found(client, "_") == []  # no order number has an underscore


def test_search_runs_one_query_per_module_whatever_it_finds(
    app, client, auth, classroom
):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    auth.login("alice")
    client.get("/crm/search?q=zz")  # warm up the session's one-off reads
    counts = []
    for q in ("zzzz-nothing", "a"):
        statements: list[str] = []

        def count(conn, cursor, statement, *args, statements=statements):
            statements.append(statement)

        event.listen(Engine, "before_cursor_execute", count)
        try:
            client.get("/crm/search", query_string={"q": q})
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]  # many results cost no more queries than none
    assert len(found(client, "a", "contacts")) == 5
