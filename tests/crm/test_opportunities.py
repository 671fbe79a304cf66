"""Opportunities: stage rules everywhere, kanban, line items, quotes, early warning."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.lines import line_total
from sandbox.crm.opportunities import service as svc
from sandbox.models.crm import AuditLog, Colleague, TenantInfo
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.products import Product
from sandbox.models.crm.sales import LineItem, Opportunity, Quote, Stage, StageHistory
from tests.helpers import make_account, make_contact, view_as_instructor

TODAY = dt.date.today()


def stage_id(session, code: str) -> int:
    return session.scalar(sa.select(Stage.id).where(Stage.code == code))


def make_opportunity(session, **overrides) -> Opportunity:
    stage = session.scalar(
        sa.select(Stage).where(Stage.code == overrides.pop("stage", "prospecting"))
    )
    values = {
        "name": "Lakeside rollout",
        "account_id": 1,
        "close_date": TODAY + dt.timedelta(days=30),
        "stage_id": stage.id,
        "probability": stage.probability,
        "forecast_category": stage.forecast_category,
        "amount": Decimal("1000.00"),
        "last_activity_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        **overrides,
    }
    opp = Opportunity(**values)
    session.add(opp)
    session.commit()
    return opp


def form_data(session, opp_id: int, **changes) -> dict:
    opp = session.get(Opportunity, opp_id)
    data = {
        "name": opp.name,
        "account_id": opp.account_id,
        "contact_id": opp.contact_id or "",
        "stage_id": opp.stage_id,
        "close_date": opp.close_date.isoformat(),
        "amount": str(opp.amount or ""),
        "probability": opp.probability if opp.probability_manual else "",
        "forecast_category": opp.forecast_category,
        "owner_id": opp.owner_id or "",
    }
    data.update(changes)
    return data


def counts(session, opp_id: int) -> tuple[int, int]:
    """(audit rows, history rows) about one deal."""
    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                AuditLog.entity == "opportunity", AuditLog.entity_id == opp_id
            )
        ),
        session.scalar(
            sa.select(sa.func.count()).where(StageHistory.opportunity_id == opp_id)
        ),
    )


@pytest.fixture
def deal(app, classroom):
    return classroom.in_tenant(app, lambda s: make_opportunity(s).id)


def test_closing_lost_without_a_reason_is_refused_by_form_and_kanban(
    app, client, auth, classroom, deal
):
    lost = classroom.in_tenant(app, lambda s: stage_id(s, "closed_lost"))
    before = classroom.in_tenant(app, lambda s: counts(s, deal))
    auth.login("alice")

    data = classroom.in_tenant(app, lambda s: form_data(s, deal, stage_id=lost))
    response = client.post(f"/crm/opportunities/{deal}/edit", data=data)
    assert response.status_code == 200
    assert "Choose why the deal was lost." in response.get_data(as_text=True)

    response = client.post(f"/crm/opportunities/{deal}/move", json={"stage_id": lost})
    assert response.status_code == 422
    assert response.json["field"] == "lost_reason"
    assert response.json["close_lost_url"] == f"/crm/opportunities/{deal}/close-lost"

    # The no-JavaScript "Move to" form sends the student to the close-lost form.
    response = client.post(f"/crm/opportunities/{deal}/move", data={"stage_id": lost})
    assert response.location == f"/crm/opportunities/{deal}/close-lost"
    # There the reason waits to be chosen: nothing is chosen for the student.
    page = client.get(f"/crm/opportunities/{deal}/close-lost").get_data(as_text=True)
    reasons = re.search(r'<select[^>]*id="lost_reason".*?</select>', page, re.S)[0]
    assert '<option value="">— Choose —</option>' in reasons
    assert "selected" not in reasons
    response = client.post(
        f"/crm/opportunities/{deal}/close-lost", data={"lost_reason": ""}
    )
    assert response.status_code == 422

    def unchanged(session):
        opp = session.get(Opportunity, deal)
        assert opp.stage.code == "prospecting" and opp.lost_reason is None
        assert opp.closed_on is None
        assert counts(session, deal) == before

    classroom.in_tenant(app, unchanged)

    response = client.post(
        f"/crm/opportunities/{deal}/move",
        json={"stage_id": lost, "lost_reason": "price"},
    )
    assert response.status_code == 200

    def closed(session):
        opp = session.get(Opportunity, deal)
        assert (opp.stage.code, opp.probability, opp.lost_reason) == (
            "closed_lost",
            0,
            "price",
        )
        assert opp.closed_on == TODAY and opp.forecast_category == "omitted"
        action = session.scalars(
            sa.select(AuditLog).filter_by(entity_id=deal, action="close_lost")
        ).one()
        assert action.details["reason"] == "price" and action.actor == "alice"

    classroom.in_tenant(app, closed)


def test_close_lost_form_names_the_competitor(app, client, auth, classroom, deal):
    rival = classroom.in_tenant(
        app, lambda s: _add(s, Competitor(name="Northwind CRM")).id
    )
    auth.login("alice")
    response = client.post(
        f"/crm/opportunities/{deal}/close-lost",
        data={"lost_reason": "competitor", "lost_to_id": rival},
    )
    assert response.status_code == 302
    opp = classroom.in_tenant(app, lambda s: s.get(Opportunity, deal))
    assert (opp.lost_reason, opp.lost_to_id) == ("competitor", rival)
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert "Northwind CRM" in page and "Lost to a competitor" in page


def _add(session, record):
    session.add(record)
    session.commit()
    return record


def _add_line(session, deal: int, product: Product, quantity: str, price: str):
    """A product line on the deal, written directly (no discount); its id."""
    line = LineItem(
        opportunity_id=deal,
        product_id=product.id,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        discount=Decimal("0"),
        total=Decimal(quantity) * Decimal(price),
    )
    return _add(session, line).id


def test_probability_follows_the_stage_unless_set_by_hand(app, client, auth, classroom):
    auth.login("alice")
    ids = classroom.in_tenant(
        app,
        lambda s: {
            c: stage_id(s, c) for c in ("qualification", "proposal", "negotiation")
        },
    )
    response = client.post(
        "/crm/opportunities/new",
        data={
            "name": "Harbour pilot",
            "account_id": 1,
            "stage_id": ids["qualification"],
            "close_date": (TODAY + dt.timedelta(days=40)).isoformat(),
            "amount": "2500",
            "probability": "",
        },
    )
    assert response.status_code == 302
    opp_id = int(response.location.rsplit("/", 1)[1])
    opp = classroom.in_tenant(app, lambda s: s.get(Opportunity, opp_id))
    assert (opp.probability, opp.probability_manual) == (20, False)

    # A stage change moves an automatic probability along.
    data = classroom.in_tenant(
        app, lambda s: form_data(s, opp_id, stage_id=ids["proposal"])
    )
    client.post(f"/crm/opportunities/{opp_id}/edit", data=data)
    assert (
        classroom.in_tenant(app, lambda s: s.get(Opportunity, opp_id).probability) == 65
    )

    # Typed by hand, it stays through later stage changes (form and kanban).
    data = classroom.in_tenant(app, lambda s: form_data(s, opp_id, probability="35"))
    client.post(f"/crm/opportunities/{opp_id}/edit", data=data)
    data = classroom.in_tenant(
        app, lambda s: form_data(s, opp_id, stage_id=ids["negotiation"])
    )
    client.post(f"/crm/opportunities/{opp_id}/edit", data=data)
    client.post(
        f"/crm/opportunities/{opp_id}/move", json={"stage_id": ids["qualification"]}
    )
    opp = classroom.in_tenant(app, lambda s: s.get(Opportunity, opp_id))
    assert (opp.stage_id, opp.probability, opp.probability_manual) == (
        ids["qualification"],
        35,
        True,
    )
    # Emptying the field hands it back to the stage.
    data = classroom.in_tenant(app, lambda s: form_data(s, opp_id, probability=""))
    client.post(f"/crm/opportunities/{opp_id}/edit", data=data)
    assert (
        classroom.in_tenant(app, lambda s: s.get(Opportunity, opp_id).probability) == 20
    )


def test_kanban_move_follows_the_form_rules_and_writes_history(
    app, client, auth, classroom, deal
):
    ids = classroom.in_tenant(
        app, lambda s: {c: stage_id(s, c) for c in ("negotiation", "closed_won")}
    )
    auth.login("alice")
    response = client.post(
        f"/crm/opportunities/{deal}/move", json={"stage_id": ids["negotiation"]}
    )
    assert response.status_code == 200 and response.json["probability"] == 80
    summary = response.json["columns"][str(ids["negotiation"])]
    assert set(summary) == {"count", "total", "weighted"}

    response = client.post(
        f"/crm/opportunities/{deal}/move", json={"stage_id": ids["closed_won"]}
    )
    assert response.status_code == 200

    def check(session):
        opp = session.get(Opportunity, deal)
        assert (opp.probability, opp.closed_on, opp.forecast_category) == (
            100,
            TODAY,
            "closed",
        )
        history = session.scalars(
            sa.select(StageHistory)
            .where(StageHistory.opportunity_id == deal)
            .order_by(StageHistory.id)
        ).all()
        assert [h.stage_id for h in history] == [ids["negotiation"], ids["closed_won"]]
        assert history[-1].probability == 100 and history[-1].actor == "alice"
        actions = session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.entity_id == deal, AuditLog.entity == "opportunity")
            .order_by(AuditLog.id)
        ).all()
        business = [a for a in actions if a not in ("create", "update")]
        assert business == ["move_stage", "close_won"]

    classroom.in_tenant(app, check)
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert "Closed Lakeside rollout" not in page  # the sentence links the name
    assert "as won" in page


def test_the_no_js_move_form_works(app, client, auth, classroom, deal):
    proposal = classroom.in_tenant(app, lambda s: stage_id(s, "proposal"))
    auth.login("alice")
    response = client.post(
        f"/crm/opportunities/{deal}/move", data={"stage_id": proposal}
    )
    assert response.location == "/crm/opportunities/pipeline"
    assert classroom.in_tenant(app, lambda s: s.get(Opportunity, deal).stage_id) == (
        proposal
    )


def test_a_bad_move_is_a_clear_error(client, auth, classroom, deal):
    auth.login("alice")
    response = client.post(f"/crm/opportunities/{deal}/move", json={"stage_id": "x"})
    assert response.status_code == 400 and response.json["error"] == "Choose a stage."
    response = client.post(f"/crm/opportunities/{deal}/move", json=[1, 2])
    assert response.status_code == 400
    for huge in (2**63, "9223372036854775808", -(2**70)):
        response = client.post(
            f"/crm/opportunities/{deal}/move", json={"stage_id": huge}
        )
        assert response.status_code == 400, huge
        response = client.post(
            f"/crm/opportunities/{deal}/move", data={"stage_id": str(huge)}
        )
        assert response.status_code == 302, huge
    response = client.post(
        f"/crm/opportunities/{deal}/move", json={"stage_id": 3, "lost_to_id": 2**64}
    )
    assert response.status_code in (200, 400)


def test_reopen_puts_a_closed_deal_back_where_it_was(
    app, client, auth, classroom, deal
):
    ids = classroom.in_tenant(
        app, lambda s: {c: stage_id(s, c) for c in ("proposal", "closed_lost")}
    )
    auth.login("alice")
    client.post(f"/crm/opportunities/{deal}/move", json={"stage_id": ids["proposal"]})
    client.post(f"/crm/opportunities/{deal}/close-lost", data={"lost_reason": "timing"})
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    selected = re.search(r'<option selected value="(\d+)"', page) or re.search(
        r'<option value="(\d+)" selected', page
    )
    assert int(selected.group(1)) == ids["proposal"]  # offered: where it was
    response = client.post(
        f"/crm/opportunities/{deal}/reopen", data={"stage_id": ids["proposal"]}
    )
    assert response.status_code == 302

    def check(session):
        opp = session.get(Opportunity, deal)
        assert (opp.stage_id, opp.probability) == (ids["proposal"], 65)
        assert (opp.closed_on, opp.lost_reason, opp.lost_to_id) == (None, None, None)
        actions = session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.entity_id == deal, AuditLog.entity == "opportunity")
            .order_by(AuditLog.id)
        ).all()
        business = [a for a in actions if a not in ("create", "update")]
        assert business == ["move_stage", "close_lost", "reopen"]

    classroom.in_tenant(app, check)


def test_close_won_button(app, client, auth, classroom, deal):
    auth.login("alice")
    assert client.post(f"/crm/opportunities/{deal}/close-won").status_code == 302
    opp = classroom.in_tenant(
        app,
        lambda s: (lambda o: (o.stage.code, o.probability, o.closed_on))(
            s.get(Opportunity, deal)
        ),
    )
    assert opp == ("closed_won", 100, TODAY)


def _entries(page: str, marker: str) -> list[str]:
    """The ``<li>`` entries of the timeline list after ``marker`` on a page."""
    timeline = page.split(marker, 1)[1].split("</ol>", 1)[0]
    return timeline.split('<li class="mb-3">')[1:]


def test_an_action_and_the_changes_it_made_read_as_one_entry(
    app, client, auth, classroom, deal
):
    auth.login("alice")
    assert client.post(f"/crm/opportunities/{deal}/close-won").status_code == 302
    rows = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.entity_id == deal, AuditLog.entity == "opportunity")
            .order_by(AuditLog.id.desc())
            .limit(2)
        ).all(),
    )
    assert sorted(rows) == ["close_won", "update"]  # the log keeps both rows
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    newest = _entries(page, 'class="list-unstyled timeline')[0]
    assert "as won" in newest and "Stage" in newest and "Closed Won" in newest
    assert not any(
        "Updated opportunity" in entry and "Closed Won" in entry
        for entry in _entries(page, 'class="list-unstyled timeline')
    )
    workbench = client.get("/").get_data(as_text=True)
    recent = workbench.split('class="list-unstyled mb-0 recent-activity">', 1)[1]
    newest, second = recent.split('<li class="mb-2">')[1:3]
    assert "as won" in newest
    assert not ("Updated opportunity" in second and "Lakeside rollout" in second)


def test_pipeline_column_totals_equal_sql_sums(app, client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/opportunities/pipeline").get_data(as_text=True)

    def check(session):
        columns = svc.pipeline(session)
        rows = session.connection().exec_driver_sql(
            "SELECT stage_id, COUNT(*), SUM(amount), SUM(amount * probability) "
            "FROM opportunity GROUP BY stage_id"
        )
        expected = {
            sid: (n, Decimal(cents) / 100, Decimal(weighted) / 10000)
            for sid, n, cents, weighted in rows
        }
        assert sum(c.count for c in columns) == 60
        for column in columns:
            n, total, weighted = expected.get(column.stage.id, (0, 0, 0))
            assert (column.count, column.total) == (n, total)
            assert column.weighted == Decimal(weighted).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
        return columns

    columns = classroom.in_tenant(app, check)
    for column in columns:
        section = page.split(f'data-stage-id="{column.stage.id}"', 1)[1]
        assert f'data-summary="count">{column.count}<' in section
        assert f'data-summary="total">{column.total:,.2f}<' in section
        assert f'data-summary="weighted">{column.weighted:,.2f}<' in section


def test_pipeline_shows_a_bounded_number_of_cards_with_a_fixed_query_count(
    app, client, auth, classroom
):
    def many(session):
        negotiation = stage_id(session, "negotiation")
        for n in range(70):
            session.add(
                Opportunity(
                    name=f"Bulk deal {n:03d}",
                    account_id=1 + n % 50,
                    close_date=TODAY + dt.timedelta(days=n + 1),
                    stage_id=negotiation,
                    probability=80,
                    forecast_category="commit",
                    amount=Decimal("10.00"),
                )
            )
        session.commit()
        return negotiation, session.get_bind()

    negotiation, engine = classroom.in_tenant(app, many)
    auth.login("alice")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/crm/opportunities/pipeline").get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    section = page.split(f'data-stage-id="{negotiation}"', 1)[1].split(
        "kanban-column", 1
    )[0]
    total = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Opportunity.stage_id == negotiation)
        ),
    )
    assert section.count('class="kanban-card card') == svc.CARDS_PER_COLUMN
    assert f"{total - svc.CARDS_PER_COLUMN} more deals" in section
    assert len(statements) <= 8, statements


def test_line_items_drive_the_amount_exactly(app, client, auth, classroom, deal):
    product = classroom.in_tenant(
        app,
        lambda s: (
            _add(
                s, Product(code="WID-1", name="Widget", list_price=Decimal("33.33"))
            ).id
        ),
    )
    auth.login("alice")
    lines = f"/crm/opportunities/{deal}/lines/new"
    assert (
        client.post(
            lines, data={"product_id": product, "quantity": "3", "discount": "10"}
        ).status_code
        == 302
    )  # 3 × 33.33 less 10 % = 89.991 → 89.99, the list price by default
    client.post(
        lines,
        data={
            "product_id": product,
            "quantity": "2.5",
            "unit_price": "19.99",
            "discount": "",
        },
    )  # 2.5 × 19.99 = 49.975 → 49.98 (half up)
    bad = client.post(lines, data={"product_id": product, "quantity": "-1"})
    assert bad.status_code == 422
    for junk in ("NaN", "Infinity", "-inf"):  # a range error, never a 500
        for field in ("quantity", "discount"):
            data = {"product_id": product, "quantity": "1", field: junk}
            bad = client.post(lines, data=data)
            assert bad.status_code == 422, (field, junk)

    def amounts(session):
        opp = session.get(Opportunity, deal)
        return opp.amount, [i.total for i in opp.line_items]

    amount, totals = classroom.in_tenant(app, amounts)
    assert totals == [Decimal("89.99"), Decimal("49.98")]
    assert amount == Decimal("139.97")
    # A discount reads as the contract and order built from the deal show it.
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert '<td class="text-end">10</td>' in page and ">10.00<" not in page

    # With lines the amount is read-only: a typed amount is ignored.
    form = client.get(f"/crm/opportunities/{deal}/edit").get_data(as_text=True)
    assert re.search(r'id="amount"[^>]*readonly', form)
    data = classroom.in_tenant(app, lambda s: form_data(s, deal, amount="5"))
    client.post(f"/crm/opportunities/{deal}/edit", data=data)
    assert classroom.in_tenant(app, amounts)[0] == Decimal("139.97")

    first = classroom.in_tenant(
        app, lambda s: s.get(Opportunity, deal).line_items[0].id
    )
    client.post(f"/crm/opportunities/{deal}/lines/{first}/delete")
    assert classroom.in_tenant(app, amounts)[0] == Decimal("49.98")
    history = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(StageHistory.amount)
            .where(StageHistory.opportunity_id == deal)
            .order_by(StageHistory.id)
        ).all(),
    )
    assert history == [Decimal("89.99"), Decimal("139.97"), Decimal("49.98")]


def test_a_closed_deal_keeps_the_products_it_was_won_with(
    app, client, auth, classroom, deal
):
    def with_a_line(session):
        product = _add(session, Product(code="LK-1", name="Lock", list_price=5))
        line = _add_line(session, deal, product, "2", "5.00")
        return product.id, line

    product, line = classroom.in_tenant(app, with_a_line)
    auth.login("alice")
    assert client.post(f"/crm/opportunities/{deal}/close-won").status_code == 302
    before = classroom.in_tenant(app, lambda s: s.get(Opportunity, deal).amount)
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert f"/crm/opportunities/{deal}/lines/new" not in page
    base = f"/crm/opportunities/{deal}/lines"
    for url, data in (
        (f"{base}/new", {"product_id": product, "quantity": "5"}),
        (f"{base}/{line}/edit", {"product_id": product, "quantity": "9"}),
        (f"{base}/{line}/delete", {}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 302, url
        assert response.location.endswith(f"/crm/opportunities/{deal}#line-items")
    amount, lines = classroom.in_tenant(
        app,
        lambda s: (
            s.get(Opportunity, deal).amount,
            len(s.get(Opportunity, deal).line_items),
        ),
    )
    assert (amount, lines) == (before, 1)
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert "This deal is closed: reopen it to change its products." in page


def test_the_timeline_records_what_the_student_changed_not_the_bookkeeping(
    app, client, auth, classroom, deal
):
    auth.login("alice")
    data = classroom.in_tenant(app, lambda s: form_data(s, deal, amount="4321.00"))
    assert client.post(f"/crm/opportunities/{deal}/edit", data=data).status_code == 302
    changes = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.changes)
            .where(AuditLog.entity_id == deal, AuditLog.action == "update")
            .order_by(AuditLog.id.desc())
        ).first(),
    )
    assert "amount" in changes and "last_activity_at" not in changes
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    history = page.split('class="list-unstyled timeline', 1)[1]
    assert "Last activity" not in history


def test_quote_is_numbered_and_printable(app, client, auth, classroom, deal):
    auth.login("alice")
    response = client.post(f"/crm/opportunities/{deal}/quotes")
    assert "Add products to the opportunity before quoting it." in client.get(
        response.location
    ).get_data(as_text=True)

    def add_line(session):
        product = _add(session, Product(code="P-1", name="Scanner", list_price=10))
        _add_line(session, deal, product, "4", "320.00")

    classroom.in_tenant(app, add_line)
    first = client.post(f"/crm/opportunities/{deal}/quotes")
    second = client.post(f"/crm/opportunities/{deal}/quotes")
    page = client.get(second.location).get_data(as_text=True)
    account = classroom.in_tenant(app, lambda s: s.get(Opportunity, deal).account.name)
    assert f"Q-{deal}-2" in page and "Scanner" in page and "1,280.00" in page
    assert account in page and "USD" in page and "@media print" not in page
    numbers = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(Quote.number)
            .where(Quote.opportunity_id == deal)
            .order_by(Quote.id)
        ).all(),
    )
    assert numbers == [f"Q-{deal}-1", f"Q-{deal}-2"]
    assert first.location != second.location
    client.post("/language", data={"language": "zh"})
    assert "报价单" in client.get(second.location).get_data(as_text=True)
    # The colleague the student plays ("You") is the student on the customer's copy.
    classroom.in_tenant(app, lambda s: _own_deal(s, deal))
    page = client.get(second.location).get_data(as_text=True)
    sheet = page.split("<article", 1)[1]
    assert "alice" in sheet and "You" not in sheet


def _own_deal(session, deal):
    session.get(Opportunity, deal).owner_id = session.scalar(
        sa.select(Colleague.id).where(Colleague.is_self)
    )
    session.commit()


def test_competitors_on_a_deal(app, client, auth, classroom, deal):
    rival = classroom.in_tenant(app, lambda s: _add(s, Competitor(name="Contoso")).id)
    auth.login("alice")
    url = f"/crm/opportunities/{deal}/competitors/new"
    data = {
        "competitor_id": rival,
        "threat": "high",
        "strengths": "Cheaper licences",
        "weaknesses": "No local support",
    }
    assert client.post(url, data=data).status_code == 302
    again = client.post(url, data=data)
    assert "already on the deal" in again.get_data(as_text=True)
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert "Contoso" in page and "Cheaper licences" in page and "High" in page
    link = classroom.in_tenant(
        app,
        lambda s: (
            s.scalars(sa.select(OpportunityCompetitor).filter_by(opportunity_id=deal))
            .one()
            .id
        ),
    )
    client.post(
        f"/crm/opportunities/{deal}/competitors/{link}/edit",
        data={"threat": "low", "strengths": "", "weaknesses": "Slow"},
    )
    threat = classroom.in_tenant(app, lambda s: s.get(OpportunityCompetitor, link))
    assert (threat.threat, threat.competitor_id, threat.weaknesses) == (
        "low",
        rival,
        "Slow",
    )
    client.post(f"/crm/opportunities/{deal}/competitors/{link}/remove")
    assert (
        classroom.in_tenant(app, lambda s: s.get(OpportunityCompetitor, link)) is None
    )
    actions = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "opportunity", AuditLog.entity_id == deal
            )
        ).all(),
    )
    assert {"add_competitor", "remove_competitor"} <= set(actions)


def _flag(session):
    overdue = make_opportunity(
        session, name="Overdue harbour deal", close_date=TODAY - dt.timedelta(days=3)
    )
    stale = make_opportunity(
        session,
        name="Quiet mill deal",
        last_activity_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
        - dt.timedelta(days=45),
    )
    fine = make_opportunity(session, name="Lively deal")
    won = make_opportunity(
        session,
        name="Old won deal",
        stage="closed_won",
        close_date=TODAY - dt.timedelta(days=90),
    )
    return overdue.id, stale.id, fine.id, won.id


def test_early_warning_on_list_record_and_workbench(app, client, auth, classroom):
    overdue, stale, fine, won = classroom.in_tenant(app, _flag)
    auth.login("alice")
    listed = client.get("/crm/opportunities/?warning=any&per_page=100&q=deal").get_data(
        as_text=True
    )
    assert "Overdue harbour deal" in listed and "Quiet mill deal" in listed
    assert "Lively deal" not in listed and "Old won deal" not in listed
    assert "Past close date" in listed and "No activity" in listed
    only_overdue = client.get("/crm/opportunities/?warning=overdue&q=deal").get_data(
        as_text=True
    )
    assert "Overdue harbour deal" in only_overdue
    assert "Quiet mill deal" not in only_overdue

    record = client.get(f"/crm/opportunities/{overdue}").get_data(as_text=True)
    assert "The close date has passed" in record
    record = client.get(f"/crm/opportunities/{stale}").get_data(as_text=True)
    assert "for more than 30 days" in record
    assert "early-warning" not in client.get(f"/crm/opportunities/{fine}").get_data(
        as_text=True
    )
    assert "early-warning" not in client.get(f"/crm/opportunities/{won}").get_data(
        as_text=True
    )

    home = client.get("/").get_data(as_text=True)
    assert "Opportunity “Overdue harbour deal” is past its close date." in home
    assert "Quiet mill deal" in home

    # The threshold is a tenant setting.
    classroom.in_tenant(
        app, lambda s: _add(s, TenantInfo(key="stale_opportunity_days", value="60"))
    )
    record = client.get(f"/crm/opportunities/{stale}").get_data(as_text=True)
    assert "early-warning" not in record


def test_list_runs_a_fixed_number_of_queries(app, client, auth, classroom):
    engine = classroom.in_tenant(app, lambda s: s.get_bind())
    auth.login("alice")

    def queries(url: str) -> int:
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    small = queries("/crm/opportunities/?per_page=10")
    assert queries("/crm/opportunities/?per_page=100") <= small
    assert queries("/crm/opportunities/?per_page=100&warning=any") <= small


def test_list_sorts_filters_and_links_the_pipeline(app, client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/opportunities/?per_page=100").get_data(as_text=True)
    assert "60 records" in page and "/crm/opportunities/pipeline" in page
    won = classroom.in_tenant(app, lambda s: stage_id(s, "closed_won"))
    n_won = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Opportunity.stage_id == won)
        ),
    )
    page = client.get(f"/crm/opportunities/?stage={won}").get_data(as_text=True)
    assert f"{n_won} records" in page
    for sort in (
        "name",
        "account",
        "stage",
        "amount",
        "close_date",
        "owner",
        "warning",
    ):
        assert (
            client.get(f"/crm/opportunities/?sort={sort}&dir=desc").status_code == 200
        )


def test_create_validates_beside_the_fields(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/opportunities/new",
        data={"name": " ", "account_id": "", "stage_id": "1", "close_date": "soon"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count("invalid-feedback") >= 3
    other = classroom.in_tenant(app, lambda s: make_account(s, name="Elsewhere Ltd").id)
    contact = classroom.in_tenant(app, lambda s: make_contact(s, account_id=other).id)
    response = client.post(
        "/crm/opportunities/new",
        data={
            "name": "Mismatch",
            "account_id": 1,
            "contact_id": contact,
            "stage_id": 1,
            "close_date": TODAY.isoformat(),
        },
    )
    assert "This contact works at another account." in response.get_data(as_text=True)
    assert (
        classroom.in_tenant(
            app,
            lambda s: s.scalar(
                sa.select(sa.func.count()).where(Opportunity.name == "Mismatch")
            ),
        )
        == 0
    )


def test_delete_takes_the_deals_own_records_along(app, client, auth, classroom, deal):
    auth.login("alice")
    client.post(f"/crm/opportunities/{deal}/move", json={"stage_id": 2})
    assert "stage history" in client.get(f"/crm/opportunities/{deal}/delete").get_data(
        as_text=True
    )
    assert client.post(f"/crm/opportunities/{deal}/delete").status_code == 302
    left = classroom.in_tenant(
        app,
        lambda s: (
            s.get(Opportunity, deal),
            s.scalar(
                sa.select(sa.func.count()).where(StageHistory.opportunity_id == deal)
            ),
        ),
    )
    assert left == (None, 0)


def test_the_scenario_brings_a_realistic_pipeline(app, classroom):
    def check(session):
        opps = session.scalars(sa.select(Opportunity)).all()
        assert len(opps) == 60
        for opp in opps:
            if opp.stage.is_closed:
                assert opp.close_date < TODAY and opp.closed_on == opp.close_date
                assert (opp.lost_reason is None) == opp.stage.is_won
            else:
                assert opp.close_date > TODAY
            if opp.line_items:
                assert opp.amount == sum(i.total for i in opp.line_items)
                for item in opp.line_items:
                    assert item.total == line_total(
                        item.quantity, item.unit_price, item.discount
                    )
        assert sum(1 for o in opps if o.line_items) >= 10

    classroom.in_tenant(app, check)


def test_an_instructor_sees_the_pipeline_read_only(app, client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/opportunities/pipeline").get_data(as_text=True)
    assert 'class="move-form' in page and 'data-writable="true"' in page
    auth.logout()
    view_as_instructor(client, auth, classroom)
    page = client.get("/crm/opportunities/pipeline").get_data(as_text=True)
    assert 'class="move-form' not in page and 'data-writable="false"' in page
    assert 'draggable="true"' not in page
    response = client.post("/crm/opportunities/1/move", json={"stage_id": 2})
    assert response.status_code == 403
    detail = client.get("/crm/opportunities/1").get_data(as_text=True)
    assert "Close as won" not in detail and "Add a product" not in detail


def test_contact_roles_on_a_deal(app, client, auth, classroom, deal):
    contact = classroom.in_tenant(app, lambda s: make_contact(s).id)
    auth.login("alice")
    url = f"/crm/opportunities/{deal}/roles/new"
    data = {"contact_id": contact, "role": "decision_maker"}
    assert client.post(url, data=data).status_code == 302
    again = client.post(url, data=data)
    assert again.status_code == 422
    assert "already has a role" in again.get_data(as_text=True)
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    assert "Lin Wei" in page or "Wei Lin" in page
    logged = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(AuditLog.record_name).where(
                AuditLog.entity == "opportunity_contact_role"
            )
        ),
    )
    assert "Wei" in logged and "decision_maker" in logged
    role = classroom.in_tenant(
        app, lambda s: s.get(Opportunity, deal).contact_roles[0].id
    )
    client.post(f"/crm/opportunities/{deal}/roles/{role}/remove")
    assert (
        classroom.in_tenant(app, lambda s: s.get(Opportunity, deal).contact_roles) == []
    )


def test_a_line_of_another_deal_is_not_found(app, client, auth, classroom, deal):
    line = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(LineItem.id).where(LineItem.opportunity_id != deal)
        ),
    )
    auth.login("alice")
    assert client.get(f"/crm/opportunities/{deal}/lines/{line}/edit").status_code == 404
    assert (
        client.post(f"/crm/opportunities/{deal}/lines/{line}/delete").status_code == 404
    )


def test_removing_a_product_line_asks_first(app, client, auth, classroom, deal):
    def add_line(session):
        product = _add(session, Product(code="P-9", name="Plotter", list_price=10))
        return _add_line(session, deal, product, "1", "10.00")

    line = classroom.in_tenant(app, add_line)
    auth.login("alice")
    page = client.get(f"/crm/opportunities/{deal}").get_data(as_text=True)
    remove = page.split(f"/lines/{line}/delete", 1)[1].split(">", 1)[0]
    assert 'data-confirm="Remove Plotter' in remove
