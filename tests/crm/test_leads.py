"""Leads: list, filters, views, create and edit, qualify, assign, and conversion."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.crm.leads import service
from sandbox.crm.leads.service import (
    Conversion,
    NotConvertible,
    convert_lead,
    split_name,
)
from sandbox.models.crm import Account, AuditLog, Colleague, Contact
from sandbox.models.crm.campaigns import Campaign
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage, StageHistory
from tests.helpers import make_account, make_contact, view_as_instructor

SEEDED_LEADS = 40


def make_lead(session, **overrides: Any) -> Lead:
    values = {
        "name": "Ann Lee",
        "company": "Lakeside Robotics Works",
        "title": "CTO",
        "email": "ann@lakeside.example",
        "phone": "+1 555 0100",
        "source": "exhibition",
        "status": "qualified",
        "rating": "hot",
        **overrides,
    }
    lead = Lead(**values)
    session.add(lead)
    session.commit()
    return lead


def copy_of(record) -> SimpleNamespace:
    """The record's column values, readable after its session is gone."""
    mapper = sa.inspect(record).mapper
    return SimpleNamespace(
        **{a.key: getattr(record, a.key) for a in mapper.column_attrs}
    )


def names_on(page) -> list[str]:
    return re.findall(
        r'<a href="/crm/leads/\d+">([^<]+)</a>', page.get_data(as_text=True)
    )


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def snapshot(session) -> dict[str, int]:
    return {
        model.__name__: count(session, model)
        for model in (Account, Contact, Opportunity, StageHistory, AuditLog)
    }


def conversion_form(**overrides: str) -> dict[str, str]:
    return {
        "account_choice": "new",
        "account_name": "Lakeside Robotics Works",
        "contact_choice": "new",
        "first_name": "Ann",
        "last_name": "Lee",
        "create_opportunity": "y",
        "opportunity_name": "Lakeside welding cells",
        "amount": "125000.50",
        "close_date": "2027-03-31",
        "stage_id": "3",
        "owner_id": "1",
        **overrides,
    }


# ------------------------------------------------------------------ the list


def test_list_shows_the_columns_with_status_and_rating_badges(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.get("/crm/leads/?per_page=50").get_data(as_text=True)
    assert f"{SEEDED_LEADS} records" in page
    for header in ("Lead name", "Company", "Lead status", "Rating", "Lead source"):
        assert header in page
    assert ">Owner<" in page and ">Created on " in page
    date_cell = r'<td class="text-nowrap">[A-Z][a-z]{2} \d{1,2}, 20\d\d</td>'
    assert re.search(date_cell, page)  # a date, whole on one line
    assert '<span class="badge text-bg-info">New</span>' in page
    assert re.search(r'badge text-bg-(danger|warning|info)">(Hot|Warm|Cold)<', page)
    newest = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(Lead.name).order_by(Lead.created_at.desc(), Lead.id.desc())
        ).first(),
    )
    assert names_on(client.get("/crm/leads/"))[0] == newest  # newest first


def test_filters_by_status_rating_source_and_owner(app, client, auth, classroom):
    auth.login("alice")

    def expected(**where):
        return classroom.in_tenant(
            app,
            lambda s: sorted(s.scalars(sa.select(Lead.name).filter_by(**where))),
        )

    for arg, column, value in (
        ("status", "status", "unqualified"),
        ("rating", "rating", "hot"),
        ("source", "source", "web"),
        ("owner", "owner_id", 2),
    ):
        page = client.get(f"/crm/leads/?{arg}={value}&per_page=100")
        assert sorted(names_on(page)) == expected(**{column: value}), arg
    combined = client.get("/crm/leads/?status=new&rating=cold&per_page=100")
    assert sorted(names_on(combined)) == expected(status="new", rating="cold")


def test_my_unassigned_and_all_switch(app, client, auth, classroom):
    """Default view is all leads; "mine" is the colleague the student plays."""
    me = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Colleague.id).where(Colleague.is_self))
    )
    classroom.in_tenant(
        app, lambda s: copy_of(make_lead(s, name="Mine Only", owner_id=me))
    )
    auth.login("alice")

    def names(where):
        return classroom.in_tenant(
            app, lambda s: sorted(s.scalars(sa.select(Lead.name).where(where)))
        )

    mine = sorted(names_on(client.get("/crm/leads/?view=mine&per_page=100")))
    assert "Mine Only" in mine and mine == names(Lead.owner_id == me)
    unassigned = sorted(
        names_on(client.get("/crm/leads/?view=unassigned&per_page=100"))
    )
    assert unassigned and unassigned == names(Lead.owner_id.is_(None))
    everything = client.get("/crm/leads/?per_page=100")
    assert len(names_on(everything)) == SEEDED_LEADS + 1
    page = everything.get_data(as_text=True)
    assert re.search(
        r'nav-link active" aria-current="page" href="[^"]*">All leads', page
    )
    # The switch keeps the other filters and is kept by sorting links.
    page = client.get("/crm/leads/?view=mine&status=qualified").get_data(as_text=True)
    assert "view=mine" in re.search(r'href="([^"]*sort=company[^"]*)"', page)[1]
    assert client.get("/crm/leads/?view=nonsense").status_code == 200


# ------------------------------------------------------------------ records


def test_create_and_edit_a_lead(app, client, auth, classroom):
    auth.login("alice")
    form = client.get("/crm/leads/new").get_data(as_text=True)
    assert '<option selected value="1">You</option>' in form  # owner defaults to me
    response = client.post(
        "/crm/leads/new",
        data={
            "name": "王小明",
            "company": "杭州西湖茶业有限公司",
            "status": "new",
            "rating": "warm",
            "source": "referral",
            "owner_id": "3",
            "email": "xm@example.cn",
        },
    )
    assert response.status_code == 302
    lead_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "杭州西湖茶业有限公司" in page and "Jamie Chen" in page
    response = client.post(
        f"/crm/leads/{lead_id}/edit",
        data={"name": "王小明", "company": "", "status": "contacted", "owner_id": ""},
    )
    assert response.status_code == 302
    lead = classroom.in_tenant(app, lambda s: s.get(Lead, lead_id))
    assert (lead.status, lead.owner_id, lead.company) == ("contacted", None, None)


def test_lead_form_errors_show_beside_the_fields(app, client, auth, classroom):
    auth.login("alice")
    page = client.post(
        "/crm/leads/new",
        data={"name": " ", "email": "nope", "status": "converted", "rating": "tepid"},
    ).get_data(as_text=True)
    assert "This field is required." in page and "Invalid email address." in page
    assert page.count("Not a valid choice") == 2  # status and rating
    page = client.post(
        "/crm/leads/new", data={"name": "No Reason", "status": "unqualified"}
    ).get_data(as_text=True)
    assert re.search(
        r'id="unqualified_reason-errors">Say why the lead is unqualified\.', page
    )
    assert classroom.in_tenant(app, lambda s: count(s, Lead)) == SEEDED_LEADS


def test_a_converted_lead_cannot_be_edited(app, client, auth, classroom):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s, status="converted")))
    auth.login("alice")
    response = client.post(
        f"/crm/leads/{lead.id}/edit", data={"name": "Changed", "status": "new"}
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "A converted lead cannot be changed." in page
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).name) == "Ann Lee"


# ------------------------------------------------------------------ actions


def test_unqualify_needs_a_reason_and_qualify_clears_it(app, client, auth, classroom):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s, status="contacted")))
    auth.login("alice")
    for action in ("qualify", "unqualify", "assign"):
        visit = client.get(f"/crm/leads/{lead.id}/{action}")  # e.g. after a login
        assert visit.status_code == 302
        assert visit.location == f"/crm/leads/{lead.id}"
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).status) == (
        "contacted"
    )
    response = client.post(f"/crm/leads/{lead.id}/unqualify", data={})
    assert response.status_code == 400
    assert re.search(
        r'id="unqualified_reason-errors">Choose the reason the lead is unqualified',
        response.get_data(as_text=True),
    )
    bad = client.post(
        f"/crm/leads/{lead.id}/unqualify", data={"unqualified_reason": "bored"}
    )
    assert bad.status_code == 400
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).status) == (
        "contacted"
    )
    client.post(
        f"/crm/leads/{lead.id}/unqualify", data={"unqualified_reason": "no_budget"}
    )
    done = classroom.in_tenant(app, lambda s: s.get(Lead, lead.id))
    assert (done.status, done.unqualified_reason) == ("unqualified", "no_budget")
    page = client.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert "Marked lead" in page and "as unqualified" in page and "No budget" in page

    client.post(f"/crm/leads/{lead.id}/qualify")
    done = classroom.in_tenant(app, lambda s: s.get(Lead, lead.id))
    assert (done.status, done.unqualified_reason) == ("qualified", None)
    actions = classroom.in_tenant(
        app,
        lambda s: list(
            s.scalars(
                sa.select(AuditLog.action)
                .where(AuditLog.entity == "lead", AuditLog.entity_id == lead.id)
                .where(AuditLog.action.in_(["qualify", "unqualify"]))
                .order_by(AuditLog.id)
            )
        ),
    )
    assert actions == ["unqualify", "qualify"]


def test_assign_one_lead_to_a_colleague(app, client, auth, classroom):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s, owner_id=None)))
    auth.login("alice")
    response = client.post(f"/crm/leads/{lead.id}/assign", data={"owner_id": "4"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "assigned to Sam Patel" in page
    assert "Assigned lead" in page  # the timeline sentence
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).owner_id) == 4
    refused = client.post(f"/crm/leads/{lead.id}/assign", data={"owner_id": "999"})
    assert refused.status_code == 400
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).owner_id) == 4


def test_assign_selected_leads_from_the_list(app, client, auth, classroom):
    auth.login("alice")
    ids = classroom.in_tenant(
        app,
        lambda s: list(
            s.scalars(sa.select(Lead.id).where(Lead.owner_id.is_(None)).limit(3))
        ),
    )
    back = "/crm/leads/?view=unassigned"
    response = client.post(
        "/crm/leads/assign",
        data={"lead_ids": [str(i) for i in ids], "owner_id": "3", "next": back},
    )
    assert response.status_code == 302 and response.location == back
    owners = classroom.in_tenant(
        app,
        lambda s: set(s.scalars(sa.select(Lead.owner_id).where(Lead.id.in_(ids)))),
    )
    assert owners == {3}
    logged = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.action == "assign", AuditLog.entity_id.in_(ids)
            )
        ),
    )
    assert logged == len(ids)
    nothing = client.post(
        "/crm/leads/assign", data={"owner_id": "3", "next": "https://evil.example/"}
    )
    assert nothing.location == "/crm/leads/"
    assert "Tick the leads to assign first." in client.get("/crm/leads/").get_data(
        as_text=True
    )


# ---------------------------------------------------------------- conversion


def test_conversion_creates_and_links_one_account_contact_and_opportunity(
    app, client, auth, classroom
):
    def seminar_lead(session):
        campaign = Campaign(name="Spring robotics seminar", campaign_type="seminar")
        session.add(campaign)
        session.flush()
        return copy_of(make_lead(session, campaign_id=campaign.id, source="seminar"))

    lead = classroom.in_tenant(app, seminar_lead)
    before = classroom.in_tenant(app, snapshot)
    auth.login("alice")
    page = client.get(f"/crm/leads/{lead.id}/convert").get_data(as_text=True)
    assert re.search(r'name="account_name" [^>]*value="Lakeside Robotics Works"', page)
    assert "similar-accounts" not in page  # no look-alike accounts to suggest
    response = client.post(f"/crm/leads/{lead.id}/convert", data=conversion_form())
    assert response.status_code == 302

    def check(session):
        after = snapshot(session)
        for model in ("Account", "Contact", "Opportunity", "StageHistory"):
            assert after[model] == before[model] + 1, model
        done = session.get(Lead, lead.id)
        assert done.status == "converted" and done.converted_at is not None
        account = session.get(Account, done.converted_account_id)
        contact = session.get(Contact, done.converted_contact_id)
        deal = session.get(Opportunity, done.converted_opportunity_id)
        assert account.name == "Lakeside Robotics Works" and account.owner_id == 1
        assert (contact.first_name, contact.last_name) == ("Ann", "Lee")
        assert contact.account_id == account.id
        assert (contact.email, contact.title) == (lead.email, lead.title)
        stage = session.get(Stage, 3)
        assert deal.account_id == account.id and deal.contact_id == contact.id
        assert deal.stage_id == stage.id
        assert deal.probability == stage.probability == 25
        assert deal.forecast_category == stage.forecast_category == "pipeline"
        assert deal.amount == Decimal("125000.50")
        assert deal.close_date == dt.date(2027, 3, 31)
        assert deal.lead_source == "seminar"
        assert deal.campaign_id == lead.campaign_id  # the campaign's credit moves
        assert deal.opportunity_type == "new_business"
        assert deal.name == "Lakeside welding cells" and deal.owner_id == 1

    classroom.in_tenant(app, check)


def test_convert_is_logged_and_read_as_a_timeline_sentence(
    app, client, auth, classroom
):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))
    auth.login("alice")
    client.post(f"/crm/leads/{lead.id}/convert", data=conversion_form())
    entry = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(AuditLog).filter_by(
                entity="lead", entity_id=lead.id, action="convert"
            )
        ),
    )
    assert entry.actor == "alice"
    assert entry.details["account"] == "Lakeside Robotics Works"
    assert entry.details["contact"] == "Ann Lee"
    assert entry.details["opportunity"] == "Lakeside welding cells"
    assert entry.details["new_account"] is True and entry.details["new_contact"]
    page = client.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert (
        f'Converted lead <a class="fw-semibold" href="/crm/leads/{lead.id}">Ann Lee</a>'
        " into account Lakeside Robotics Works, contact Ann Lee and opportunity "
        "Lakeside welding cells"
    ) in page


def test_detail_of_a_converted_lead_links_what_it_produced(
    app, client, auth, classroom
):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))
    auth.login("alice")
    client.post(f"/crm/leads/{lead.id}/convert", data=conversion_form())
    done = classroom.in_tenant(app, lambda s: s.get(Lead, lead.id))
    page = client.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert (
        f'<a href="/crm/accounts/{done.converted_account_id}">'
        "Lakeside Robotics Works</a>"
    ) in page
    assert f'<a href="/crm/contacts/{done.converted_contact_id}">Ann Lee</a>' in page
    assert "Lakeside welding cells" in page
    assert "Converted to opportunity" in page
    assert f"/crm/leads/{lead.id}/convert" not in page  # no second conversion


def test_conversion_into_an_existing_account_creates_no_account(
    app, client, auth, classroom
):
    account = classroom.in_tenant(
        app, lambda s: copy_of(make_account(s, name="Northwind Foods Ltd"))
    )
    lead = classroom.in_tenant(
        app, lambda s: copy_of(make_lead(s, company="Northwind Foods"))
    )
    before = classroom.in_tenant(app, snapshot)
    auth.login("alice")
    page = client.get(f"/crm/leads/{lead.id}/convert").get_data(as_text=True)
    # The look-alike is offered, and chosen by default.
    assert re.search(rf'value="{account.id}" checked', page)
    response = client.post(
        f"/crm/leads/{lead.id}/convert",
        data=conversion_form(account_choice=str(account.id), account_name=""),
    )
    assert response.status_code == 302
    after = classroom.in_tenant(app, snapshot)
    assert after["Account"] == before["Account"]
    assert after["Contact"] == before["Contact"] + 1
    done = classroom.in_tenant(app, lambda s: s.get(Lead, lead.id))
    assert done.converted_account_id == account.id
    deal = classroom.in_tenant(
        app, lambda s: s.get(Opportunity, done.converted_opportunity_id)
    )
    assert deal.account_id == account.id
    assert deal.opportunity_type == "existing_business"


def test_conversion_with_an_existing_contact_and_no_opportunity(
    app, client, auth, classroom
):
    account = classroom.in_tenant(
        app, lambda s: copy_of(make_account(s, name="Quay Street Bakers"))
    )
    contact = classroom.in_tenant(
        app, lambda s: copy_of(make_contact(s, account_id=account.id))
    )
    elsewhere = classroom.in_tenant(app, lambda s: s.get(Contact, 1))
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))
    before = classroom.in_tenant(app, snapshot)
    auth.login("alice")
    form = conversion_form(
        account_choice="existing",
        account_id=str(account.id),
        contact_choice="existing",
        contact_id=str(elsewhere.id),
    )
    del form["create_opportunity"]
    refused = client.post(f"/crm/leads/{lead.id}/convert", data=form)
    assert refused.status_code == 400
    assert "Choose a contact of the chosen account" in refused.get_data(as_text=True)
    assert classroom.in_tenant(app, snapshot) == before

    form["contact_id"] = str(contact.id)
    assert client.post(f"/crm/leads/{lead.id}/convert", data=form).status_code == 302
    after = classroom.in_tenant(app, snapshot)
    assert after["Account"] == before["Account"]
    assert after["Contact"] == before["Contact"]
    assert after["Opportunity"] == before["Opportunity"]
    done = classroom.in_tenant(app, lambda s: s.get(Lead, lead.id))
    assert done.converted_contact_id == contact.id
    assert done.converted_opportunity_id is None
    page = client.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert "and opportunity —" in page


def test_a_failure_midway_leaves_the_database_as_it_was(app, classroom, monkeypatch):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(service, "_create_opportunity", broken)

    def attempt(session):
        before = snapshot(session)
        choice = Conversion(
            account_name="Lakeside Robotics Works",
            first_name="Ann",
            last_name="Lee",
            opportunity_name="Lakeside welding cells",
            close_date=dt.date(2027, 3, 31),
            stage_id=1,
        )
        with pytest.raises(RuntimeError, match="the disk is full"):
            convert_lead(session, session.get(Lead, lead.id), choice)
        return before

    before = classroom.in_tenant(app, attempt)

    def check(session):
        assert snapshot(session) == before
        fresh = session.get(Lead, lead.id)
        assert fresh.status == "qualified"
        assert fresh.converted_account_id is None and fresh.converted_at is None
        assert (
            session.scalar(
                sa.select(Account).where(Account.name == "Lakeside Robotics Works")
            )
            is None
        )

    classroom.in_tenant(app, check)


def test_a_second_conversion_of_the_same_lead_is_refused(app, classroom):
    """Two requests (a double-click) load the lead before either converts it."""
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))

    def choice(name: str) -> Conversion:
        return Conversion(
            account_id=1,
            last_name=name,
            opportunity_name=name,
            close_date=dt.date(2027, 1, 31),
            stage_id=1,
        )

    def race(first):
        stale = first.get(Lead, lead.id)
        assert stale.status == "qualified"
        with tenancy.tenant_session(classroom.tenant(0)) as second:
            convert_lead(second, second.get(Lead, lead.id), choice("Winner"))
        before = snapshot(first)
        with pytest.raises(NotConvertible):
            convert_lead(first, stale, choice("Loser"))
        assert snapshot(first) == before
        return first.get(Lead, lead.id).status

    assert classroom.in_tenant(app, race) == "converted"
    names = classroom.in_tenant(
        app, lambda s: set(s.scalars(sa.select(Opportunity.name)))
    )
    assert "Winner" in names and "Loser" not in names


@pytest.mark.parametrize("status", ["converted", "unqualified"])
def test_a_converted_or_unqualified_lead_cannot_be_converted(
    app, client, auth, classroom, status
):
    lead = classroom.in_tenant(
        app,
        lambda s: copy_of(make_lead(s, status=status, unqualified_reason="no_need")),
    )
    before = classroom.in_tenant(app, snapshot)
    auth.login("alice")
    expected = {
        "converted": "is already converted; it cannot be changed or converted again.",
        "unqualified": "is unqualified and cannot be converted.",
    }[status]
    for response in (
        client.get(f"/crm/leads/{lead.id}/convert", follow_redirects=True),
        client.post(
            f"/crm/leads/{lead.id}/convert",
            data=conversion_form(),
            follow_redirects=True,
        ),
    ):
        assert expected in response.get_data(as_text=True)
    assert classroom.in_tenant(app, snapshot) == before

    def service_refuses(session):
        # Outside a request (as a CLI command or a lesson check would call it).
        with pytest.raises(NotConvertible) as refused:
            convert_lead(
                session,
                session.get(Lead, lead.id),
                Conversion(account_name="Somebody New", last_name="Lee"),
            )
        return refused.value

    error = classroom.in_tenant(app, service_refuses)
    with app.test_request_context():
        assert expected in error.message
    assert classroom.in_tenant(app, snapshot) == before


def test_similar_accounts_are_suggested_and_a_new_one_needs_an_explicit_choice(
    app, client, auth, classroom
):
    existing = classroom.in_tenant(
        app, lambda s: copy_of(make_account(s, name="Acme Trading Ltd", owner_id=3))
    )
    lead = classroom.in_tenant(
        app, lambda s: copy_of(make_lead(s, company="ACME Trading"))
    )
    auth.login("alice")
    page = client.get(f"/crm/leads/{lead.id}/convert").get_data(as_text=True)
    table = page[page.index("similar-accounts") :]
    assert "Acme Trading Ltd" in table
    assert '<td class="account-owner">Jamie Chen</td>' in table

    before = classroom.in_tenant(app, snapshot)
    form = conversion_form(account_choice="new", account_name="ACME Trading")
    response = client.post(f"/crm/leads/{lead.id}/convert", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="create_anyway-errors">Accounts with a similar name', page)
    assert "Acme Trading Ltd" in page[page.index("similar-accounts") :]
    assert classroom.in_tenant(app, snapshot) == before

    response = client.post(
        f"/crm/leads/{lead.id}/convert", data={**form, "create_anyway": "y"}
    )
    assert response.status_code == 302
    entry = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(AuditLog).filter_by(
                entity="lead", entity_id=lead.id, action="convert"
            )
        ),
    )
    assert entry.details["new_account"] is True
    assert entry.details["created_despite_similar"] == [existing.name]
    assert entry.details["account"] == "ACME Trading"
    on_account = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(AuditLog).filter_by(
                entity="account",
                entity_id=entry.details["account_id"],
                action="create_despite_duplicates",
            )
        ),
    )
    assert on_account.details["similar"] == existing.name


def test_an_account_name_already_taken_is_refused_beside_the_field(
    app, client, auth, classroom
):
    classroom.in_tenant(
        app, lambda s: copy_of(make_account(s, name="Harbour Lights Inc"))
    )
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))
    before = classroom.in_tenant(app, snapshot)
    auth.login("alice")
    response = client.post(
        f"/crm/leads/{lead.id}/convert",
        data=conversion_form(account_name="harbour lights inc.", create_anyway="y"),
    )
    assert response.status_code == 400
    assert re.search(
        r'id="account_name-errors">An account named “Harbour Lights Inc” already',
        response.get_data(as_text=True),
    )
    assert classroom.in_tenant(app, snapshot) == before


def test_conversion_form_errors_show_beside_the_fields(app, client, auth, classroom):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))
    before = classroom.in_tenant(app, snapshot)
    auth.login("alice")
    cases = (
        ({"close_date": ""}, "close_date", "Enter the expected close date."),
        ({"close_date": "31/02/2027"}, "close_date", "Not a valid date value."),
        ({"stage_id": "9"}, "stage_id", "Choose an open stage."),  # Closed Won
        ({"amount": "-5"}, "amount", "Enter an amount of at least 0"),
        ({"last_name": ""}, "last_name", "Enter the new contact&#39;s last name."),
        ({"account_name": ""}, "account_name", "Enter the new account&#39;s name."),
        ({"account_name": "Lake-side"}, "account_name", "cannot contain “-”"),
        ({"account_choice": "existing"}, "account_id", "Choose the existing account."),
        ({"account_choice": "999999"}, "account_id", "no longer exists"),
        ({"account_choice": "maybe"}, "account_choice", "Choose an account option."),
    )
    for change, field, message in cases:
        response = client.post(
            f"/crm/leads/{lead.id}/convert", data=conversion_form(**change)
        )
        assert response.status_code == 400, change
        page = response.get_data(as_text=True)
        assert re.search(rf'id="{field}-errors">[^<]*{re.escape(message)}', page), (
            change
        )
    assert classroom.in_tenant(app, snapshot) == before
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).status) == (
        "qualified"
    )


def test_an_instructor_viewing_read_only_cannot_convert(app, client, auth, classroom):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s)))
    view_as_instructor(client, auth, classroom)
    page = client.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert "Read-only view" in page and "/convert" not in page
    assert client.get(f"/crm/leads/{lead.id}/convert").status_code == 403
    response = client.post(f"/crm/leads/{lead.id}/convert", data=conversion_form())
    assert response.status_code == 403
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id).status) == (
        "qualified"
    )


# ------------------------------------------------------------------ helpers


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Ann Lee", "Ann", "Lee"),
        ("Mary Ann van Dyke", "Mary Ann van", "Dyke"),
        ("Cher", "", "Cher"),
        ("王小明", "小明", "王"),
        ("欧阳娜娜", "娜娜", "欧阳"),
    ],
)
def test_split_name_for_the_new_contact(name, first, last):
    assert split_name(name) == (first, last)


def test_scenario_starts_with_open_leads_from_the_team(app, classroom):
    def check(session):
        leads = list(session.scalars(sa.select(Lead)))
        assert len(leads) == SEEDED_LEADS
        statuses = {lead.status for lead in leads}
        assert statuses == {"new", "contacted", "qualified", "unqualified"}
        assert all(
            (lead.status == "unqualified") == bool(lead.unqualified_reason)
            for lead in leads
        )
        owners = {lead.owner_id for lead in leads}
        assert None in owners and 1 in owners
        sellers = set(
            session.scalars(
                sa.select(Colleague.id).where(Colleague.role.like("sales%"))
            )
        )
        assert owners - {None} <= sellers
        account_names = set(session.scalars(sa.select(Account.name)))
        assert any(lead.company in account_names for lead in leads)
        return [(lead.name, lead.company, lead.status) for lead in leads]

    first = classroom.in_tenant(app, check, 0)
    assert classroom.in_tenant(app, check, 1) != first  # each student's variant


def test_workbench_lists_my_new_leads_and_hot_unassigned_ones(
    app, client, auth, classroom
):
    classroom.in_tenant(app, lambda s: make_lead(s, status="new", owner_id=1))
    classroom.in_tenant(
        app, lambda s: make_lead(s, name="Hot Pool", rating="hot", owner_id=None)
    )

    def counts(session):
        mine = session.scalar(
            sa.select(sa.func.count()).where(Lead.owner_id == 1, Lead.status == "new")
        )
        hot = session.scalar(
            sa.select(sa.func.count()).where(
                Lead.owner_id.is_(None),
                Lead.rating == "hot",
                Lead.status != "unqualified",
            )
        )
        return mine, hot

    mine, hot = classroom.in_tenant(app, counts)
    auth.login("alice")
    page = client.get("/").get_data(as_text=True)
    todo = "new lead of yours" if mine == 1 else "new leads of yours"
    assert f'href="/crm/leads/?view=mine&amp;status=new">{mine} {todo}' in page
    reminder = "hot lead waits" if hot == 1 else "hot leads wait"
    assert f'href="/crm/leads/?view=unassigned&amp;rating=hot">{hot} {reminder}' in page

    def settle(session):
        for lead in session.scalars(sa.select(Lead).where(Lead.status == "new")):
            lead.status = "contacted"
        for lead in session.scalars(sa.select(Lead).where(Lead.rating == "hot")):
            lead.rating = "warm"
        session.commit()

    classroom.in_tenant(app, settle)
    page = client.get("/").get_data(as_text=True)
    assert "of yours to contact" not in page and "unassigned</a>" not in page


def test_delete_a_lead_after_confirming(app, client, auth, classroom):
    lead = classroom.in_tenant(app, lambda s: copy_of(make_lead(s, name="Gone Soon")))
    auth.login("alice")
    confirm = client.get(f"/crm/leads/{lead.id}/delete")
    assert confirm.status_code == 200 and "Gone Soon" in confirm.get_data(as_text=True)
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id)) is not None
    response = client.post(f"/crm/leads/{lead.id}/delete", data={})
    assert response.status_code == 302
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead.id)) is None
    assert client.get(f"/crm/leads/{lead.id}").status_code == 404


def test_global_search_finds_leads_by_company(app, client, auth, classroom):
    lead = classroom.in_tenant(
        app, lambda s: copy_of(make_lead(s, company="Qingdao Blue Harbour Foods"))
    )
    auth.login("alice")
    page = client.get("/crm/search?q=blue+harbour").get_data(as_text=True)
    assert f'href="/crm/leads/{lead.id}"' in page
