"""Campaigns: the form, members one by one and from a list, member statuses, and
the results panel (funnel and ROI with the cost counted once)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.campaigns import service as svc
from sandbox.models.crm import AuditLog
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage
from tests.helpers import make_account, make_contact


def make_deal(session, name, stage_code, amount, campaign) -> Opportunity:
    stage = session.scalar(sa.select(Stage).where(Stage.code == stage_code))
    account = make_account(session, name=f"{name} Co")
    deal = Opportunity(
        name=name,
        account_id=account.id,
        stage_id=stage.id,
        close_date=dt.date(2026, 3, 1),
        closed_on=dt.date(2026, 3, 1) if stage.is_closed else None,
        probability=stage.probability,
        forecast_category=stage.forecast_category,
        amount=Decimal(amount),
        campaign_id=campaign.id,
    )
    session.add(deal)
    session.commit()
    return deal


def make_lead(session, name, **extra) -> Lead:
    lead = Lead(name=name, company=f"{name} Ltd", **extra)
    session.add(lead)
    session.commit()
    return lead


def make_campaign(session, **extra) -> Campaign:
    values = {"name": "Spring expo", "campaign_type": "event", **extra}
    campaign = Campaign(**values)
    session.add(campaign)
    session.commit()
    return campaign


def build_expo(session) -> int:
    """A campaign with a hand-countable funnel; returns its id.

    Members: leads Ann (converted member), Bo (responded), contacts Cy (sent),
    Di (planned) → 4 members, 2 responded. Leads credited: Ann and Bo (members),
    Ed (created for the campaign, not a member), Ann also credited directly →
    3 distinct leads, 1 converted (Ann). Deals: won 2,000 + 1,500 + 500, one open
    700, one lost 900 → 5 opportunities worth 5,600; 3 won worth 4,000. Actual
    cost 1,000 → ROI (4,000 − 1,000) / 1,000 = 3.
    """
    expo = make_campaign(session, actual_cost=Decimal("1000"))
    ann = make_lead(
        session,
        "Ann",
        campaign_id=expo.id,
        status="converted",
        converted_at=dt.datetime(2026, 2, 1),
    )
    bo = make_lead(session, "Bo")
    make_lead(session, "Ed", campaign_id=expo.id)
    cy = make_contact(session, first_name="Cy", last_name="Ng")
    di = make_contact(session, first_name="Di", last_name="Ho")
    for status, lead, contact in (
        ("converted", ann, None),
        ("responded", bo, None),
        ("sent", None, cy),
        ("planned", None, di),
    ):
        session.add(
            CampaignMember(
                campaign_id=expo.id,
                lead_id=lead.id if lead else None,
                contact_id=contact.id if contact else None,
                status=status,
            )
        )
    session.commit()
    for name, stage, amount in (
        ("Won 1", "closed_won", "2000"),
        ("Won 2", "closed_won", "1500"),
        ("Won 3", "closed_won", "500"),
        ("Open 1", "proposal", "700"),
        ("Lost 1", "closed_lost", "900"),
    ):
        make_deal(session, name, stage, amount, expo)
    return expo.id


@pytest.fixture
def expo(app, classroom) -> int:
    return classroom.in_tenant(app, build_expo)


def test_roi_counts_the_campaign_cost_once_however_many_deals_it_won(
    app, classroom, expo
):
    results = classroom.in_tenant(app, lambda s: svc.campaign_results(s, [expo])[expo])
    assert results.won_count == 3
    assert results.won_amount == Decimal("4000.00")
    assert results.actual_cost == Decimal("1000.00")
    # From 1,000 once: (4,000 − 1,000) / 1,000. Cost counted per deal would be
    # (4,000 − 3,000) / 3,000 = 0.3333.
    assert results.roi == Decimal("3.0000")


def test_funnel_counts_members_responses_leads_and_deals(app, classroom, expo):
    results = classroom.in_tenant(app, lambda s: svc.campaign_results(s, [expo])[expo])
    assert (results.members, results.responded) == (4, 2)
    assert (results.leads, results.converted_leads) == (3, 1)
    assert results.opportunities == 5
    assert results.opportunity_amount == Decimal("5600.00")
    assert results.response_rate == Decimal("0.5000")


def test_results_of_several_campaigns_run_a_fixed_number_of_queries(
    app, classroom, expo
):
    def run(session):
        for n in range(5):
            other = make_campaign(session, name=f"Other {n}")
            make_deal(session, f"Other deal {n}", "closed_won", "10", other)
        statements = []

        def count(*_args):
            statements.append(1)

        sa.event.listen(session.get_bind(), "before_cursor_execute", count)
        try:
            everything = svc.campaign_results(s := session)
        finally:
            sa.event.remove(s.get_bind(), "before_cursor_execute", count)
        return everything, len(statements)

    everything, queries = classroom.in_tenant(app, run)
    assert queries == 4  # campaigns, members, leads, deals
    assert everything[expo].roi == Decimal("3.0000")
    others = [r for cid, r in everything.items() if cid != expo]
    assert len(others) >= 5
    assert all(r.won_amount >= Decimal("10") for r in others[-5:])


@pytest.mark.parametrize("cost", [None, Decimal("0")])
def test_roi_is_undefined_without_a_cost_and_shows_a_dash(
    app, client, auth, classroom, cost
):
    def build(session):
        campaign = make_campaign(session, name="Free webinar", actual_cost=cost)
        make_deal(session, "Webinar deal", "closed_won", "300", campaign)
        return campaign.id

    cid = classroom.in_tenant(app, build)
    results = classroom.in_tenant(app, lambda s: svc.campaign_results(s, [cid])[cid])
    assert results.roi is None and results.won_amount == Decimal("300.00")
    auth.login("alice")
    page = client.get(f"/crm/campaigns/{cid}").get_data(as_text=True)
    assert '<span id="result-roi">—</span>' in page


def test_the_results_panel_shows_the_funnel_and_roi(app, client, auth, classroom, expo):
    auth.login("alice")
    page = client.get(f"/crm/campaigns/{expo}").get_data(as_text=True)
    for key, value in (
        ("members", "4"),
        ("responded", "2"),
        ("leads", "3"),
        ("converted", "1"),
        ("opportunities", "5"),
        ("won", "3"),
        ("won-amount", "4,000.00"),
        ("roi", "300.0%"),
    ):
        assert re.search(rf'id="result-{key}">{re.escape(value)}<', page), key


# ------------------------------------------------------------------ the form


def test_a_campaign_is_created_from_the_form_and_logged(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/campaigns/new",
        data={
            "name": "Autumn trade show",
            "campaign_type": "event",
            "status": "planning",
            "start_date": "2026-10-01",
            "end_date": "2026-10-03",
            "budget": "5,000",
            "actual_cost": "4200.50",
            "expected_responses": "40",
        },
    )
    assert response.status_code == 302

    def check(session):
        campaign = session.scalar(
            sa.select(Campaign).where(Campaign.name == "Autumn trade show")
        )
        assert campaign.budget == Decimal("5000.00")
        assert campaign.actual_cost == Decimal("4200.50")
        assert campaign.end_date == dt.date(2026, 10, 3)
        return session.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.entity == "campaign",
                AuditLog.entity_id == campaign.id,
                AuditLog.action == "create",
            )
        )

    assert classroom.in_tenant(app, check) == 1


def test_an_end_date_before_the_start_is_refused_beside_the_field(
    app, client, auth, classroom
):
    auth.login("alice")
    response = client.post(
        "/crm/campaigns/new",
        data={
            "name": "Backwards",
            "status": "planning",
            "start_date": "2026-10-05",
            "end_date": "2026-10-01",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(
        r'id="end_date-errors">The end date cannot be before the start date', page
    )
    assert (
        classroom.in_tenant(
            app,
            lambda s: s.scalar(
                sa.select(sa.func.count()).where(Campaign.name == "Backwards")
            ),
        )
        == 0
    )


def test_leads_and_deals_name_their_campaign_on_their_forms(
    app, client, auth, classroom, expo
):
    auth.login("alice")
    lead_id = classroom.in_tenant(app, lambda s: make_lead(s, "Fay").id)
    response = client.post(
        f"/crm/leads/{lead_id}/edit",
        data={"name": "Fay", "status": "new", "campaign_id": str(expo)},
    )
    assert response.status_code == 302
    assert classroom.in_tenant(app, lambda s: s.get(Lead, lead_id).campaign_id) == expo
    page = client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert f'href="/crm/campaigns/{expo}">Spring expo</a>' in page
    form = client.get("/crm/opportunities/new").get_data(as_text=True)
    assert 'data-lookup="/crm/lookup/campaigns"' in form


# ------------------------------------------------------------------- members


def member_statuses(session, campaign_id) -> dict[str, str]:
    rows = session.scalars(
        sa.select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
    )
    return {m.display_name: m.status for m in rows}


def test_a_member_is_added_with_the_record_picker_once(app, client, auth, classroom):
    cid = classroom.in_tenant(app, lambda s: make_campaign(s).id)
    lead_id = classroom.in_tenant(app, lambda s: make_lead(s, "Gus").id)
    auth.login("alice")
    for _ in range(2):
        response = client.post(
            f"/crm/campaigns/{cid}/members", data={"lead_id": str(lead_id)}
        )
        assert response.status_code == 302
    assert classroom.in_tenant(app, lambda s: member_statuses(s, cid)) == {
        "Gus": "planned"
    }
    empty = client.post(f"/crm/campaigns/{cid}/members", data={})
    assert empty.status_code == 400
    assert "Choose a lead or a contact to add." in empty.get_data(as_text=True)


def test_leads_are_added_in_bulk_from_a_filtered_list(app, client, auth, classroom):
    def build(session):
        campaign = make_campaign(session)
        hot = [make_lead(session, f"Zorb {n}", rating="hot").id for n in range(3)]
        make_lead(session, "Zorb cold", rating="cold")
        return campaign.id, hot

    cid, hot = classroom.in_tenant(app, build)
    auth.login("alice")
    page = client.get(
        f"/crm/campaigns/{cid}/members/add?kind=leads&q=zorb&rating=hot"
    ).get_data(as_text=True)
    offered = {int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)}
    assert offered == set(hot)
    response = client.post(
        f"/crm/campaigns/{cid}/members/add?kind=leads&q=zorb&rating=hot",
        data={"ids": [str(i) for i in hot]},
    )
    assert response.status_code == 302
    statuses = classroom.in_tenant(app, lambda s: member_statuses(s, cid))
    assert statuses == {f"Zorb {n}": "planned" for n in range(3)}
    again = client.get(
        f"/crm/campaigns/{cid}/members/add?kind=leads&q=zorb&rating=hot"
    ).get_data(as_text=True)
    assert not re.findall(r'name="ids" value="(\d+)"', again)
    assert "Already a member" in again
    log = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.details).where(
                AuditLog.entity == "campaign", AuditLog.action == "add_members"
            )
        ).all(),
    )
    assert [entry["count"] for entry in log] == [3]


def test_contacts_are_added_in_bulk_too(app, client, auth, classroom):
    def build(session):
        campaign = make_campaign(session)
        return campaign.id, make_contact(session, last_name="Quillfeather").id

    cid, contact_id = classroom.in_tenant(app, build)
    auth.login("alice")
    page = client.get(
        f"/crm/campaigns/{cid}/members/add?kind=contacts&q=quillfeather"
    ).get_data(as_text=True)
    assert re.findall(r'name="ids" value="(\d+)"', page) == [str(contact_id)]
    client.post(
        f"/crm/campaigns/{cid}/members/add?kind=contacts", data={"ids": [contact_id]}
    )
    assert classroom.in_tenant(app, lambda s: member_statuses(s, cid)) == {
        "Lin Quillfeather": "planned"
    }


def test_marking_members_moves_them_forward_and_sets_the_response_date(app, classroom):
    def run(session):
        campaign = make_campaign(session)
        lead = make_lead(session, "Hal")
        contact = make_contact(session, last_name="Ivy")
        members = svc.add_members(
            session, campaign, lead_ids=[lead.id], contact_ids=[contact.id]
        )
        ids = [m.id for m in members]
        svc.mark_members(session, ids, "sent", on=dt.date(2026, 4, 1))
        svc.mark_members(session, ids[:1], "responded", on=dt.date(2026, 4, 3))
        first, second = (session.get(CampaignMember, i) for i in ids)
        actions = session.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "campaign", AuditLog.entity_id == campaign.id
            )
        ).all()
        member_updates = session.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.entity == "campaign_member", AuditLog.action == "update"
            )
        )
        return (
            (first.status, first.responded_on, first.sent_at),
            (second.status, second.responded_on),
            actions,
            member_updates,
        )

    first, second, actions, updates = classroom.in_tenant(app, run)
    assert first == ("responded", dt.date(2026, 4, 3), dt.datetime(2026, 4, 1))
    assert second == ("sent", None)
    assert actions.count("mark_members") == 2 and "add_members" in actions
    assert updates == 3


@pytest.mark.parametrize(
    ("start", "wanted"),
    [("responded", "sent"), ("converted", "responded"), ("sent", "sent")],
)
def test_a_member_status_never_goes_back_and_nothing_is_written(
    app, classroom, start, wanted
):
    def run(session):
        campaign = make_campaign(session)
        jo, kit = make_lead(session, "Jo"), make_lead(session, "Kit")
        good = CampaignMember(campaign_id=campaign.id, lead_id=jo.id, status="planned")
        bad = CampaignMember(campaign_id=campaign.id, lead_id=kit.id, status=start)
        session.add_all([good, bad])
        session.commit()
        before = session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
        with pytest.raises(svc.CampaignError, match="only moves forward") as error:
            svc.mark_members(session, [good.id, bad.id], wanted)
        after = session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
        return (
            str(error.value),
            session.get(CampaignMember, good.id).status,
            (after - before),
        )

    message, good_status, written = classroom.in_tenant(app, run)
    assert "Kit" in message and "Jo" not in message
    assert good_status == "planned" and written == 0


def test_unknown_statuses_and_missing_members_are_refused(app, classroom):
    def run(session):
        campaign = make_campaign(session)
        member = svc.add_members(
            session, campaign, lead_ids=[make_lead(session, "Lu").id]
        )[0]
        errors = []
        for ids, status in (([member.id], "won"), ([], "sent"), ([10**9], "sent")):
            with pytest.raises(svc.CampaignError) as error:
                svc.mark_members(session, ids, status)
            errors.append(str(error.value))
        return errors

    assert classroom.in_tenant(app, run) == [
        "Choose a member status from the list.",
        "Choose at least one member.",
        "The chosen record no longer exists.",
    ]


def test_the_members_panel_changes_ticked_members_and_explains_refusals(
    app, client, auth, classroom
):
    def build(session):
        campaign = make_campaign(session)
        members = svc.add_members(
            session,
            campaign,
            lead_ids=[make_lead(session, "Mo").id, make_lead(session, "Ned").id],
        )
        return campaign.id, [m.id for m in members]

    cid, ids = classroom.in_tenant(app, build)
    auth.login("alice")
    page = client.get(f"/crm/campaigns/{cid}").get_data(as_text=True)
    assert {int(i) for i in re.findall(r'name="member_ids" value="(\d+)"', page)} == (
        set(ids)
    )
    client.post(
        f"/crm/campaigns/{cid}/members/status",
        data={"member_ids": [ids[0]], "status": "responded", "on": "2026-05-02"},
    )
    refused = client.post(
        f"/crm/campaigns/{cid}/members/status",
        data={"member_ids": [ids[0]], "status": "sent"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "only moves forward" in refused
    assert "remove it from the campaign and add it again" in refused  # the way back
    assert classroom.in_tenant(app, lambda s: member_statuses(s, cid)) == {
        "Mo": "responded",
        "Ned": "planned",
    }
    # A member of another campaign cannot be changed through this one.
    other = classroom.in_tenant(app, lambda s: make_campaign(s, name="Other").id)
    response = client.post(
        f"/crm/campaigns/{other}/members/status",
        data={"member_ids": [ids[1]], "status": "sent"},
    )
    assert response.status_code == 404


def test_a_member_is_removed_and_the_campaign_logs_it(app, client, auth, classroom):
    def build(session):
        campaign = make_campaign(session)
        member = svc.add_members(
            session, campaign, lead_ids=[make_lead(session, "Oz").id]
        )[0]
        return campaign.id, member.id

    cid, mid = classroom.in_tenant(app, build)
    auth.login("alice")
    client.post(f"/crm/campaigns/{cid}/members/{mid}/delete")
    assert classroom.in_tenant(app, lambda s: member_statuses(s, cid)) == {}
    actions = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "campaign", AuditLog.entity_id == cid
            )
        ).all(),
    )
    assert "remove_member" in actions


def test_deleting_a_campaign_takes_its_members_and_unlinks_credited_records(
    app, client, auth, classroom, expo
):
    auth.login("alice")
    page = client.get(f"/crm/campaigns/{expo}/delete").get_data(as_text=True)
    assert "Leads: 2" in page and "Opportunities: 5" in page
    refused = client.post(f"/crm/campaigns/{expo}/delete", data={})
    assert refused.status_code == 409
    done = client.post(f"/crm/campaigns/{expo}/delete", data={"detach": "y"})
    assert done.status_code == 302

    def check(session):
        return (
            session.get(Campaign, expo),
            session.scalar(
                sa.select(sa.func.count()).where(CampaignMember.campaign_id == expo)
            ),
            session.scalar(
                sa.select(sa.func.count()).where(Opportunity.campaign_id == expo)
            ),
            session.scalar(sa.select(sa.func.count()).where(Lead.name == "Ann")),
        )

    assert classroom.in_tenant(app, check) == (None, 0, 0, 1)


def test_the_campaign_list_filters_by_status(app, client, auth, classroom):
    classroom.in_tenant(
        app, lambda s: make_campaign(s, name="Live one", status="active")
    )
    classroom.in_tenant(
        app, lambda s: make_campaign(s, name="Dead one", status="aborted")
    )
    auth.login("alice")
    page = client.get("/crm/campaigns/?status=active").get_data(as_text=True)
    assert "Live one" in page and "Dead one" not in page


def test_deleting_a_member_contact_takes_its_memberships_not_a_server_error(
    app, client, auth, classroom
):
    def setup(session):
        contact = make_contact(session, first_name="Mira", last_name="Okafor")
        campaign = Campaign(name="Partner day", campaign_type="event")
        session.add(campaign)
        session.flush()
        session.add(CampaignMember(campaign_id=campaign.id, contact_id=contact.id))
        session.commit()
        return contact.id, campaign.id

    contact_id, campaign_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    response = client.post(f"/crm/contacts/{contact_id}/delete", data={"detach": "y"})
    assert response.status_code == 302

    def check(session):
        assert session.get(Campaign, campaign_id) is not None
        members = session.scalars(
            sa.select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
        ).all()
        assert members == []
        gone = session.scalars(
            sa.select(AuditLog.entity).where(
                AuditLog.action == "delete", AuditLog.entity == "campaign_member"
            )
        ).all()
        assert gone  # the membership's deletion is in the audit log

    classroom.in_tenant(app, check)
