"""Export: every list as CSV and XLSX, with its filters, formula cells neutralised."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from sandbox.models.crm import Account, AuditLog, Colleague, Contact
from tests.crm.test_import import confirm, upload
from tests.helpers import make_account


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def names_on(page) -> list[str]:
    return re.findall(
        r'<a href="/crm/accounts/\d+">([^<]+)</a>', page.get_data(as_text=True)
    )


def test_list_page_offers_export_with_its_current_filters(client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/accounts/?q=a&type=customer&sort=city").get_data(
        as_text=True
    )
    link = re.search(r'href="(/crm/accounts/export\.csv[^"]*)"', page).group(1)
    assert "q=a" in link and "type=customer" in link and "sort=city" in link
    assert "/crm/accounts/import" in page


def test_csv_export_has_every_matching_row_in_the_lists_order(client, auth, classroom):
    auth.login("alice")
    response = client.get("/crm/accounts/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # once
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][0] == "Account name"  # the list's columns, labelled as on the page
    assert {"Account type", "City", "Owner", "Annual revenue"} <= set(rows[0])
    assert len(rows) == 51  # every account, not one page
    page = names_on(client.get("/crm/accounts/?sort=name&dir=desc&per_page=100"))
    exported = csv_rows(client.get("/crm/accounts/export.csv?sort=name&dir=desc"))
    assert [row[0] for row in exported[1:]] == page


def test_export_keeps_search_and_filters(app, client, auth, classroom):
    classroom.in_tenant(
        app,
        lambda s: make_account(
            s, name="Zhejiang Tea Export", city="Hangzhou", account_type="partner"
        ),
    )
    auth.login("alice")
    rows = csv_rows(client.get("/crm/accounts/export.csv?q=tea+export&type=partner"))
    assert [row[0] for row in rows[1:]] == ["Zhejiang Tea Export"]
    partners = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Account.account_type == "partner")
        ),
    )
    assert len(xlsx_rows(client.get("/crm/accounts/export.xlsx?type=partner"))) == (
        partners + 1
    )


def test_values_are_plain_labels_amounts_and_names(app, client, auth, classroom):
    classroom.in_tenant(
        app,
        lambda s: make_account(
            s,
            name="Plain Values Ltd",
            account_type="customer",
            annual_revenue="1234567.5",
            owner_id=1,
        ),
    )
    owner = classroom.in_tenant(app, lambda s: s.get(Colleague, 1).name)
    auth.login("alice")
    header, row = csv_rows(client.get("/crm/accounts/export.csv?q=Plain+Values"))
    cell = dict(zip(header, row, strict=True))
    assert cell["Account type"] == "Customer"
    assert cell["Annual revenue"] == "1234567.50" and cell["Owner"] == owner
    header, cells = xlsx_rows(client.get("/crm/accounts/export.xlsx?q=Plain+Values"))
    cell = dict(zip(header, cells, strict=True))
    assert cell["Account type"] == "Customer"
    assert cell["Annual revenue"] == pytest.approx(1234567.5)  # a number to add up

    client.post("/language", data={"language": "zh"})
    header, row = csv_rows(client.get("/crm/accounts/export.csv?q=Plain+Values"))
    assert (
        header[0] == "客户名称"
        and dict(zip(header, row, strict=True))["客户类型"] == "客户"
    )


def test_formula_cells_are_neutralised_in_csv_and_xlsx(app, client, auth, classroom):
    classroom.in_tenant(
        app,
        lambda s: make_account(
            s, name='=HYPERLINK("http://evil.example","x")', city="+1-555"
        ),
    )
    classroom.in_tenant(app, lambda s: make_account(s, name="@SUM(A1)", city="-2+3"))
    auth.login("alice")
    rows = csv_rows(client.get("/crm/accounts/export.csv?sort=name"))
    city = rows[0].index("City")
    by_name = {row[0]: row[city] for row in rows[1:]}
    assert by_name['\'=HYPERLINK("http://evil.example","x")'] == "'+1-555"
    assert by_name["'@SUM(A1)"] == "'-2+3"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)

    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/crm/accounts/export.xlsx").get_data())
    )
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)  # no formulas at all
    assert "'@SUM(A1)" in [c.value for c in cells]


def test_export_round_trips_through_import(app, client, auth, classroom):
    classroom.in_tenant(
        app, lambda s: make_account(s, name="=cmd|' /C calc'!A0", city="-Formula")
    )
    auth.login("alice")
    count = sa.select(sa.func.count(Account.id))
    before = classroom.in_tenant(app, lambda s: s.scalar(count))
    audits = sa.select(sa.func.count(AuditLog.id))
    audit_before = classroom.in_tenant(app, lambda s: s.scalar(audits))
    for fmt in ("csv", "xlsx"):
        exported = client.get(f"/crm/accounts/export.{fmt}").get_data()
        preview = upload(client, "accounts", exported, f"accounts.{fmt}")
        assert "0</span> to create" in preview and "0</span> rejected" in preview
        assert f"{before}</span> unchanged" in preview
    # change one cell in the exported file: that one account is updated
    rows = csv_rows(client.get("/crm/accounts/export.csv?q=calc"))
    rows[1][rows[0].index("City")] = "Ningbo"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    preview = upload(client, "accounts", out.getvalue().encode(), "accounts.csv")
    assert "1</span> to update" in preview
    confirm(client, "accounts", preview)
    assert classroom.in_tenant(app, lambda s: s.scalar(count)) == before
    updated = classroom.in_tenant(
        app,
        lambda s: s.scalars(sa.select(Account).where(Account.city == "Ningbo")).one(),
    )
    assert updated.name == "=cmd|' /C calc'!A0"  # the apostrophe was taken off again
    assert classroom.in_tenant(app, lambda s: s.scalar(audits)) == audit_before + 1


def test_contacts_export_names_accounts_without_a_query_per_row(
    app, client, auth, classroom
):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    auth.login("alice")
    event.listen(Engine, "before_cursor_execute", count)
    try:
        rows = csv_rows(client.get("/crm/contacts/export.csv"))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    contact_queries = [s for s in statements if "FROM contact" in s]
    assert len(contact_queries) == 1 and len(statements) < 15
    total = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Contact.id)))
    )
    assert len(rows) == total + 1

    def first_linked(session):
        contact = session.scalars(
            sa.select(Contact).where(Contact.account_id.is_not(None)).limit(1)
        ).one()
        return [contact.full_name, contact.account.name]

    expected = classroom.in_tenant(app, first_linked)
    assert any(row[:2] == expected for row in rows[1:])


def test_unknown_module_or_format_is_a_404(client, auth, classroom):
    auth.login("alice")
    assert client.get("/crm/nothing/export.csv").status_code == 404
    assert client.get("/crm/accounts/export.pdf").status_code == 404


def test_read_only_viewer_may_export_but_not_import(client, auth, classroom):
    from tests.helpers import view_as_instructor

    view_as_instructor(client, auth, classroom)
    assert client.get("/crm/accounts/export.csv").status_code == 200
    page = client.get("/crm/accounts/").get_data(as_text=True)
    assert "export.xlsx" in page and "/crm/accounts/import" not in page
    assert client.get("/crm/accounts/import").status_code == 403
    response = client.post(
        "/crm/accounts/import",
        data={"file": (io.BytesIO(b"Account name\nX\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403


def test_a_list_without_module_listing_still_exports_its_searched_records(tmp_path):
    """A module whose list page does not go through list_records exports every
    record matching ``?q=`` in its ``search`` columns."""
    from flask import Blueprint

    from sandbox.crm.registry import Module, column, register_module, unregister_module
    from tests.conftest import AuthActions, close_app, make_app
    from tests.helpers import make_course, make_student, make_user

    bp = Blueprint("plainlist", __name__)
    bp.add_url_rule("/", "index", lambda: "a hand-made list")
    bp.add_url_rule("/<id:item_id>", "detail", lambda item_id: "an item")
    register_module(
        Module(
            key="plainlist",
            label="Plain list",
            entity_label="Item",
            noun="item",
            icon="list",
            model=Contact,
            blueprint=bp,
            id_arg="item_id",
            search=(Contact.last_name,),
            columns=(column(Contact.last_name),),
        )
    )
    app = make_app(tmp_path / "instance")
    try:
        with app.app_context():
            from sandbox.models.control import Role

            course = make_course(instructors=[make_user("teacher", Role.INSTRUCTOR)])
            make_student(course, "alice")
        client = app.test_client()
        AuthActions(client).login("alice")
        client.get("/crm/contacts/")  # the scenario's contacts exist
        rows = csv_rows(client.get("/crm/plainlist/export.csv?q=zzz-nobody"))
        assert rows == [["Last name"]]
        everyone = csv_rows(client.get("/crm/plainlist/export.csv"))
        assert len(everyone) == 101
    finally:
        close_app(app)
        unregister_module("plainlist")
