"""Contacts: list, search, create linked to an account, edit, delete."""

from __future__ import annotations

import re

import sqlalchemy as sa

from sandbox.models.crm import Account, AuditLog, Contact
from tests.helpers import make_contact


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
    assert page.status_code == 422
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
    # A contact nothing else refers to (the scenario's have deals, cases, staff).
    cid = classroom.in_tenant(app, lambda s: make_contact(s, last_name="Loner").id)
    auth.login("alice")
    assert (
        client.post(
            f"/crm/contacts/{cid}/edit",
            data={"first_name": "Ada", "last_name": "Lovelace", "account_id": ""},
        ).status_code
        == 302
    )
    assert "Ada Lovelace" in client.get(f"/crm/contacts/{cid}").get_data(as_text=True)
    assert "This cannot be undone." in client.get(
        f"/crm/contacts/{cid}/delete"
    ).get_data(as_text=True)
    assert client.post(f"/crm/contacts/{cid}/delete").location == "/crm/contacts/"
    assert client.get(f"/crm/contacts/{cid}").status_code == 404
    actions = classroom.in_tenant(
        app,
        lambda s: list(
            s.scalars(
                sa.select(AuditLog.action)
                .filter_by(entity="contact", entity_id=cid)
                .order_by(AuditLog.id)
            )
        ),
    )
    assert actions == ["create", "update", "delete"]


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


def test_role_and_reports_to_show_on_both_contacts(app, client, auth, classroom):
    boss_id = classroom.in_tenant(
        app, lambda s: make_contact(s, first_name="Hong", last_name="Li").id
    )
    auth.login("alice")
    response = client.post(
        "/crm/contacts/new",
        data={
            "first_name": "Fang",
            "last_name": "Zhou",
            "account_id": "",
            "role": "technical_buyer",
            "reports_to_id": "",
            "reports_to_id_label": "Hong Li",
        },
    )
    assert response.status_code == 302
    contact_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).get_data(as_text=True)
    assert "Technical evaluator" in page
    assert f'<a href="/crm/contacts/{boss_id}">Hong Li</a>' in page
    boss = client.get(f"/crm/contacts/{boss_id}").get_data(as_text=True)
    assert f'<a href="/crm/contacts/{contact_id}">Fang Zhou</a>' in boss
    unknown = client.post(
        "/crm/contacts/new", data={"last_name": "X", "role": "astronaut"}
    )
    assert "Not a valid choice" in unknown.get_data(as_text=True)


def test_reports_to_cannot_go_round_in_a_circle(app, client, auth, classroom):
    def chain(session):
        top = make_contact(session, last_name="Top")
        middle = make_contact(session, last_name="Middle", reports_to_id=top.id)
        return top.id, middle.id

    top_id, middle_id = classroom.in_tenant(app, chain)
    auth.login("alice")
    loop = client.post(
        f"/crm/contacts/{top_id}/edit",
        data={"first_name": "", "last_name": "Top", "reports_to_id": middle_id},
    )
    assert "That contact already reports to this one" in loop.get_data(as_text=True)
    itself = client.post(
        f"/crm/contacts/{top_id}/edit",
        data={"first_name": "", "last_name": "Top", "reports_to_id": top_id},
    )
    assert "cannot report to themselves" in itself.get_data(as_text=True)
    assert (
        classroom.in_tenant(app, lambda s: s.get(Contact, top_id).reports_to_id) is None
    )


def test_a_duplicate_email_or_mobile_is_a_warning_not_a_refusal(
    app, client, auth, classroom
):
    existing_id = classroom.in_tenant(
        app,
        lambda s: (
            make_contact(
                s,
                first_name="Wei",
                last_name="Zhang",
                email="wei.zhang@example.cn",
                mobile="138 0013 8000",
            ).id
        ),
    )
    auth.login("alice")
    response = client.post(
        "/crm/contacts/new",
        data={
            "first_name": "Wei",
            "last_name": "Zhang",
            "email": "Wei.Zhang@Example.cn",
            "mobile": "138-0013-8000",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Contact “Wei Zhang” created." in page
    assert "Possible duplicate: Wei Zhang has the same email." in page
    assert "Possible duplicate: Wei Zhang has the same mobile." in page
    new_id = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.max(Contact.id)))
    )
    assert new_id != existing_id

    form = client.get(f"/crm/contacts/{new_id}/edit").get_data(as_text=True)
    assert re.search(
        r"Possible duplicate, also used by: "
        rf'<a href="/crm/contacts/{existing_id}">Wei Zhang</a>',
        form,
    )
    assert form.count("duplicate-warning") == 2  # under email and under mobile
    unique = client.post(
        f"/crm/contacts/{new_id}/edit",
        data={"last_name": "Zhang", "email": "other@example.cn", "mobile": ""},
        follow_redirects=True,
    )
    assert "Possible duplicate" not in unique.get_data(as_text=True)


def test_a_contacts_page_lists_their_deals_and_service_cases(
    app, client, auth, classroom
):
    from sandbox.models.crm.sales import Opportunity
    from sandbox.models.crm.service import Case

    def someone_busy(session):
        contact = session.scalar(
            sa.select(Case.contact_id)
            .where(Case.contact_id.in_(sa.select(Opportunity.contact_id)))
            .limit(1)
        )
        deals = session.scalars(
            sa.select(Opportunity.name).where(Opportunity.contact_id == contact)
        ).all()
        cases = session.scalars(
            sa.select(Case.number).where(Case.contact_id == contact)
        ).all()
        return contact, deals, cases

    contact, deals, cases = classroom.in_tenant(app, someone_busy)
    assert contact and deals and cases  # the scenario has such a contact
    auth.login("alice")
    page = client.get(f"/crm/contacts/{contact}").get_data(as_text=True)
    for name in [*deals, *cases][:10]:
        assert name in page
    assert 'id="opportunities"' in page and 'id="cases"' in page
