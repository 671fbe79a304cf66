"""Accounts: list, search, filters, sort, pagination, create, edit, delete, history."""

from __future__ import annotations

import re

import sqlalchemy as sa

from sandbox.models.crm import Account, AuditLog, Contact
from tests.helpers import clear, make_account, make_contact


def names_on(page) -> list[str]:
    return re.findall(
        r'<a href="/crm/accounts/\d+">([^<]+)</a>', page.get_data(as_text=True)
    )


def test_list_paginates_with_totals(client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/accounts/").get_data(as_text=True)
    assert "50 records · page 1 of 3 · 20 per page" in page
    assert len(names_on(client.get("/crm/accounts/"))) == 20
    assert len(names_on(client.get("/crm/accounts/?page=3"))) == 10
    last = client.get("/crm/accounts/?page=99").get_data(as_text=True)
    assert "page 3 of 3" in last  # past the end shows the last page
    assert "page 1 of 3" in client.get("/crm/accounts/?page=abc").get_data(as_text=True)
    assert "page 1 of 1" in client.get("/crm/accounts/?per_page=100").get_data(
        as_text=True
    )


def test_list_sorts_by_name_and_revenue(app, client, auth, classroom):
    auth.login("alice")
    ascending = names_on(client.get("/crm/accounts/?per_page=100"))
    assert ascending == sorted(ascending, key=str.lower) or ascending == sorted(
        ascending
    )
    descending = names_on(client.get("/crm/accounts/?sort=name&dir=desc&per_page=100"))
    assert descending == list(reversed(ascending))
    by_revenue = names_on(
        client.get("/crm/accounts/?sort=revenue&dir=desc&per_page=100")
    )
    top = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(Account.annual_revenue).order_by(Account.annual_revenue.desc())
        ).first(),
    )
    first = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Account.annual_revenue).where(Account.name == by_revenue[0])
        ),
    )
    assert first == top
    # an unknown sort column falls back to the default instead of failing
    assert client.get("/crm/accounts/?sort=password&dir=sideways").status_code == 200


def test_search_and_filters(app, client, auth, classroom):
    classroom.in_tenant(
        app,
        lambda s: make_account(
            s,
            name="Zhejiang Tea Export",
            city="Hangzhou",
            account_type="partner",
            industry="retail",
        ),
    )
    auth.login("alice")
    assert names_on(client.get("/crm/accounts/?q=tea+export")) == [
        "Zhejiang Tea Export"
    ]
    assert names_on(client.get("/crm/accounts/?q=hangzhou")) == ["Zhejiang Tea Export"]
    partners = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Account.account_type == "partner")
        ),
    )
    page = client.get("/crm/accounts/?type=partner&per_page=100")
    assert len(names_on(page)) == partners
    filtered = names_on(
        client.get("/crm/accounts/?type=partner&industry=retail&q=zhejiang")
    )
    assert filtered == ["Zhejiang Tea Export"]
    classroom.in_tenant(app, lambda s: make_account(s, name="100% Natural_Foods"))
    assert names_on(client.get("/crm/accounts/", query_string={"q": "100%"})) == [
        "100% Natural_Foods"
    ]
    assert names_on(client.get("/crm/accounts/", query_string={"q": "l_f"})) == [
        "100% Natural_Foods"
    ]
    assert names_on(client.get("/crm/accounts/", query_string={"q": "%"})) == [
        "100% Natural_Foods"
    ]
    empty = client.get("/crm/accounts/?q=no-such-company-anywhere").get_data(
        as_text=True
    )
    assert "No accounts match your search." in empty


def test_empty_state_invites_the_first_account(app, client, auth, classroom):
    classroom.in_tenant(app, lambda s: clear(s, "account"))
    auth.login("alice")
    page = client.get("/crm/accounts/").get_data(as_text=True)
    assert "There are no accounts yet." in page and "Create the first account" in page


def test_create_validates_and_shows_errors_beside_fields(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new",
        data={
            "name": "   ",
            "account_type": "customer",
            "email": "nope",
            "website": "not a url",
            "annual_revenue": "-5",
            "employees": "many",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("invalid-feedback") >= 5
    assert "This field is required." in page and "Invalid email address." in page
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Account.id)))
    )
    assert count == 50


def test_create_rejects_an_unknown_account_type(client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new", data={"name": "X", "account_type": "vip"}
    )
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_create_refuses_a_duplicate_name(app, client, auth, classroom):
    existing = classroom.in_tenant(app, lambda s: s.get(Account, 1).name)
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new",
        data={"name": f"  {existing.upper()} ", "account_type": "customer"},
    )
    assert "already exists" in response.get_data(as_text=True)


def test_create_then_detail_and_audit(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new",
        data={
            "name": "  Lakeside Logistics  ",
            "account_type": "customer",
            "industry": "logistics",
            "annual_revenue": "1200000",
            "email": "",
        },
    )
    assert response.status_code == 302
    account_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).get_data(as_text=True)
    assert "Lakeside Logistics" in page and "1,200,000" in page

    def check(session):
        account = session.get(Account, account_id)
        assert account.name == "Lakeside Logistics" and account.email is None
        entry = session.scalar(
            sa.select(AuditLog).filter_by(entity="account", entity_id=account_id)
        )
        assert entry.action == "create" and entry.actor == "alice"
        assert entry.changes["name"] == [None, "Lakeside Logistics"]

    classroom.in_tenant(app, check)


def test_edit_records_old_and_new_values(app, client, auth, classroom):
    old = classroom.in_tenant(app, lambda s: s.get(Account, 3).name)
    auth.login("alice")
    form = {"name": "Renamed Holdings", "account_type": "partner"}
    assert client.post("/crm/accounts/3/edit", data=form).status_code == 302
    page = client.get("/crm/accounts/3").get_data(as_text=True)
    assert "Renamed Holdings" in page and old in page  # the history shows both

    def check(session):
        entry = session.scalars(
            sa.select(AuditLog).filter_by(
                entity="account", entity_id=3, action="update"
            )
        ).one()
        assert entry.changes["name"] == [old, "Renamed Holdings"]
        assert "updated_at" not in entry.changes

    classroom.in_tenant(app, check)


def test_saving_without_changes_writes_no_audit_row(app, client, auth, classroom):
    auth.login("alice")
    form = client.get("/crm/accounts/4/edit").get_data(as_text=True)
    name = re.search(r'id="name"[^>]*value="([^"]*)"', form).group(1)
    account = classroom.in_tenant(app, lambda s: s.get(Account, 4))
    client.post(
        "/crm/accounts/4/edit",
        data={
            "name": name,
            "account_type": account.account_type,
            "industry": account.industry or "",
            "phone": account.phone or "",
            "email": account.email or "",
            "website": account.website or "",
            "address": account.address or "",
            "city": account.city or "",
            "country": account.country or "",
            "annual_revenue": str(account.annual_revenue),
            "employees": account.employees,
            "owner_id": account.owner_id or "",
            "description": account.description or "",
        },
    )
    updates = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count(AuditLog.id)).filter_by(action="update")
        ),
    )
    assert updates == 0


def test_delete_names_related_contacts_and_unlinks_them_only_when_asked(
    app, client, auth, classroom
):
    def prepare(session):
        account = make_account(session, name="Harbour Supplies")
        for n in range(3):
            make_contact(session, account_id=account.id, email=f"h{n}@harbour.example")
        return account.id, make_contact(session, account_id=account.id).id

    account_id, contact_id = classroom.in_tenant(app, prepare)
    linked = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Contact.account_id == account_id)
        ),
    )
    auth.login("alice")
    confirm = client.get(f"/crm/accounts/{account_id}/delete").get_data(as_text=True)
    assert "This cannot be undone." in confirm
    assert f"Contacts: {linked}" in confirm and 'name="detach"' in confirm

    refused = client.post(f"/crm/accounts/{account_id}/delete")
    assert refused.status_code == 409
    assert "still has related records" in refused.get_data(as_text=True)
    assert classroom.in_tenant(app, lambda s: s.get(Account, account_id)) is not None
    assert (
        classroom.in_tenant(app, lambda s: s.get(Contact, contact_id).account_id)
        == account_id
    )

    deleted = client.post(f"/crm/accounts/{account_id}/delete", data={"detach": "y"})
    assert deleted.location == "/crm/accounts/"
    assert classroom.in_tenant(app, lambda s: s.get(Account, account_id)) is None
    assert (
        classroom.in_tenant(app, lambda s: s.get(Contact, contact_id).account_id)
        is None
    )
    assert client.get(f"/crm/accounts/{account_id}").status_code == 404
    unlinked = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog).filter_by(
                entity="contact", entity_id=contact_id, action="update"
            )
        ).one(),
    )
    assert unlinked.changes == {"account_id": [account_id, None]}


def test_an_account_without_related_records_deletes_at_once(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(app, lambda s: make_account(s, name="Lonely").id)
    auth.login("alice")
    assert 'name="detach"' not in client.get(
        f"/crm/accounts/{account_id}/delete"
    ).get_data(as_text=True)
    response = client.post(f"/crm/accounts/{account_id}/delete")
    assert response.location == "/crm/accounts/"
    assert classroom.in_tenant(app, lambda s: s.get(Account, account_id)) is None


def test_unknown_account_is_a_friendly_404(client, auth, classroom):
    auth.login("alice")
    response = client.get("/crm/accounts/424242")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_edit_refuses_another_accounts_name_and_writes_nothing(
    app, client, auth, classroom
):
    first, third = classroom.in_tenant(
        app, lambda s: (s.get(Account, 1).name, s.get(Account, 3).name)
    )
    auth.login("alice")
    response = client.post(
        "/crm/accounts/3/edit", data={"name": first, "account_type": "partner"}
    )
    assert "already exists" in response.get_data(as_text=True)
    assert classroom.in_tenant(app, lambda s: s.get(Account, 3).name) == third
    same = client.post(  # keeping its own name is not a duplicate
        "/crm/accounts/3/edit", data={"name": third, "account_type": "partner"}
    )
    assert same.status_code == 302


def test_source_status_intention_and_rating_are_saved_and_shown(
    app, client, auth, classroom
):
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new",
        data={
            "name": "Quetzal Holdings",
            "account_type": "end_customer",
            "source": "exhibition",
            "status": "developing",
            "intention": "high",
            "rating": "a",
        },
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    for label in ("End customer", "Exhibition", "Developing", "High", "A — key"):
        assert label in page
    listed = client.get("/crm/accounts/?status=developing&per_page=100")
    assert "Quetzal Holdings" in names_on(listed)
    bad = client.post(
        "/crm/accounts/new",
        data={"name": "Quetzal Two", "account_type": "customer", "rating": "z"},
    )
    assert "Not a valid choice" in bad.get_data(as_text=True)


def test_the_account_page_lists_its_deals_contracts_and_cases(
    app, client, auth, classroom
):
    from sandbox.crm.views import RELATED_PANEL_ROWS
    from sandbox.models.crm.contracts import Contract
    from sandbox.models.crm.sales import Opportunity
    from sandbox.models.crm.service import Case

    def busiest(session):
        counts = {}
        for model in (Opportunity, Contract, Case):
            rows = session.execute(
                sa.select(model.account_id, sa.func.count())
                .where(model.account_id.is_not(None))
                .group_by(model.account_id)
            ).all()
            counts[model.__name__] = dict(rows)
        account = max(
            counts["Opportunity"],
            key=lambda a: (a in counts["Contract"]) + (a in counts["Case"]),
        )
        deals = session.scalars(
            sa.select(Opportunity.name).where(Opportunity.account_id == account)
        ).all()
        return account, deals, {k: v.get(account, 0) for k, v in counts.items()}

    account, deals, counts = classroom.in_tenant(app, busiest)
    assert all(counts.values()), counts  # the scenario gives it one of each
    auth.login("alice")
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    for deal in deals[:RELATED_PANEL_ROWS]:
        assert deal in page
    for panel, model in (
        ("opportunities", "Opportunity"),
        ("contracts", "Contract"),
        ("cases", "Case"),
    ):
        card = page.split(f'id="{panel}"', 1)[1].split("</div></div>", 1)[0]
        shown = card.count("<tr>") - 1  # the header row
        assert shown == min(counts[model], RELATED_PANEL_ROWS), panel
        if counts[model]:
            assert f'text-bg-secondary">{counts[model]}</span>' in card, panel
    assert f"/crm/opportunities/new?account_id={account}" in page


def test_an_account_page_shows_the_most_recent_ten_of_many_deals(
    app, client, auth, classroom
):
    from sandbox.models.crm.sales import Opportunity, Stage

    def crowd(session):
        template = session.scalar(sa.select(Opportunity))
        stage = session.scalar(sa.select(Stage).where(Stage.is_closed.is_(False)))
        for n in range(12):
            session.add(
                Opportunity(
                    name=f"Crowded Deal {n:02d}",
                    account_id=template.account_id,
                    stage_id=stage.id,
                    probability=stage.probability,
                    forecast_category=stage.forecast_category,
                    close_date=template.close_date,
                )
            )
        session.commit()
        return template.account_id, session.scalar(
            sa.select(sa.func.count(Opportunity.id)).where(
                Opportunity.account_id == template.account_id
            )
        )

    account, total = classroom.in_tenant(app, crowd)
    auth.login("alice")
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert f"The 10 most recent of {total}." in page
