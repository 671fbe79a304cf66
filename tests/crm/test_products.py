"""Products and categories: list filters, unique codes, prices, deactivation and
deletes that deals block."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.products.service import (
    InactiveProduct,
    active_products,
    ensure_can_add,
    set_active,
)
from sandbox.models.crm import AuditLog
from sandbox.models.crm.products import Product, ProductCategory
from sandbox.models.crm.sales import LineItem
from tests.crm.test_competitors import make_deal


def codes_on(page) -> list[str]:
    return re.findall(
        r'<a href="/crm/products/\d+">([^<]+)</a>', page.get_data(as_text=True)
    )


def make_product(session, code="TST-1", **extra) -> Product:
    values = {"name": "Test product", "list_price": Decimal("10.00"), **extra}
    product = Product(code=code, **values)
    session.add(product)
    session.commit()
    return product


def test_scenario_has_a_catalogue(app, classroom):
    def counts(session):
        return (
            session.scalar(sa.select(sa.func.count(Product.id))),
            session.scalar(sa.select(sa.func.count(ProductCategory.id))),
        )

    products, categories = classroom.in_tenant(app, counts)
    assert products >= 8 and categories >= 3


def test_list_filters_by_category_and_status_and_searches_codes(
    app, client, auth, classroom
):
    def setup(session):
        category = ProductCategory(name="Consumables")
        session.add(category)
        session.commit()
        make_product(session, "CON-1", name="Paper", category_id=category.id)
        make_product(
            session, "CON-2", name="Toner", category_id=category.id, active=False
        )
        return category.id

    category_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    assert codes_on(client.get(f"/crm/products/?category={category_id}")) == [
        "CON-1",
        "CON-2",
    ]
    active = codes_on(
        client.get(f"/crm/products/?category={category_id}&active=active")
    )
    assert active == ["CON-1"]
    inactive = codes_on(client.get("/crm/products/?active=inactive"))
    assert inactive == ["CON-2"]
    assert codes_on(client.get("/crm/products/?q=toner")) == ["CON-2"]
    assert codes_on(client.get("/crm/products/?q=con-1")) == ["CON-1"]
    # junk filter values match nothing instead of failing
    assert client.get("/crm/products/?category=abc&active=zzz").status_code == 200


def test_create_with_money_and_unit(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/products/new",
        data={
            "code": "new-01",
            "name": "New gadget",
            "unit": "set",
            "list_price": "1,234.50",
            "cost": "600",
        },
    )
    assert response.status_code == 302
    product = classroom.in_tenant(
        app,
        lambda s: s.scalars(sa.select(Product).where(Product.code == "NEW-01")).one(),
    )
    assert product.list_price == Decimal("1234.50") and product.cost == Decimal("600")
    assert product.active and product.unit == "set"


def test_bad_prices_and_codes_get_messages_beside_the_fields(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.post(
        "/crm/products/new",
        data={"code": "bad code!", "name": "X", "unit": "each", "list_price": "1.234"},
    ).get_data(as_text=True)
    assert "Use letters, digits, dots, dashes and underscores" in page
    assert "at most two decimals" in page
    page = client.post(
        "/crm/products/new",
        data={"code": "OK-1", "name": "X", "unit": "each", "list_price": ""},
    ).get_data(as_text=True)
    assert "This field is required." in page
    assert (
        classroom.in_tenant(
            app, lambda s: s.scalar(sa.select(Product.id).where(Product.code == "OK-1"))
        )
        is None
    )


def test_product_code_is_unique_with_a_clear_error(app, client, auth, classroom):
    code, name = classroom.in_tenant(
        app, lambda s: s.execute(sa.select(Product.code, Product.name).limit(1)).one()
    )
    auth.login("alice")
    page = client.post(
        "/crm/products/new",
        data={"code": code.lower(), "name": "Copy", "unit": "each", "list_price": "1"},
    ).get_data(as_text=True)
    assert f"The product code “{code}” is already used by “{name}”." in page
    other_id = classroom.in_tenant(app, lambda s: make_product(s, "UNIQUE-2").id)
    page = client.post(
        f"/crm/products/{other_id}/edit",
        data={"code": code, "name": "Copy", "unit": "each", "list_price": "1"},
    ).get_data(as_text=True)
    assert "is already used by" in page
    assert classroom.in_tenant(app, lambda s: s.get(Product, other_id).code) == (
        "UNIQUE-2"
    )


def test_deactivated_products_leave_active_products_and_cannot_be_added(
    app, client, auth, classroom
):
    product_id = classroom.in_tenant(app, lambda s: make_product(s, "OLD-1").id)
    auth.login("alice")
    assert client.post(f"/crm/products/{product_id}/deactivate").status_code == 302

    def check(session):
        product = session.get(Product, product_id)
        assert not product.active
        assert product_id not in {p.id for p in session.scalars(active_products())}
        with pytest.raises(InactiveProduct):
            ensure_can_add(product)
        return session.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "product", AuditLog.entity_id == product_id
            )
        ).all()

    assert "deactivate" in classroom.in_tenant(app, check)
    page = client.get(f"/crm/products/{product_id}").get_data(as_text=True)
    assert "Deactivated product" in page and "Reactivate" in page
    client.post(f"/crm/products/{product_id}/activate")
    assert classroom.in_tenant(
        app, lambda s: ensure_can_add(s.get(Product, product_id)).active
    )


def test_a_product_on_deal_lines_cannot_be_deleted_only_deactivated(
    app, client, auth, classroom
):
    def setup(session):
        product = make_product(session, "USED-1")
        deal = make_deal(session, "Deal with line", "proposal", "20")
        session.add(
            LineItem(
                opportunity_id=deal.id,
                product_id=product.id,
                quantity=Decimal("2"),
                unit_price=Decimal("10"),
                total=Decimal("20"),
            )
        )
        session.commit()
        return product.id

    product_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    page = client.get(f"/crm/products/{product_id}").get_data(as_text=True)
    assert "Used on 1 deal line." in page
    confirm = client.get(f"/crm/products/{product_id}/delete").get_data(as_text=True)
    assert "It cannot be deleted while those records depend on it." in confirm
    response = client.post(f"/crm/products/{product_id}/delete", data={"detach": "y"})
    assert response.status_code == 409
    assert classroom.in_tenant(app, lambda s: s.get(Product, product_id)) is not None
    client.post(f"/crm/products/{product_id}/deactivate")
    assert not classroom.in_tenant(app, lambda s: s.get(Product, product_id).active)


def test_an_unused_product_deletes(app, client, auth, classroom):
    product_id = classroom.in_tenant(app, lambda s: make_product(s, "GONE-1").id)
    auth.login("alice")
    assert client.post(f"/crm/products/{product_id}/delete").status_code == 302
    assert classroom.in_tenant(app, lambda s: s.get(Product, product_id)) is None


def test_set_active_twice_writes_one_audit_row(app, classroom):
    def check(session):
        product = make_product(session, "TWICE-1")
        set_active(session, product, False)
        set_active(session, product, False)
        return session.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.entity_id == product.id, AuditLog.action == "deactivate"
            )
        )

    assert classroom.in_tenant(app, check) == 1


def test_categories_form_a_tree_without_loops(app, client, auth, classroom):
    auth.login("alice")
    response = client.post("/crm/product_categories/new", data={"name": "Parts"})
    parent_id = int(response.location.rsplit("/", 1)[1])
    response = client.post(
        "/crm/product_categories/new", data={"name": "Bolts", "parent_id": parent_id}
    )
    child_id = int(response.location.rsplit("/", 1)[1])
    listing = client.get("/crm/product_categories/?q=bolts").get_data(as_text=True)
    assert "Bolts" in listing and "Parts" in listing  # the parent column
    page = client.post(
        f"/crm/product_categories/{parent_id}/edit",
        data={"name": "Parts", "parent_id": child_id},
    ).get_data(as_text=True)
    assert "cannot sit under itself or one of its sub-categories" in page
    assert (
        classroom.in_tenant(app, lambda s: s.get(ProductCategory, parent_id).parent_id)
        is None
    )
    page = client.post("/crm/product_categories/new", data={"name": "bolts "}).get_data(
        as_text=True
    )
    assert "A category named “Bolts” already exists." in page
    detail = client.get(f"/crm/product_categories/{child_id}").get_data(as_text=True)
    assert "Parts › Bolts" in detail


@pytest.mark.parametrize("name", ["Ärzte-Bedarf", "ŞİRKET", "Œuvres"])
def test_a_second_category_of_a_non_ascii_name_is_refused_not_a_500(
    client, auth, classroom, name
):
    auth.login("alice")
    assert (
        client.post("/crm/product_categories/new", data={"name": name}).status_code
        == 302
    )
    again = client.post("/crm/product_categories/new", data={"name": name})
    assert again.status_code == 422
    assert f"A category named “{name}” already exists." in again.get_data(as_text=True)


def test_deleting_a_category_unlinks_its_products_when_asked(
    app, client, auth, classroom
):
    def setup(session):
        category = ProductCategory(name="Temporary")
        session.add(category)
        session.commit()
        return category.id, make_product(session, "TMP-1", category_id=category.id).id

    category_id, product_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    assert (
        client.post(f"/crm/product_categories/{category_id}/delete").status_code == 409
    )
    client.post(f"/crm/product_categories/{category_id}/delete", data={"detach": "y"})
    assert (
        classroom.in_tenant(app, lambda s: s.get(Product, product_id).category_id)
        is None
    )


def test_instructor_view_cannot_change_products(app, client, auth, classroom):
    from tests.helpers import view_as_instructor

    view_as_instructor(client, auth, classroom)
    assert client.get("/crm/products/").status_code == 200
    assert client.post("/crm/products/1/deactivate").status_code == 403
    assert client.get("/crm/products/1/edit").status_code == 403
    assert (
        client.post("/crm/product_categories/new", data={"name": "X"}).status_code
        == 403
    )
