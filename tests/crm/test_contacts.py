"""Contacts: list, search, create linked to an account, edit, delete."""

from __future__ import annotations

import re

import sqlalchemy as sa

from sandbox.models.crm import Account, AuditLog, Contact


def test_list_and_search_by_account_name(app, client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/contacts/").get_data(as_text=True)
    assert "100 records · page 1 of 5" in page
    account = classroom.in_tenant(app, lambda s: s.get(Account, 1))
    expected = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count(Contact.id)).where(Contact.account_id == 1)
        ),
    )
    found = client.get(
        "/crm/contacts/", query_string={"q": account.name, "per_page": 100}
    )
    assert f"{expected} records" in found.get_data(as_text=True)


def test_create_contact_for_an_account(app, client, auth, classroom):
    auth.login("alice")
    form = client.get("/crm/contacts/new?account_id=2").get_data(as_text=True)
    account_name = classroom.in_tenant(app, lambda s: s.get(Account, 2).name)
    assert 'type="hidden" name="account_id" value="2"' in form
    assert f'name="account_id_label" value="{account_name}"' in form
    response = client.post(
        "/crm/contacts/new",
        data={
            "first_name": "Mei",
            "last_name": "Chen",
            "account_id": "2",
            "email": "mei@x.cn",
        },
    )
    assert response.status_code == 302
    contact_id = int(response.location.rsplit("/", 1)[1])
    account_page = client.get("/crm/accounts/2").get_data(as_text=True)
    assert "Mei Chen" in account_page

    def check(session):
        contact = session.get(Contact, contact_id)
        assert contact.account_id == 2
        assert (
            session.scalar(
                sa.select(AuditLog).filter_by(entity="contact", entity_id=contact_id)
            ).action
            == "create"
        )

    classroom.in_tenant(app, check)


def test_contact_needs_a_last_name_and_a_real_account(app, client, auth, classroom):
    auth.login("alice")
    page = client.post("/crm/contacts/new", data={"first_name": "No", "account_id": ""})
    assert "This field is required." in page.get_data(as_text=True)
    page = client.post(
        "/crm/contacts/new", data={"last_name": "X", "account_id": "9999"}
    )
    assert "The chosen record no longer exists." in page.get_data(as_text=True)
    page = client.post(
        "/crm/contacts/new", data={"last_name": "X", "account_id": "abc"}
    )
    assert page.status_code == 200
    assert (
        classroom.in_tenant(
            app, lambda s: s.scalar(sa.select(sa.func.count(Contact.id)))
        )
        == 100
    )


def test_chinese_names_read_family_name_first(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/contacts/new",
        data={"first_name": "小明", "last_name": "王", "account_id": ""},
    )
    assert "王小明" in client.get(response.location).get_data(as_text=True)


def test_edit_and_delete_contact(app, client, auth, classroom):
    auth.login("alice")
    assert (
        client.post(
            "/crm/contacts/1/edit",
            data={"first_name": "Ada", "last_name": "Lovelace", "account_id": ""},
        ).status_code
        == 302
    )
    assert "Ada Lovelace" in client.get("/crm/contacts/1").get_data(as_text=True)
    assert "This cannot be undone." in client.get("/crm/contacts/1/delete").get_data(
        as_text=True
    )
    assert client.post("/crm/contacts/1/delete").location == "/crm/contacts/"
    assert client.get("/crm/contacts/1").status_code == 404
    actions = classroom.in_tenant(
        app,
        lambda s: list(
            s.scalars(
                sa.select(AuditLog.action)
                .filter_by(entity="contact", entity_id=1)
                .order_by(AuditLog.id)
            )
        ),
    )
    assert actions == ["update", "delete"]


def test_workbench_lists_recent_activity(client, auth, classroom):
    auth.login("alice")
    home = client.get("/").get_data(as_text=True)
    assert "No activity yet." in home
    client.post("/crm/contacts/new", data={"last_name": "Recent", "account_id": ""})
    home = client.get("/").get_data(as_text=True)
    assert "No activity yet." not in home
    assert re.search(
        r'Created contact <a class="fw-semibold" href="/crm/contacts/\d+">Recent</a>',
        home,
    )
