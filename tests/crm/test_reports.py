"""Reports and the 7P analysis: every figure equals a direct SQL computation over the
tenant, the filters narrow what is counted, and the exports hold the page's table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from sandbox import tenancy
from sandbox.models import utcnow
from sandbox.models.crm import Account, Colleague, Contact
from sandbox.models.crm.activities import Activity
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.forecasts import Quota
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage
from tests.helpers import view_as_instructor

TODAY = dt.date.today()


# ------------------------------------------------------------------ helpers


def money(cents) -> str:
    return f"{Decimal(int(cents or 0)) / 100:.2f}"


def pct(part, whole) -> str:
    if not whole:
        return ""
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{value:.2f}"  # as the CSV writes every decimal


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export(client, key: str, fmt: str = "csv", **args) -> bytes:
    response = client.get(f"/crm/reports/{key}/export.{fmt}", query_string=args)
    assert response.status_code == 200, (key, args)
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def table(client, key: str, **args) -> tuple[list[dict], dict | None]:
    """The report section as CSV: its rows by header, and its totals row."""
    defaults = {"period": "all", **({"p": "all"} if key == "7p" else {})}
    rows = read_csv(export(client, key, **{**defaults, **args}))
    header, body = rows[0], rows[1:]
    records = [dict(zip(header, row, strict=True)) for row in body]
    totals = [r for r in records if r[header[0]] == "Total"]
    return [r for r in records if r[header[0]] != "Total"], (
        totals[0] if totals else None
    )


@pytest.fixture
def db_file(app, classroom):
    with app.app_context():
        return tenancy.tenant_path(classroom.tenant(0).file_path)


@pytest.fixture
def sql(db_file):
    """Run SQL on alice's tenant file directly (not through the app)."""

    def run(statement: str, *params):
        conn = sqlite3.connect(db_file)
        try:
            return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    return run


def enrich(session) -> dict:
    """Competitors on deals, two campaigns with leads, deals and members, account
    sources, a converted lead, and activities done, open and overdue.

    The scenario's own competitor links, campaigns and activities are cleared
    first, so the figures below come from these records alone."""
    connection = session.connection()
    for statement in (
        "UPDATE opportunity SET lost_to_id = NULL, campaign_id = NULL",
        "UPDATE lead SET campaign_id = NULL",
        "DELETE FROM opportunity_competitor",
        "DELETE FROM campaign_member",
        "DELETE FROM campaign",
        "DELETE FROM activity_attendee",
        "DELETE FROM activity",
    ):
        connection.exec_driver_sql(statement)
    won = session.scalars(
        Opportunity.__table__.select()
        .with_only_columns(Opportunity.id)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Stage.is_won.is_(True))
        .order_by(Opportunity.id)
    ).all()
    lost = session.scalars(
        Opportunity.__table__.select()
        .with_only_columns(Opportunity.id)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Stage.is_closed.is_(True), Stage.is_won.is_(False))
        .order_by(Opportunity.id)
    ).all()
    # Repeat business: one account buys twice in a quarter (one quarter), another
    # in two quarters.
    first, second, third, fourth = (session.get(Opportunity, i) for i in won[:4])
    second.account_id, third.account_id = first.account_id, fourth.account_id
    first.closed_on, second.closed_on = dt.date(2026, 7, 5), dt.date(2026, 8, 20)
    third.closed_on, fourth.closed_on = dt.date(2026, 4, 10), dt.date(2026, 10, 10)
    rival = session.get(Competitor, 1)
    other = session.get(Competitor, 2)
    rival.name = "=HYPERLINK(1)"  # a would-be formula, for the export test
    for deal_id in lost[:3]:
        session.get(Opportunity, deal_id).lost_to_id = rival.id
    session.add(OpportunityCompetitor(opportunity_id=lost[0], competitor_id=other.id))
    for deal_id in won[:2]:
        session.add(
            OpportunityCompetitor(opportunity_id=deal_id, competitor_id=rival.id)
        )

    expo = Campaign(
        name="Spring Expo",
        status="completed",
        start_date=TODAY - dt.timedelta(days=40),
        actual_cost=Decimal("1000"),
        owner_id=1,
    )
    mailing = Campaign(name="Mailing", status="active", owner_id=2)
    session.add_all([expo, mailing])
    session.flush()
    for deal_id in won[:3]:
        session.get(Opportunity, deal_id).campaign_id = expo.id
    session.get(Opportunity, lost[-1]).campaign_id = mailing.id
    leads = session.scalars(Lead.__table__.select().with_only_columns(Lead.id)).all()
    for lead_id in leads[:2]:
        session.get(Lead, lead_id).campaign_id = expo.id
    converted = session.get(Lead, leads[3])
    converted.status = "converted"
    converted.converted_at = utcnow()

    contacts = session.scalars(
        Contact.__table__.select()
        .with_only_columns(Contact.id)
        .where(Contact.account_id.is_not(None))
        .order_by(Contact.id)
    ).all()
    statuses = ("planned", "sent", "responded", "converted", "responded")
    for n, contact_id in enumerate(contacts[:5]):
        session.add(
            CampaignMember(
                campaign_id=expo.id, contact_id=contact_id, status=statuses[n]
            )
        )
    for n, lead_id in enumerate(leads[5:8]):
        session.add(
            CampaignMember(campaign_id=mailing.id, lead_id=lead_id, status=statuses[n])
        )

    accounts = session.scalars(
        Account.__table__.select().with_only_columns(Account.id).order_by(Account.id)
    ).all()
    for n, account_id in enumerate(accounts[:12]):
        session.get(Account, account_id).source = ("web", "referral", "partner")[n % 3]

    now = utcnow()
    session.add_all(
        [
            Activity(subject="Call A", kind="call", owner_id=1, starts_at=now),
            Activity(
                subject="Task done",
                owner_id=1,
                due_date=TODAY - dt.timedelta(days=3),
                completed_at=now,
                status="completed",
            ),
            Activity(
                subject="Task late", owner_id=2, due_date=TODAY - dt.timedelta(days=2)
            ),
            Activity(
                subject="Task later", owner_id=2, due_date=TODAY + dt.timedelta(days=5)
            ),
            Activity(subject="Old task", owner_id=3, due_date=dt.date(2020, 1, 6)),
            Activity(subject="Nobody's", due_date=TODAY),
            Activity(
                subject="Called off",
                owner_id=2,
                due_date=TODAY - dt.timedelta(days=9),
                status="cancelled",
            ),
        ]
    )
    session.commit()
    return {"won": won, "lost": lost, "expo": expo.id, "rival": rival.id}


@pytest.fixture
def world(app, classroom, auth):
    facts = classroom.in_tenant(app, enrich)
    auth.login("alice")
    return facts


# ------------------------------------------------------------------ the pages


def test_the_index_lists_every_report_and_each_page_draws_a_chart(app, client, world):
    from sandbox.crm.reports.framework import REPORTS

    index = client.get("/crm/reports/").get_data(as_text=True)
    for key in REPORTS:
        assert f'href="/crm/reports/{key}"' in index
        page = client.get(f"/crm/reports/{key}?period=all")
        assert page.status_code == 200, key
        html = page.get_data(as_text=True)
        assert 'class="chart-spec"' in html, key
        # The table behind each chart describes it to screen readers.
        for canvas, described in re.findall(
            r'<canvas id="([^"]+)"[^>]*aria-describedby="([^"]+)"', html
        ):
            assert f'id="{described}"' in html, (key, canvas)
        assert "vendor/chartjs/chart.umd.min.js" in html
        assert "cdn" not in html.lower()
    assert client.get("/crm/reports/no-such-report").status_code == 404


def test_pipeline_by_stage_equals_sql_sums(client, world, sql):
    rows, totals = table(client, "pipeline")
    expected = sql(
        "SELECT s.name, count(o.id), coalesce(sum(o.amount), 0),"
        " coalesce(sum(o.amount * o.probability), 0)"
        " FROM stage s LEFT JOIN opportunity o ON o.stage_id = s.id"
        " WHERE s.is_closed = 0 GROUP BY s.id ORDER BY s.position"
    )
    assert [
        (r["Stage"], int(r["Opportunities"]), r["Amount"], r["Weighted amount"])
        for r in rows
    ] == [
        (
            name,
            n,
            money(amount),
            str((Decimal(w) / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP)),
        )
        for name, n, amount, w in expected
    ]
    count, amount, weighted = sql(
        "SELECT count(*), sum(o.amount), sum(o.amount * o.probability)"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id WHERE s.is_closed = 0"
    )[0]
    assert totals["Opportunities"] == str(count)
    assert totals["Amount"] == money(amount)
    assert Decimal(totals["Weighted amount"]) == (Decimal(weighted) / 10000).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def test_the_owner_filter_counts_only_that_colleagues_records(client, world, sql):
    _rows, totals = table(client, "pipeline", owner="2")
    count, amount = sql(
        "SELECT count(*), sum(amount) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_closed = 0 AND o.owner_id = 2"
    )[0]
    assert (totals["Opportunities"], totals["Amount"]) == (str(count), money(amount))
    everyone = sql(
        "SELECT count(*) FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        " WHERE s.is_closed = 0"
    )[0][0]
    assert 0 < count < everyone
    # An owner no colleague has is ignored, not an error.
    _rows, all_totals = table(client, "pipeline", owner="999999")
    assert all_totals["Opportunities"] == str(everyone)


def test_the_period_filter_keeps_the_dates_inside_it(client, world, sql):
    first, last = sql(
        "SELECT min(close_date), max(close_date) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_closed = 0"
    )[0]
    middle = (
        dt.date.fromisoformat(first)
        + (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)) / 2
    )
    _rows, totals = table(
        client, "pipeline", period="custom", **{"from": first, "to": middle.isoformat()}
    )
    count, amount = sql(
        "SELECT count(*), sum(amount) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_closed = 0 AND close_date BETWEEN ? AND ?",
        first,
        middle.isoformat(),
    )[0]
    assert (totals["Opportunities"], totals["Amount"]) == (str(count), money(amount))
    assert 0 < count


def test_won_sales_by_month_equal_sql_sums_per_month(client, world, sql):
    rows, totals = table(client, "won-by-month")
    expected = sql(
        "SELECT strftime('%Y-%m', coalesce(o.closed_on, o.close_date)), count(*),"
        " sum(o.amount) FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        " WHERE s.is_won = 1 GROUP BY 1 ORDER BY 1"
    )
    shown = {
        dt.datetime.strptime(r["Month"], "%b %Y").strftime("%Y-%m"): (
            int(r["Deals won"]),
            r["Amount won"],
        )
        for r in rows
        if r["Deals won"] != "0"
    }
    assert shown == {month: (n, money(s)) for month, n, s in expected}
    count, amount = sql(
        "SELECT count(*), sum(amount) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_won = 1"
    )[0]
    assert (totals["Deals won"], totals["Amount won"]) == (str(count), money(amount))
    # Months without a win are shown as zero, so the chart's axis has no gaps.
    assert len(rows) >= len(expected)


def test_win_loss_by_competitor_equals_sql(client, world, sql):
    rows, totals = table(client, "competitors")
    expected = sql(
        "SELECT c.name, count(o.id), sum(s.is_won), sum(1 - s.is_won),"
        " sum(o.lost_to_id = c.id), sum(CASE WHEN s.is_won THEN o.amount ELSE 0 END),"
        " sum(CASE WHEN s.is_won THEN 0 ELSE o.amount END)"
        " FROM competitor c JOIN opportunity o ON (o.lost_to_id = c.id OR EXISTS"
        " (SELECT 1 FROM opportunity_competitor oc WHERE oc.opportunity_id = o.id"
        " AND oc.competitor_id = c.id)) JOIN stage s ON s.id = o.stage_id"
        " WHERE s.is_closed = 1 GROUP BY c.id ORDER BY c.name"
    )
    assert len(expected) == 2
    assert [
        (
            r["Competitor"],
            r["Closed deals"],
            r["Won"],
            r["Lost"],
            r["Win rate (%)"],
            r["Lost to them"],
            r["Amount won"],
            r["Amount lost"],
        )
        for r in rows
    ] == [
        (
            "'" + n if n.startswith("=") else n,
            str(d),
            str(w),
            str(lo),
            pct(w, d),
            str(to),
            money(a),
            money(b),
        )
        for n, d, w, lo, to, a, b in expected
    ]
    assert totals["Closed deals"] == str(sum(e[1] for e in expected))


def test_leads_by_source_equal_sql_with_the_conversion_rate(client, world, sql):
    rows, totals = table(client, "lead-sources")
    expected = sql(
        "SELECT source, count(*), sum(status IN ('qualified', 'converted')"
        " OR converted_at IS NOT NULL), sum(status = 'converted'"
        " OR converted_at IS NOT NULL) FROM lead GROUP BY source"
    )
    by_code = {code: (n, q, c) for code, n, q, c in expected}
    assert sum(int(r["Leads"]) for r in rows) == sum(e[1] for e in expected)
    web = next(r for r in rows if r["Lead source"] == "Website")
    n, q, c = by_code["web"]
    assert (web["Leads"], web["Qualified or converted"], web["Converted"]) == (
        str(n),
        str(q),
        str(c),
    )
    total_leads, total_converted = sql(
        "SELECT count(*), sum(status = 'converted' OR converted_at IS NOT NULL)"
        " FROM lead"
    )[0]
    assert totals["Leads"] == str(total_leads)
    assert totals["Converted"] == str(total_converted) != "0"
    assert totals["Conversion rate (%)"] == pct(total_converted, total_leads)


def test_campaign_roi_counts_each_campaigns_cost_once(client, world, sql):
    rows, totals = table(client, "campaign-roi")
    expo = next(r for r in rows if r["Campaign"] == "Spring Expo")
    won_amount = sql(
        "SELECT sum(o.amount) FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        " WHERE s.is_won = 1 AND o.campaign_id = ?",
        world["expo"],
    )[0][0]
    assert expo["Deals won"] == "3"
    assert expo["Actual cost"] == "1000.00"
    assert expo["Leads"] == "2"
    assert expo["Amount won"] == money(won_amount)
    # (won − 1,000) / 1,000, not (won − 3,000) / 3,000.
    assert expo["ROI (%)"] == pct(won_amount - 100000, 100000)
    mailing = next(r for r in rows if r["Campaign"] == "Mailing")
    assert mailing["ROI (%)"] == "" and mailing["Opportunities"] == "1"
    assert mailing["Leads"] == "3"  # its members are leads
    assert totals["Actual cost"] == "1000.00"
    all_won = sql(
        "SELECT count(*), sum(o.amount) FROM opportunity o"
        " JOIN stage s ON s.id = o.stage_id"
        " WHERE s.is_won = 1 AND o.campaign_id IS NOT NULL"
    )[0]
    assert totals["Deals won"] == str(all_won[0])
    assert totals["Amount won"] == money(all_won[1])
    assert totals["ROI (%)"] == pct(all_won[1] - 100000, 100000)


def test_campaign_roi_shows_the_campaign_modules_own_results(
    app, classroom, client, world
):
    from sandbox.crm.campaigns.service import campaign_results

    def results(session):
        by_id = campaign_results(session)
        return {
            name: by_id[cid]
            for cid, name in session.execute(sa.select(Campaign.id, Campaign.name))
        }

    expected = classroom.in_tenant(app, results)
    rows, _totals = table(client, "campaign-roi")
    assert {row["Campaign"] for row in rows} == set(expected)
    for row in rows:
        result = expected[row["Campaign"]]
        assert row["Leads"] == str(result.leads)
        assert row["Opportunities"] == str(result.opportunities)
        assert row["Deals won"] == str(result.won_count)
        assert row["Amount won"] == f"{result.won_amount:.2f}"


def test_cases_by_priority_and_sla_compliance_equal_sql(client, world, sql):
    now = utcnow().isoformat(sep=" ")
    rows, totals = table(client, "cases", section="sla")
    expected = sql(
        "SELECT priority, count(*),"
        " sum(status IN ('new','accepted','assigned','in_progress',"
        "'pending_customer','escalated','suspended')),"
        " sum(resolved_at IS NOT NULL),"
        " sum(resolved_at IS NOT NULL AND resolution_due_at IS NOT NULL"
        " AND resolved_at <= resolution_due_at),"
        " sum(resolved_at IS NOT NULL AND resolution_due_at IS NOT NULL"
        " AND resolved_at > resolution_due_at),"
        " ifnull(sum(status IN ('new','accepted','assigned','in_progress',"
        "'pending_customer','escalated','suspended') AND next_due_at <= ?), 0)"
        " FROM service_case GROUP BY priority ORDER BY priority",
        now,
    )
    shown = [
        (
            r["Cases"],
            r["Open"],
            r["Resolved"],
            r["Resolved within SLA"],
            r["Resolved late"],
            r["Open and overdue"],
            r["SLA compliance (%)"],
        )
        for r in rows
    ]
    assert shown == [
        (str(n), str(o), str(r), str(m), str(la), str(od), pct(m, m + la))
        for _p, n, o, r, m, la, od in expected
    ]
    met = sum(e[4] for e in expected)
    late = sum(e[5] for e in expected)
    assert met + late > 0
    assert totals["SLA compliance (%)"] == pct(met, met + late)

    status_rows, status_totals = table(client, "cases", section="status")
    by_status = dict(sql("SELECT status, count(*) FROM service_case GROUP BY status"))
    assert sum(int(r["Total"]) for r in status_rows) == sum(by_status.values())
    assert status_totals["Total"] == str(sum(by_status.values()))
    p1 = sql("SELECT count(*) FROM service_case WHERE priority = 'p1'")[0][0]
    assert status_totals["P1 – Critical"] == str(p1)


def test_activities_by_colleague_equal_sql(client, world, sql):
    rows, totals = table(client, "activities")
    expected = sql(
        "SELECT coalesce(c.name, 'Unassigned'), count(a.id),"
        " sum(a.completed_at IS NOT NULL),"
        " sum(a.completed_at IS NULL AND a.status != 'cancelled'),"
        " sum(a.completed_at IS NULL AND a.status != 'cancelled' AND a.due_date < ?),"
        " sum(a.completed_at IS NULL AND a.status = 'cancelled')"
        " FROM activity a LEFT JOIN colleague c ON c.id = a.owner_id"
        " GROUP BY a.owner_id",
        TODAY.isoformat(),
    )
    assert sorted(
        (
            r["Colleague"],
            r["Activities"],
            r["Completed"],
            r["Not completed"],
            r["Overdue"],
            r["Cancelled"],
        )
        for r in rows
    ) == sorted(tuple(map(str, row)) for row in expected)
    assert totals["Activities"] == "7" and totals["Overdue"] == "2"
    assert totals["Cancelled"] == "1"
    # Meetings count by their start, tasks by their due date: 2020's task is
    # outside this year.
    _rows, year_totals = table(client, "activities", period="this_year")
    in_year = sql(
        "SELECT count(*) FROM activity WHERE coalesce(date(starts_at), due_date)"
        " BETWEEN ? AND ?",
        f"{TODAY.year}-01-01",
        f"{TODAY.year}-12-31",
    )[0][0]
    assert year_totals["Activities"] == str(in_year)
    assert in_year < 7


@pytest.mark.parametrize(
    ("key", "expression", "label"),
    [
        ("customers-industry", "a.industry", "Industry"),
        ("customers-region", "trim(a.city)", "Region (city)"),
        ("customers-source", "a.source", "Account source"),
    ],
)
def test_customer_analyses_equal_sql(client, world, sql, key, expression, label):
    rows, totals = table(client, key)
    expected = sql(
        f"SELECT coalesce({expression}, ''), count(*),"  # noqa: S608 - test SQL
        " sum(coalesce(d.won, 0) > 0), sum(coalesce(d.won, 0)),"
        " sum(coalesce(d.won_amount, 0)), sum(coalesce(d.pipeline, 0))"
        " FROM account a LEFT JOIN (SELECT o.account_id, sum(s.is_won) AS won,"
        " sum(CASE WHEN s.is_won THEN o.amount ELSE 0 END) AS won_amount,"
        " sum(CASE WHEN s.is_closed THEN 0 ELSE o.amount END) AS pipeline"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id GROUP BY o.account_id)"
        " d ON d.account_id = a.id GROUP BY 1"
    )
    assert len(rows) == len(expected)
    shown = sorted(
        (
            r["Accounts"],
            r["With a won deal"],
            r["Deals won"],
            r["Amount won"],
            r["Open pipeline"],
        )
        for r in rows
    )
    assert shown == sorted(
        (str(n), str(c), str(w), money(wa), money(p)) for _s, n, c, w, wa, p in expected
    )
    assert totals["Accounts"] == str(sql("SELECT count(*) FROM account")[0][0])
    assert rows[0][label]


# ------------------------------------------------------------------ 7P


def test_7p_profiling_and_profitability_per_size_equal_sql(client, world, sql):
    band = (
        "CASE WHEN a.employees IS NULL THEN '' WHEN a.employees < 50 THEN 'small'"
        " WHEN a.employees < 250 THEN 'medium' WHEN a.employees < 1000 THEN 'large'"
        " ELSE 'enterprise' END"
    )
    rows, _totals = table(client, "7p", section="profiling", segment="size")
    expected = dict(
        sql(f"SELECT {band}, count(*) FROM account a GROUP BY 1")  # noqa: S608
    )
    labels = {
        "small": "Small (1–49 employees)",
        "medium": "Medium (50–249)",
        "large": "Large (250–999)",
        "enterprise": "Enterprise (1,000 or more)",
    }
    assert {r["Company size"]: r["Accounts"] for r in rows} == {
        labels[k]: str(v) for k, v in expected.items()
    }

    rows, totals = table(client, "7p", section="profitability", segment="size")
    expected = sql(
        f"SELECT {band}, count(DISTINCT o.account_id), sum(o.amount),"  # noqa: S608
        " sum(coalesce(l.revenue, 0)), sum(coalesce(l.cost, 0))"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        " JOIN account a ON a.id = o.account_id LEFT JOIN (SELECT li.opportunity_id,"
        " sum(CASE WHEN p.cost IS NOT NULL THEN li.total ELSE 0 END) AS revenue,"
        " sum(CASE WHEN p.cost IS NOT NULL THEN li.quantity * p.cost ELSE 0 END)"
        " AS cost FROM line_item li JOIN product p ON p.id = li.product_id"
        " GROUP BY li.opportunity_id) l ON l.opportunity_id = o.id"
        " WHERE s.is_won = 1 GROUP BY 1"
    )
    by_label = {r["Company size"]: r for r in rows}
    assert len(by_label) == len(expected)
    for code, customers, amount, revenue, cost in expected:
        row = by_label[labels.get(code, "Not specified")]
        cost_d = (Decimal(cost) / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP)
        margin = Decimal(revenue) / 100 - cost_d
        assert row["Customers"] == str(customers)
        assert row["Revenue (won)"] == money(amount)
        assert row["Line revenue with a cost"] == money(revenue)
        assert row["Cost"] == f"{cost_d:.2f}"
        assert row["Margin"] == f"{margin:.2f}"
    all_revenue = sum(e[3] for e in expected)
    all_cost = (Decimal(sum(e[4] for e in expected)) / 10000).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    total_margin = Decimal(all_revenue) / 100 - all_cost
    assert totals["Margin"] == f"{total_margin:.2f}"
    assert total_margin > 0


def test_7p_persistence_counts_customers_buying_in_more_than_one_quarter(
    client, world, sql
):
    rows, totals = table(client, "7p", section="persistence")
    per_account = sql(
        "SELECT o.account_id, count(DISTINCT strftime('%Y', day) * 10 +"
        " (CAST(strftime('%m', day) AS INTEGER) + 2) / 3), sum(o.amount)"
        " FROM (SELECT *, coalesce(closed_on, close_date) AS day FROM opportunity) o"
        " JOIN stage s ON s.id = o.stage_id WHERE s.is_won = 1 GROUP BY o.account_id"
    )
    customers = len(per_account)
    repeat = sum(1 for _a, quarters, _s in per_account if quarters > 1)
    assert repeat >= 1
    shown = {int(re.search(r"\d+", r["Quarters with a won deal"])[0]): r for r in rows}
    for quarters in {q for _a, q, _s in per_account}:
        these = [s for _a, q, s in per_account if q == quarters]
        assert shown[quarters]["Customers"] == str(len(these))
        assert shown[quarters]["Amount won"] == money(sum(these))
    assert sum(int(r["Customers"]) for r in rows) == customers
    assert totals["Share (%)"] == pct(repeat, customers)
    assert totals["Amount won"] == money(sum(s for _a, _q, s in per_account))


def test_7p_performance_win_rate_and_sales_cycle_equal_sql(client, world, sql):
    rows, totals = table(client, "7p", section="performance")
    expected = sql(
        "SELECT c.name, count(*), sum(s.is_won),"
        " avg(CASE WHEN s.is_won THEN max(0, julianday(coalesce(o.closed_on,"
        " o.close_date)) - julianday(date(o.created_at))) END)"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        " LEFT JOIN colleague c ON c.id = o.owner_id WHERE s.is_closed = 1"
        " GROUP BY o.owner_id"
    )
    by_name = {r["Colleague"]: r for r in rows}
    for name, closed, won, days in expected:
        row = by_name[name]
        assert row["Closed deals"] == str(closed)
        assert row["Win rate (%)"] == pct(won, closed)
        want = (
            ""
            if days is None
            else f"{Decimal(str(days)).quantize(Decimal('0.1'), ROUND_HALF_UP):.2f}"
        )
        assert row["Average sales cycle (days)"] == want
    closed, won = sql(
        "SELECT count(*), sum(s.is_won) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_closed = 1"
    )[0]
    assert totals["Win rate (%)"] == pct(won, closed)
    overall = sql(
        "SELECT avg(max(0, julianday(coalesce(o.closed_on, o.close_date))"
        " - julianday(date(o.created_at)))) FROM opportunity o"
        " JOIN stage s ON s.id = o.stage_id WHERE s.is_won = 1"
    )[0][0]
    want = Decimal(str(overall)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert totals["Average sales cycle (days)"] == f"{want:.2f}"


def test_7p_prospecting_product_and_promotion_equal_sql(client, world, sql):
    rows, totals = table(client, "7p", section="prospecting")
    assert totals["Leads"] == str(sql("SELECT count(*) FROM lead")[0][0])

    rows, totals = table(client, "7p", section="product", segment="industry")
    revenue = sql(
        "SELECT sum(li.total), sum(li.quantity) FROM line_item li"
        " JOIN opportunity o ON o.id = li.opportunity_id"
        " JOIN stage s ON s.id = o.stage_id WHERE s.is_won = 1"
    )[0]
    assert totals["Line revenue"] == money(revenue[0])
    assert totals["Quantity"] == money(revenue[1])
    per_segment = sql(
        "SELECT a.industry, pc.name, sum(li.total) FROM line_item li"
        " JOIN opportunity o ON o.id = li.opportunity_id"
        " JOIN stage s ON s.id = o.stage_id JOIN account a ON a.id = o.account_id"
        " JOIN product p ON p.id = li.product_id"
        " LEFT JOIN product_category pc ON pc.id = p.category_id"
        " WHERE s.is_won = 1 GROUP BY 1, 2"
    )
    assert len(rows) == len(per_segment)
    assert sorted(r["Line revenue"] for r in rows) == sorted(
        money(t) for _i, _c, t in per_segment
    )

    rows, totals = table(client, "7p", section="promotion", segment="industry")
    expected = sql(
        "SELECT coalesce(a.industry, l.industry, ''), count(*),"
        " sum(m.status IN ('responded', 'converted')), sum(m.status = 'converted')"
        " FROM campaign_member m LEFT JOIN contact c ON c.id = m.contact_id"
        " LEFT JOIN account a ON a.id = c.account_id"
        " LEFT JOIN lead l ON l.id = m.lead_id GROUP BY 1"
    )
    assert sorted(
        (r["Campaign members"], r["Responded"], r["Converted"]) for r in rows
    ) == sorted((str(n), str(r), str(c)) for _s, n, r, c in expected)
    assert totals["Campaign members"] == "8"
    assert totals["Response rate (%)"] == pct(
        sum(e[2] for e in expected), sum(e[1] for e in expected)
    )


def test_7p_page_shows_all_seven_analyses_in_chinese(app, client, world):
    client.post("/language", data={"language": "zh"})
    page = client.get("/crm/reports/7p?p=all").get_data(as_text=True)
    for title in (
        "客户概况分析",
        "客户忠诚度分析",
        "客户利润分析",
        "客户性能分析",
        "客户未来分析",
        "客户产品分析",
        "客户促销分析",
    ):
        assert title in page
    assert page.count('class="chart-spec"') == 8
    assert "毛利率（%）" in page and "细分维度" in page


def test_7p_shows_one_analysis_per_tab_keeping_the_filters(client, world):
    page = client.get("/crm/reports/7p?segment=size&period=this_year")
    html = page.get_data(as_text=True)
    # Profiling first, alone.
    assert html.count('class="chart-spec"') == 1 and 'id="table-profiling"' in html
    nav = html.split('class="nav nav-tabs mb-3 report-tabs"')[1].split("</ul>")[0]
    tabs = re.findall(r'<a class="nav-link[^"]*"[^>]*href="([^"]+)">([^<]+)</a>', nav)
    assert [label for _href, label in tabs] == [
        "Profiling",
        "Persistence",
        "Profitability",
        "Performance",
        "Prospecting",
        "Product mix",
        "Promotion",
        "All seven",
    ]
    assert 'active" aria-current="page" href="/crm/reports/7p?' in nav.split("</li>")[0]
    product = dict((label, href) for href, label in tabs)["Product mix"]
    assert "segment=size" in product and "period=this_year" in product
    shown = client.get(product.replace("&amp;", "&")).get_data(as_text=True)
    assert 'id="table-product"' in shown and 'id="table-profiling"' not in shown
    assert "Company size" in shown
    assert client.get("/crm/reports/7p?p=nonsense").status_code == 200


# ------------------------------------------------------------------ exports, filters


# ------------------------------------------------------------------ forecast vs quota

#: The forecast fixture's quarter: far from the scenario's own deals.
Q = {"kind": "quarter", "on": "2031-02"}


def build_forecast(session) -> dict:
    """Q1 2031 (fiscal year from January) for colleagues A and B, and a deal
    nobody owns; every figure in the tests below is computed by hand from it."""
    from tests.helpers import make_account

    a, b = session.scalars(sa.select(Colleague.id).order_by(Colleague.id).limit(2))
    for name, stage_code, amount, close, owner in (
        ("won_a", "closed_won", "10000", dt.date(2031, 2, 10), a),
        ("won_b", "closed_won", "2500.50", dt.date(2031, 3, 31), b),
        ("won_before", "closed_won", "9999", dt.date(2030, 12, 31), a),
        ("commit_a", "negotiation", "4000", dt.date(2031, 3, 15), a),  # 80 %
        ("pipe_b", "prospecting", "1234.55", dt.date(2031, 2, 1), b),  # 10 %
        ("best_nobody", "proposal", "3000", dt.date(2031, 1, 20), None),  # 65 %
        ("lost_a", "closed_lost", "800", dt.date(2031, 2, 2), a),
    ):
        stage = session.scalar(sa.select(Stage).where(Stage.code == stage_code))
        session.add(
            Opportunity(
                name=name,
                account_id=make_account(session, name=f"{name} Co").id,
                stage_id=stage.id,
                close_date=close,
                closed_on=close if stage.is_closed else None,
                probability=stage.probability,
                forecast_category=stage.forecast_category,
                amount=Decimal(amount),
                owner_id=owner,
            )
        )
    for colleague, kind, start, amount in (
        (a, "month", dt.date(2031, 1, 1), "5000"),
        (a, "month", dt.date(2031, 2, 1), "5000"),
        (a, "month", dt.date(2031, 3, 1), "5000"),
        (b, "month", dt.date(2031, 1, 1), "1000"),  # B's quarter quota wins
        (b, "quarter", dt.date(2031, 1, 1), "8000"),
    ):
        session.add(
            Quota(
                colleague_id=colleague,
                period_kind=kind,
                start=start,
                amount=Decimal(amount),
            )
        )
    session.commit()
    names = dict(session.execute(sa.select(Colleague.id, Colleague.name)).all())
    return {"a": a, "b": b, "name_a": names[a], "name_b": names[b]}


@pytest.fixture
def forecast_world(app, classroom, auth):
    facts = classroom.in_tenant(app, build_forecast)
    auth.login("alice")
    return facts


def test_forecast_vs_quota_per_colleague_and_team_equal_hand_computed(
    client, forecast_world
):
    rows, totals = table(client, "forecast-quota", **Q)
    by_name = {row["Colleague"]: row for row in rows}
    a = by_name[forecast_world["name_a"]]
    assert (a["Quota"], a["Closed"], a["Commit"], a["Best case"]) == (
        "15000.00",  # three month quotas: A has no quarter quota
        "10000.00",
        "14000.00",  # closed + the commit deal
        "14000.00",
    )
    assert (a["Pipeline"], a["Weighted pipeline"]) == ("0.00", "3200.00")
    assert (a["Attainment (%)"], a["Gap to quota"]) == ("66.70", "5000.00")
    b = by_name[forecast_world["name_b"]]
    assert (b["Quota"], b["Closed"], b["Commit"], b["Pipeline"]) == (
        "8000.00",
        "2500.50",
        "2500.50",
        "1234.55",
    )
    assert b["Weighted pipeline"] == "123.46"  # 1,234.55 × 10 %
    assert (b["Attainment (%)"], b["Gap to quota"]) == ("31.30", "5499.50")
    nobody = by_name["No owner"]
    assert (nobody["Quota"], nobody["Best case"], nobody["Attainment (%)"]) == (
        "",
        "3000.00",
        "",
    )
    assert totals["Quota"] == "23000.00"
    assert totals["Closed"] == "12500.50"
    assert totals["Commit"] == "16500.50"
    assert totals["Best case"] == "19500.50"
    assert totals["Pipeline"] == "1234.55"
    assert totals["Weighted pipeline"] == "5273.46"  # 3,200 + 123.455 + 1,950
    assert totals["Attainment (%)"] == "54.40"  # 12,500.50 ÷ 23,000
    assert totals["Gap to quota"] == "10499.50"
    # Colleagues with nothing in the quarter are listed with zeros.
    for row in rows:
        if row["Colleague"] not in (forecast_world["name_a"], forecast_world["name_b"]):
            assert row["Quota"] == "" and row["Closed"] == "0.00"
    for column in ("Closed", "Commit", "Best case", "Pipeline"):
        assert sum(Decimal(row[column]) for row in rows) == Decimal(totals[column])


def test_forecast_vs_quota_totals_equal_direct_sql(client, forecast_world, sql):
    _rows, totals = table(client, "forecast-quota", **Q)
    period = "BETWEEN '2031-01-01' AND '2031-03-31'"
    closed = sql(
        "SELECT sum(o.amount) FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        f" WHERE s.is_won = 1 AND o.closed_on {period}"
    )[0][0]
    commit_open, best_open, pipeline, weighted = sql(
        "SELECT"
        " sum(CASE WHEN o.forecast_category = 'commit' THEN o.amount END),"
        " sum(CASE WHEN o.forecast_category = 'best_case' THEN o.amount END),"
        " sum(CASE WHEN o.forecast_category = 'pipeline' THEN o.amount END),"
        " sum(CASE WHEN o.forecast_category != 'omitted'"
        "     THEN o.amount * o.probability END)"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        f" WHERE s.is_closed = 0 AND o.close_date {period}"
    )[0]
    quota = (
        sql(
            "SELECT sum(amount) FROM quota WHERE period_kind = 'quarter'"
            " AND start = '2031-01-01'"
        )[0][0]
        + sql(
            "SELECT sum(q.amount) FROM quota q WHERE q.period_kind = 'month'"
            f" AND q.start {period} AND NOT EXISTS (SELECT 1 FROM quota r"
            " WHERE r.colleague_id = q.colleague_id AND r.period_kind = 'quarter'"
            " AND r.start = '2031-01-01')"
        )[0][0]
    )
    assert totals["Closed"] == money(closed)
    assert totals["Commit"] == money(closed + (commit_open or 0))
    assert totals["Best case"] == money(closed + (commit_open or 0) + best_open)
    assert totals["Pipeline"] == money(pipeline)
    assert totals["Weighted pipeline"] == f"{Decimal(weighted) / 10000:.2f}"
    assert totals["Quota"] == money(quota)
    assert totals["Attainment (%)"] == pct(closed, quota)
    assert totals["Gap to quota"] == money(quota - closed)


def test_forecast_vs_quota_for_a_month_and_one_owner(client, forecast_world):
    rows, totals = table(
        client,
        "forecast-quota",
        kind="month",
        on="2031-01",
        owner=str(forecast_world["a"]),
    )
    assert [row["Colleague"] for row in rows] == [forecast_world["name_a"]]
    assert (totals["Quota"], totals["Closed"], totals["Commit"]) == (
        "5000.00",
        "0.00",
        "0.00",
    )
    assert (totals["Attainment (%)"], totals["Gap to quota"]) == ("0.00", "5000.00")
    # January alone for B: the month quota, as there is no quarter quota inside.
    rows, _totals = table(client, "forecast-quota", kind="month", on="2031-01")
    b = next(r for r in rows if r["Colleague"] == forecast_world["name_b"])
    assert b["Quota"] == "1000.00"
    assert "No owner" in {r["Colleague"] for r in rows}  # the January deal
    rows, _totals = table(client, "forecast-quota", kind="month", on="2031-03")
    assert "No owner" not in {r["Colleague"] for r in rows}


def test_forecast_vs_quota_page_in_chinese_with_chart_and_exports(
    client, forecast_world
):
    client.post("/language", data={"language": "zh"})
    response = client.get("/crm/reports/forecast-quota", query_string=Q)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "预测与配额对比" in page and "FY2031 Q1" in page
    for label in ("配额", "已关闭", "承诺", "最佳情况", "完成率（%）", "距配额差额"):
        assert label in page, label
    assert page.count('class="chart-spec"') == 1
    assert 'name="kind"' in page and 'value="2031-01"' in page  # its first month
    assert "kind=quarter" in page and "export.xlsx" in page
    book = load_workbook(
        io.BytesIO(export(client, "forecast-quota", fmt="xlsx", **Q)), read_only=True
    )
    header = next(book.active.iter_rows(values_only=True))
    assert header[1] == "配额"


def test_a_bad_forecast_month_is_named_beside_the_field(client, forecast_world):
    response = client.get(
        "/crm/reports/forecast-quota", query_string={"kind": "month", "on": "soon"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="on-error"' in page and "YYYY-MM" in page


def test_csv_and_xlsx_hold_the_same_table_as_the_page(client, world):
    csv_rows = read_csv(export(client, "competitors", period="all"))
    book = load_workbook(
        io.BytesIO(export(client, "competitors", "xlsx", period="all"))
    )
    sheet = book.worksheets[0]
    xlsx_rows = [
        ["" if v is None else v for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    assert [str(h) for h in xlsx_rows[0]] == csv_rows[0]
    assert len(xlsx_rows) == len(csv_rows)
    for from_csv, from_xlsx in zip(csv_rows[1:], xlsx_rows[1:], strict=True):
        for text, value in zip(from_csv, from_xlsx, strict=True):
            if isinstance(value, (int, float)):
                assert Decimal(text) == Decimal(str(value)).quantize(Decimal(text))
            else:
                assert text == value
    # A name that would run as a formula is written as text.
    names = [row[0] for row in csv_rows[1:]]
    assert "'=HYPERLINK(1)" in names
    assert "'=HYPERLINK(1)" in [row[0] for row in xlsx_rows[1:]]
    # The page shows the same figures.
    page = client.get("/crm/reports/competitors?period=all").get_data(as_text=True)
    body = page.split('id="table-competitors"')[1].split("</table>")[0]
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", body, re.S)
    assert "=HYPERLINK(1)" in cells
    for row in csv_rows[1:-1]:
        assert row[1] in cells


def test_bad_filters_give_a_normal_page_with_the_message_beside_the_field(
    client, world
):
    page = client.get(
        "/crm/reports/pipeline?period=custom&from=31/12/2026&to=2026-01-01&owner=x"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="from-error">Enter a date as YYYY-MM-DD.' in html
    backwards = client.get(
        "/crm/reports/pipeline?period=custom&from=2026-05-01&to=2026-04-01"
    ).get_data(as_text=True)
    assert "The end date must not be before the start date." in backwards
    for junk in ("period=forever", "segment=%00", "owner=-1", "section=nope"):
        assert client.get(f"/crm/reports/7p?{junk}").status_code == 200
        assert client.get(f"/crm/reports/7p/export.csv?{junk}").status_code == 200
    assert client.get("/crm/reports/pipeline/export.pdf").status_code == 404


def test_the_workbench_shows_four_key_figures_with_small_charts(client, world, sql):
    home = client.get("/").get_data(as_text=True)
    for key in ("pipeline", "won", "cases", "leads"):
        assert f'id="figure-{key}"' in home
        assert f'data-canvas="mini-{key}"' in home
        assert f'aria-describedby="mini-{key}-table"' in home
    amount = sql(
        "SELECT sum(amount) FROM opportunity o JOIN stage s ON s.id = o.stage_id"
        " WHERE s.is_closed = 0"
    )[0][0]
    figure = home.split('id="figure-pipeline"')[1].split("</section>")[0]
    assert f"{Decimal(amount) / 100:,.2f}" in figure
    open_cases = sql(
        "SELECT count(*) FROM service_case WHERE status IN ('new','accepted',"
        "'assigned','in_progress','pending_customer','escalated','suspended')"
    )[0][0]
    cases = home.split('id="figure-cases"')[1].split("</section>")[0]
    assert re.search(rf'class="figure-value">{open_cases}\b', cases)


def test_an_instructor_reads_a_students_reports(app, client, auth, classroom, world):
    auth.logout()
    view_as_instructor(client, auth, classroom)
    assert client.get("/crm/reports/cases").status_code == 200
    assert client.get("/crm/reports/cases/export.xlsx").status_code == 200


@pytest.mark.slow
def test_every_report_survives_hostile_filters(client, world):
    from sandbox.crm.reports.framework import REPORTS
    from tests.fuzz.test_fuzz_routes import HOSTILE, HUGE, RAW_QUERIES

    names = ("period", "from", "to", "owner", "segment", "p", "section", "kind", "on")
    # Dates a date picker or a hand-typed address can send, past Python's own.
    days = ("9999-12-31", "0001-01-01", "1899-12-31", "9000-12-31", "2026-02-30")
    for key in REPORTS:
        for value in (*HOSTILE, *HUGE, *days):
            query = {name: value for name in names}
            custom = {**query, "period": "custom"}
            for args in (query, custom):
                for url in (f"/crm/reports/{key}", f"/crm/reports/{key}/export.csv"):
                    response = client.get(url, query_string=args, follow_redirects=True)
                    assert response.status_code == 200, (url, args)
        for first, last in (("2026-01-01", "9999-12-31"), ("0001-01-01", "2026-01-01")):
            custom = {"period": "custom", "from": first, "to": last, "section": "x"}
            for url in (f"/crm/reports/{key}", f"/crm/reports/{key}/export.csv"):
                response = client.get(url, query_string=custom, follow_redirects=True)
                assert response.status_code == 200, (url, custom)
        for raw_query in RAW_QUERIES:
            assert client.get(f"/crm/reports/{key}?{raw_query}").status_code == 200


def test_a_date_past_the_calendar_is_named_beside_its_field(client, world):
    """To = 9999-12-31 (the last day a date picker offers) is refused beside the
    field, as is year 1 in From, and an export of them goes to the page that says
    why instead of a file."""
    page = client.get(
        "/crm/reports/won-by-month?period=custom&from=0001-01-01&to=9999-12-31"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    message = "Enter a date from 1900-01-01 to 9000-12-31."
    assert f'id="to-error">{message}' in html
    assert f'id="from-error">{message}' in html
    export = client.get(
        "/crm/reports/pipeline/export.csv?section=stages&period=custom"
        "&from=2026-01-01&to=9999-12-31"
    )
    assert export.status_code == 302
    assert export.headers["Location"] == (
        "/crm/reports/pipeline?period=custom&from=2026-01-01&to=9999-12-31"
    )
    client.post("/language", data={"language": "zh"})
    chinese = client.get(
        "/crm/reports/activities?period=custom&to=9999-12-31"
    ).get_data(as_text=True)
    assert 'id="to-error">请输入 1900-01-01 至 9000-12-31 之间的日期。' in chinese


def test_a_period_longer_than_a_report_lists_is_refused_not_cut_short(
    client, world, sql
):
    """1900 to 2100 is more months than a report lists: refused beside To, where
    the table used to stop at December 1999 with a total of 0."""
    html = client.get(
        "/crm/reports/won-by-month?period=custom&from=1900-01-01&to=2100-12-31"
    ).get_data(as_text=True)
    assert 'id="to-error">Choose a period of at most 100 years (1,200 months)' in html
    assert "report-section" not in html
    export = client.get(
        "/crm/reports/won-by-month/export.csv?period=custom&from=1900-01-01"
        "&to=2100-12-31"
    )
    assert export.status_code == 302
    # Exactly 1,200 months is listed in full, every win counted.
    rows, totals = table(
        client,
        "won-by-month",
        period="custom",
        **{"from": "1927-01-01", "to": "2026-12-31"},
    )
    assert len(rows) == 1200
    count, amount = sql(
        "SELECT count(*), sum(amount) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_won = 1"
        " AND coalesce(o.closed_on, o.close_date) BETWEEN '1927-01-01' AND '2026-12-31'"
    )[0]
    assert 0 < count
    assert (totals["Deals won"], totals["Amount won"]) == (str(count), money(amount))
    client.post("/language", data={"language": "zh"})
    chinese = client.get(
        "/crm/reports/won-by-month?period=custom&from=1900-01-01&to=2100-12-31"
    ).get_data(as_text=True)
    assert "请选择不超过 100 年（1,200 个月）的期间" in chinese


def test_wins_spanning_more_months_than_listed_keep_every_win_in_the_total(
    app, classroom, client, world, sql
):
    """All time, with a win in 1901 and the others in this century: too many months
    to list each, so the months with a win are listed, and the total has them all."""

    def old_win(session):
        deal = session.scalar(
            sa.select(Opportunity)
            .join(Stage)
            .where(Stage.is_won.is_(True))
            .order_by(Opportunity.id)
            .limit(1)
        )
        deal.closed_on = deal.close_date = dt.date(1901, 5, 17)
        session.commit()

    classroom.in_tenant(app, old_win)
    rows, totals = table(client, "won-by-month")
    months = sql(
        "SELECT count(DISTINCT strftime('%Y-%m', coalesce(o.closed_on, o.close_date)))"
        " FROM opportunity o JOIN stage s ON s.id = o.stage_id WHERE s.is_won = 1"
    )[0][0]
    assert len(rows) == months and rows[0]["Month"] == "May 1901"
    count, amount = sql(
        "SELECT count(*), sum(amount) FROM opportunity o JOIN stage s"
        " ON s.id = o.stage_id WHERE s.is_won = 1"
    )[0]
    assert (totals["Deals won"], totals["Amount won"]) == (str(count), money(amount))
    page = client.get("/crm/reports/won-by-month?period=all").get_data(as_text=True)
    assert "Only the months with a won deal are listed" in page


def test_a_filter_in_error_shows_its_message_and_no_report(client, world):
    html = client.get(
        "/crm/reports/pipeline?period=custom&from=2026-12-31&to=2026-01-01"
    ).get_data(as_text=True)
    assert 'id="to-error">The end date must not be before the start date.' in html
    assert "Showing 2026-12-31" not in html
    assert "No records match these filters." not in html
    assert "report-section" not in html
