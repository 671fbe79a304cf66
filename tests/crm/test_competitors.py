"""Competitors: master records, unique names, deletes, and the win/loss record."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import sqlalchemy as sa

from sandbox.crm.competitors.service import win_loss
from sandbox.models.crm import AuditLog
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.sales import Opportunity, Stage
from tests.helpers import make_account


def names_on(page) -> list[str]:
    return re.findall(
        r'<a href="/crm/competitors/\d+">([^<]+)</a>', page.get_data(as_text=True)
    )


def make_deal(session, name, stage_code, amount, **extra) -> Opportunity:
    stage = session.scalar(sa.select(Stage).where(Stage.code == stage_code))
    account = extra.pop("account", None) or make_account(session, name=f"{name} Co")
    deal = Opportunity(
        name=name,
        account_id=account.id,
        stage_id=stage.id,
        close_date=dt.date(2026, 3, 1),
        probability=stage.probability,
        forecast_category=stage.forecast_category,
        amount=None if amount is None else Decimal(amount),
        **extra,
    )
    session.add(deal)
    session.commit()
    return deal


def link(session, deal, competitor, threat="medium") -> None:
    session.add(
        OpportunityCompetitor(
            opportunity_id=deal.id, competitor_id=competitor.id, threat=threat
        )
    )
    session.commit()


def build_record(session) -> int:
    """Deals against "Rival" and others; returns Rival's id."""
    rival = Competitor(name="Rival Corp")
    other = Competitor(name="Other Corp")
    session.add_all([rival, other])
    session.commit()
    for name, stage, amount, linked in (
        ("Won A", "closed_won", "1234.56", [rival]),
        ("Won B", "closed_won", "100.01", [rival, other]),
        ("Won C no amount", "closed_won", None, [rival]),
        ("Won without Rival", "closed_won", "999.99", [other]),
        ("Open with Rival", "proposal", "5000.00", [rival]),
        ("Lost with Rival linked", "closed_lost", "70.00", [rival]),
    ):
        deal = make_deal(session, name, stage, amount)
        for competitor in linked:
            link(session, deal, competitor, threat="high")
    make_deal(session, "Lost to Rival 1", "closed_lost", "0.10", lost_to_id=rival.id)
    make_deal(session, "Lost to Rival 2", "closed_lost", "2500.25", lost_to_id=rival.id)
    make_deal(session, "Lost to Other", "closed_lost", "800.00", lost_to_id=other.id)
    # "lost to" on a deal that is not closed-lost does not count
    make_deal(session, "Open, lost_to set", "negotiation", "10.00", lost_to_id=rival.id)
    return rival.id


SQL_WON = """
SELECT COUNT(*), COALESCE(SUM(o.amount), 0) FROM opportunity o
JOIN stage s ON s.id = o.stage_id
WHERE s.is_won AND EXISTS (SELECT 1 FROM opportunity_competitor oc
  WHERE oc.opportunity_id = o.id AND oc.competitor_id = :id)
"""
SQL_LOST = """
SELECT COUNT(*), COALESCE(SUM(o.amount), 0) FROM opportunity o
JOIN stage s ON s.id = o.stage_id
WHERE s.is_closed AND NOT s.is_won AND o.lost_to_id = :id
"""


def test_win_loss_matches_direct_sql_sums(app, classroom):
    def check(session):
        rival_id = build_record(session)
        rival = session.get(Competitor, rival_id)
        record = win_loss(session, rival)
        conn = session.connection()
        won_count, won_cents = conn.execute(sa.text(SQL_WON), {"id": rival_id}).one()
        lost_count, lost_cents = conn.execute(sa.text(SQL_LOST), {"id": rival_id}).one()
        assert (record.won_count, record.lost_count) == (won_count, lost_count)
        assert record.won_amount == Decimal(won_cents) / 100
        assert record.lost_amount == Decimal(lost_cents) / 100
        # and the figures themselves, exact to the cent
        assert record.won_count == 3 and record.won_amount == Decimal("1334.57")
        assert record.lost_count == 2 and record.lost_amount == Decimal("2500.35")
        assert isinstance(record.won_amount, Decimal)
        assert {d.name for d in record.lost} == {"Lost to Rival 1", "Lost to Rival 2"}
        assert record.win_rate == 60

    classroom.in_tenant(app, check)


def test_competitor_page_shows_the_record_and_the_deals(app, client, auth, classroom):
    rival_id = classroom.in_tenant(app, build_record)
    auth.login("alice")
    page = client.get(f"/crm/competitors/{rival_id}").get_data(as_text=True)
    assert re.search(r'id="won-count">3<', page)
    assert re.search(r'id="lost-count">2<', page)
    assert "1,334.57" in page and "2,500.35" in page
    for deal in ("Won A", "Won B", "Lost to Rival 2", "Lost to Rival 1"):
        assert deal in page
    assert "Won without Rival" not in page and "Lost to Other" not in page
    # the open deal shows with its threat level, not in the record
    assert "Open with Rival" in page and "High" in page


def test_a_competitor_without_deals_shows_empty_states(app, client, auth, classroom):
    def new_competitor(session):
        competitor = Competitor(name="Quiet Rival Ltd")
        session.add(competitor)
        session.commit()
        return competitor.id

    competitor_id = classroom.in_tenant(app, new_competitor)
    auth.login("alice")
    page = client.get(f"/crm/competitors/{competitor_id}").get_data(as_text=True)
    assert "No deal won against this competitor yet." in page
    assert "No deal lost to this competitor." in page
    assert "This competitor is in no open deal." in page


def test_create_edit_and_history(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/competitors/new",
        data={
            "name": "Acme Rival",
            "website": "https://rival.example.com",
            "strengths": "Cheap",
            "weaknesses": "Slow",
            "products": "Widgets",
            "pricing": "20% under list",
        },
    )
    assert response.status_code == 302
    competitor_id = int(response.location.rsplit("/", 1)[1])
    client.post(
        f"/crm/competitors/{competitor_id}/edit",
        data={"name": "Acme Rival", "strengths": "Cheap and fast"},
    )
    page = client.get(f"/crm/competitors/{competitor_id}").get_data(as_text=True)
    assert "Cheap and fast" in page and "Updated competitor" in page
    assert "Acme Rival" in names_on(client.get("/crm/competitors/?q=rival"))
    actions = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "competitor", AuditLog.entity_id == competitor_id
            )
        ).all(),
    )
    assert sorted(actions) == ["create", "update"]


def test_names_are_unique_with_a_clear_message(app, client, auth, classroom):
    existing = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Competitor.name).limit(1))
    )
    auth.login("alice")
    before = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Competitor.id)))
    )
    page = client.post(
        "/crm/competitors/new", data={"name": f"  {existing.upper()} "}
    ).get_data(as_text=True)
    assert f"A competitor named “{existing}” already exists." in page
    page = client.post("/crm/competitors/new", data={"name": "X", "website": "nope"})
    assert "Invalid URL." in page.get_data(as_text=True)
    after = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Competitor.id)))
    )
    assert after == before


def test_delete_is_blocked_while_a_deal_lists_the_competitor(
    app, client, auth, classroom
):
    def setup(session):
        rival = Competitor(name="Blocked Rival")
        session.add(rival)
        session.commit()
        link(session, make_deal(session, "Deal X", "proposal", "10"), rival)
        return rival.id

    rival_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    page = client.get(f"/crm/competitors/{rival_id}/delete").get_data(as_text=True)
    assert "It cannot be deleted while those records depend on it." in page
    assert client.post(f"/crm/competitors/{rival_id}/delete").status_code == 409
    assert classroom.in_tenant(app, lambda s: s.get(Competitor, rival_id)) is not None


def test_delete_unlinks_lost_deals_only_when_asked(app, client, auth, classroom):
    def setup(session):
        rival = Competitor(name="Lost-to Rival")
        session.add(rival)
        session.commit()
        deal = make_deal(session, "Deal Y", "closed_lost", "10", lost_to_id=rival.id)
        return rival.id, deal.id

    rival_id, deal_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    assert client.post(f"/crm/competitors/{rival_id}/delete").status_code == 409
    response = client.post(f"/crm/competitors/{rival_id}/delete", data={"detach": "y"})
    assert response.status_code == 302
    lost_to = classroom.in_tenant(app, lambda s: s.get(Opportunity, deal_id).lost_to_id)
    assert lost_to is None


def test_instructor_view_cannot_change_competitors(app, client, auth, classroom):
    from tests.helpers import view_as_instructor

    view_as_instructor(client, auth, classroom)
    assert client.get("/crm/competitors/").status_code == 200
    assert client.get("/crm/competitors/new").status_code == 403
    assert client.post("/crm/competitors/new", data={"name": "T"}).status_code == 403
    assert client.post("/crm/competitors/1/delete").status_code == 403
