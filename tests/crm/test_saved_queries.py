"""Saved queries (我的查询): every list page keeps its search, filters, sort, page
size and columns under a name, in the student's own CRM, next to four defaults."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa

from sandbox.crm.registry import app_modules
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.saved_queries import SavedQuery
from tests.crm.test_kit import list_urls
from tests.helpers import view_as_instructor


def table(page: str) -> tuple[list[str], list[str]]:
    """The list's column headers and its rows, as rendered."""
    head = re.search(r"<thead>(.*?)</thead>", page, re.S)
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    headers = (
        re.findall(r'class="sort-link"[^>]*>([^<]+)', head.group(1)) if head else []
    )
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if body else []
    return [h.strip() for h in headers], rows


def save_form_args(page: str) -> str:
    """What the page's "Save query as" form would send as the list's state."""
    found = re.search(r'<input type="hidden" name="args" value="([^"]*)"', page)
    return html.unescape(found.group(1))


def save_query(client, page: str, module: str, name: str):
    return client.post(
        "/crm/queries/save",
        data={"module": module, "args": save_form_args(page), "name": name},
    )


def query_args(url: str) -> set[tuple[str, str]]:
    return set(parse_qsl(urlsplit(url).query))


def test_a_saved_query_reproduces_exactly_the_list_it_was_saved_from(
    app, client, auth, classroom
):
    auth.login("alice")
    url = (
        "/crm/accounts/?q=a&type=customer&sort=city&dir=desc&per_page=10"
        "&cols=name,city,revenue"
    )
    original = client.get(url).get_data(as_text=True)
    headers, rows = table(original)
    assert headers == ["Account name", "City", "Annual revenue"] and len(rows) > 3
    # Saved from its second page, the query keeps everything but the page.
    second = client.get(url + "&page=2").get_data(as_text=True)
    response = save_query(client, second, "accounts", "Customers by city")
    assert response.status_code == 302
    location = client.get("/crm/queries/1").headers["Location"]
    assert query_args(location) == query_args(url)
    again = client.get(location).get_data(as_text=True)
    assert table(again) == (headers, rows)
    assert "“Customers by city” saved under My queries." in again
    assert re.search(
        r'saved-query active" href="[^"]*" aria-current="true">Customers by city</a>',
        again,
    )


def test_saved_queries_reproduce_lists_with_their_own_filters_in_every_module(
    app, client, auth, classroom
):
    auth.login("alice")
    for url, module in (
        ("/crm/leads/?rating=hot&sort=company&dir=desc&per_page=50", "leads"),
        ("/crm/contacts/?q=l&sort=name&per_page=20", "contacts"),
        ("/crm/opportunities/?sort=amount&dir=desc&per_page=10", "opportunities"),
    ):
        page = client.get(url).get_data(as_text=True)
        assert save_query(client, page, module, "Mine").status_code == 302
        query_id = classroom.in_tenant(
            app,
            lambda s, module=module: s.scalar(
                sa.select(SavedQuery.id).filter_by(module=module)
            ),
        )
        location = client.get(f"/crm/queries/{query_id}").headers["Location"]
        assert query_args(location) >= query_args(url), module
        assert table(client.get(location).get_data(as_text=True)) == table(page)


def test_one_students_saved_queries_never_appear_for_another(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.get("/crm/accounts/?q=ltd").get_data(as_text=True)
    save_query(client, page, "accounts", "Alice's limited companies")
    assert "Alice&#39;s limited companies" in client.get("/crm/accounts/").get_data(
        as_text=True
    )
    auth.logout()
    auth.login("bob")
    for url in ("/crm/accounts/", "/crm/queries/?module=accounts"):
        assert "limited companies" not in client.get(url).get_data(as_text=True)
    assert client.get("/crm/queries/1").status_code == 404
    assert client.post("/crm/queries/1/delete").status_code == 404
    stored = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(SavedQuery)), 1
    )
    assert stored == 0


def test_queries_are_renamed_and_deleted_and_names_must_be_unique(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.get("/crm/accounts/?q=a").get_data(as_text=True)
    save_query(client, page, "accounts", "First")
    page = client.get("/crm/accounts/?q=b").get_data(as_text=True)
    refused = save_query(client, page, "accounts", " first ")
    text = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "You already have a query named “first”." in text
    empty = client.post(
        "/crm/queries/save", data={"module": "accounts", "args": "q=b", "name": " "}
    )
    assert "This field is required." in client.get(empty.headers["Location"]).get_data(
        as_text=True
    )
    save_query(client, page, "accounts", "Second")
    clash = client.post("/crm/queries/2/rename", data={"name": "FIRST"})
    assert clash.status_code == 422
    assert "You already have a query named “FIRST”." in clash.get_data(as_text=True)
    client.post("/crm/queries/2/rename", data={"name": "B accounts"})
    confirm = client.get("/crm/queries/1/delete").get_data(as_text=True)
    assert "Only the saved query is deleted; no records are changed." in confirm
    client.post("/crm/queries/1/delete")
    names = classroom.in_tenant(
        app, lambda s: [(q.name, q.args) for q in s.scalars(sa.select(SavedQuery))]
    )
    assert names == [("B accounts", "q=b&sort=name&dir=asc&per_page=20")]
    manage = client.get("/crm/queries/?module=accounts").get_data(as_text=True)
    listed = re.findall(r'<td><a href="/crm/accounts/\?[^"]*">([^<]+)</a></td>', manage)
    assert listed == ["B accounts"]
    # The same name may be used in another module.
    page = client.get("/crm/contacts/").get_data(as_text=True)
    assert save_query(client, page, "contacts", "B accounts").status_code == 302


def test_every_list_offers_the_four_default_queries(app, client, auth, classroom):
    auth.login("alice")
    for url in list_urls(app):
        page = client.get(url).get_data(as_text=True)
        if "record-list" not in page:
            continue
        defaults = re.findall(r'class="dropdown-item default-query[^"]*"', page)
        assert len(defaults) == 4, url
        for label in ("All records", "My records", "Created this week"):
            assert label in page, (url, label)
    with app.test_request_context():
        assert len(app_modules()) > 5


def test_my_records_created_this_week_and_recently_changed(
    app, client, auth, classroom
):
    def prepare(session):
        me = session.scalar(sa.select(Colleague).where(Colleague.is_self))
        for account in session.scalars(sa.select(Account)):
            account.created_at = account.updated_at = dt.datetime(2020, 1, 1)
        session.add(Account(name="Fresh Start Ltd", account_type="prospect"))
        session.commit()
        touched = session.scalar(sa.select(Account).order_by(Account.id).limit(1))
        touched.phone = "010-1234"
        session.commit()
        mine = session.scalars(
            sa.select(Account.name).where(Account.owner_id == me.id)
        ).all()
        return sorted(mine), touched.name

    mine, touched = classroom.in_tenant(app, prepare)
    auth.login("alice")

    def names(url):
        page = client.get(url).get_data(as_text=True)
        return re.findall(r'<td><a href="/crm/accounts/\d+">([^<]+)</a>', page)

    assert mine and sorted(names("/crm/accounts/?mine=1&per_page=100")) == mine
    assert names("/crm/accounts/?created=week&sort=created&dir=desc") == [
        "Fresh Start Ltd"
    ]
    assert names("/crm/accounts/?changed=7d&sort=updated&dir=desc") == [
        touched,
        "Fresh Start Ltd",
    ]


def test_a_search_keeps_the_chosen_default_query_and_columns(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.get("/crm/accounts/?mine=1&cols=name,city").get_data(as_text=True)
    search = page.split('role="search"')[2].split("</form>")[0]
    assert '<input type="hidden" name="mine" value="1">' in search
    assert '<input type="hidden" name="cols" value="name,city">' in search
    assert 'class="btn btn-link" href="/crm/accounts/"' in page  # Clear


def test_columns_are_chosen_from_the_list_and_junk_shows_them_all(
    app, client, auth, classroom
):
    auth.login("alice")
    chosen = client.get("/crm/accounts/?cols=city&cols=name").get_data(as_text=True)
    headers, rows = table(chosen)
    assert headers == ["Account name", "City"]
    assert all(len(re.findall(r"<td", row)) == 2 for row in rows)
    everything = table(client.get("/crm/accounts/").get_data(as_text=True))[0]
    for junk in ("nope", ",,,", "x" * 500):
        assert (
            table(client.get(f"/crm/accounts/?cols={junk}").get_data(as_text=True))[0]
            == everything
        )


def test_the_read_only_view_sees_the_students_queries_but_cannot_save(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.get("/crm/accounts/?q=a").get_data(as_text=True)
    save_query(client, page, "accounts", "Alice's A")
    auth.logout()
    view_as_instructor(client, auth, classroom)
    page = client.get("/crm/accounts/").get_data(as_text=True)
    assert "Alice&#39;s A" in page and "save-query" not in page
    response = client.post(
        "/crm/queries/save", data={"module": "accounts", "args": "", "name": "X"}
    )
    assert response.status_code == 403
