"""Sales forecasts: fiscal periods, cumulative categories, weighted pipeline,
quotas and attainment on a hand-computed fixture, and submissions that stay as
they were submitted."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.forecasts import service as svc
from sandbox.crm.opportunities.service import move_to_stage
from sandbox.extensions import db
from sandbox.models.control import Course
from sandbox.models.crm import AuditLog, Colleague
from sandbox.models.crm.forecasts import ForecastSubmission, Quota
from sandbox.models.crm.sales import Opportunity, Stage
from tests.helpers import make_account

#: The fixture's quarter (fiscal year starting in January): far from the
#: scenario's own deals, which sit around the day the tenant was built.
Q_START, Q_END = dt.date(2031, 1, 1), dt.date(2031, 3, 31)
QUARTER = svc.Period("quarter", Q_START)


def make_deal(session, name, stage_code, amount, close, owner, **extra):
    stage = session.scalar(sa.select(Stage).where(Stage.code == stage_code))
    deal = Opportunity(
        name=name,
        account_id=make_account(session, name=f"{name} Co").id,
        stage_id=stage.id,
        close_date=close,
        closed_on=close if stage.is_closed else None,
        probability=extra.pop("probability", stage.probability),
        forecast_category=extra.pop("category", stage.forecast_category),
        amount=Decimal(amount),
        owner_id=owner,
    )
    session.add(deal)
    session.commit()
    return deal


def build_quarter(session) -> dict:
    """Deals and quotas of Q1 2031 for colleagues A and B (see the figures in
    the tests: each is computed by hand from this list)."""
    a, b = session.scalars(sa.select(Colleague.id).order_by(Colleague.id).limit(2))
    deals = {}
    for key, stage, amount, close, owner, extra in (
        ("won_a", "closed_won", "10000", dt.date(2031, 2, 10), a, {}),
        ("won_b", "closed_won", "2500.50", dt.date(2031, 3, 31), b, {}),
        ("won_before", "closed_won", "9999", dt.date(2030, 12, 31), a, {}),
        ("commit_a", "negotiation", "4000", dt.date(2031, 3, 15), a, {}),  # 80 %
        ("best_a", "proposal", "3000", dt.date(2031, 1, 20), a, {}),  # 65 %
        ("pipe_b", "prospecting", "1234.55", dt.date(2031, 2, 1), b, {}),  # 10 %
        ("pipe_after", "needs_analysis", "5000", dt.date(2031, 4, 1), a, {}),
        (
            "omitted_a",
            "value_proposition",
            "7000",
            dt.date(2031, 2, 2),
            a,
            {"category": "omitted"},
        ),
        ("lost_a", "closed_lost", "800", dt.date(2031, 2, 2), a, {}),
    ):
        deals[key] = make_deal(session, key, stage, amount, close, owner, **extra).id
    for colleague, kind, start, amount in (
        (a, "month", dt.date(2031, 1, 1), "5000"),
        (a, "month", dt.date(2031, 2, 1), "5000"),
        (a, "month", dt.date(2031, 3, 1), "6000"),
        (b, "month", dt.date(2031, 1, 1), "1000"),
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
    return {"a": a, "b": b, **deals}


@pytest.fixture
def quarter(app, classroom) -> dict:
    return classroom.in_tenant(app, build_quarter)


def figures(app, classroom, owner=None, start=Q_START, end=Q_END):
    return classroom.in_tenant(
        app, lambda s: svc.forecast_figures(s, start, end, owner)
    )


# ------------------------------------------------------------------- periods


D = dt.date


@pytest.mark.parametrize(
    ("day", "kind", "fiscal_start", "start", "end", "label"),
    [
        (D(2031, 2, 10), "month", 1, D(2031, 2, 1), D(2031, 2, 28), "2031-02"),
        (D(2032, 2, 29), "month", 4, D(2032, 2, 1), D(2032, 2, 29), "2032-02"),
        (D(2031, 2, 10), "quarter", 1, Q_START, Q_END, "FY2031 Q1"),
        (D(2031, 2, 10), "quarter", 4, Q_START, Q_END, "FY2030 Q4"),
        (D(2031, 5, 5), "quarter", 4, D(2031, 4, 1), D(2031, 6, 30), "FY2031 Q1"),
        (D(2031, 1, 15), "quarter", 11, D(2030, 11, 1), D(2031, 1, 31), "FY2030 Q1"),
        (D(2031, 12, 31), "quarter", 2, D(2031, 11, 1), D(2032, 1, 31), "FY2031 Q4"),
    ],
)
def test_periods_follow_the_fiscal_year_start(
    day, kind, fiscal_start, start, end, label
):
    period = svc.period_containing(day, kind, fiscal_start)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.shifted(1).shifted(-1) == period


def test_unknown_period_kinds_and_fiscal_starts_are_refused():
    with pytest.raises(ValueError, match="unknown period kind"):
        svc.period_containing(dt.date(2031, 1, 1), "week")
    with pytest.raises(ValueError, match="cannot start in month 13"):
        svc.period_containing(dt.date(2031, 1, 1), "quarter", 13)


# ------------------------------------------------------------------- figures


def test_categories_are_cumulative_for_the_team(app, classroom, quarter):
    team = figures(app, classroom)
    assert team.closed == Decimal("12500.50")  # 10,000 + 2,500.50
    assert team.commit == Decimal("16500.50")  # closed + 4,000
    assert team.best_case == Decimal("19500.50")  # commit + 3,000
    assert team.pipeline == Decimal("1234.55")  # the pipeline deal alone
    assert team.closed <= team.commit <= team.best_case


def test_weighted_pipeline_is_amount_times_probability_of_open_deals(
    app, classroom, quarter
):
    # 4,000 × 80 % + 3,000 × 65 % + 1,234.55 × 10 % = 3,200 + 1,950 + 123.455;
    # the omitted deal, the deal closing in April and closed deals stay out.
    assert figures(app, classroom).weighted_pipeline == Decimal("5273.46")
    assert figures(app, classroom, quarter["a"]).weighted_pipeline == Decimal("5150.00")


def test_quota_attainment_and_gap_per_colleague_and_team(app, classroom, quarter):
    mine = figures(app, classroom, quarter["a"])
    # A's quarter has no quota of its own: the sum of its months.
    assert (mine.closed, mine.commit, mine.best_case) == (
        Decimal("10000.00"),
        Decimal("14000.00"),
        Decimal("17000.00"),
    )
    assert mine.quota == Decimal("16000.00")
    assert mine.attainment == Decimal("0.6250")
    assert mine.gap == Decimal("6000.00")
    # B's quarter quota (8,000) wins over B's January quota.
    theirs = figures(app, classroom, quarter["b"])
    assert theirs.quota == Decimal("8000.00")
    team = figures(app, classroom)
    assert team.quota == Decimal("24000.00")
    assert team.attainment == Decimal("0.5209")  # 12,500.50 / 24,000
    assert team.gap == Decimal("11499.50")
    january = figures(
        app, classroom, quarter["b"], dt.date(2031, 1, 1), dt.date(2031, 1, 31)
    )
    assert january.quota == Decimal("1000.00") and january.attainment == 0


def test_without_a_quota_attainment_and_gap_are_undefined(app, classroom, quarter):
    later = figures(app, classroom, None, dt.date(2031, 4, 1), dt.date(2031, 6, 30))
    assert later.quota is None and later.attainment is None and later.gap is None
    assert later.weighted_pipeline == Decimal("1250.00")  # 5,000 × 25 %


def test_the_figures_equal_direct_sql_sums(app, classroom, quarter):
    def direct(session):
        connection = session.connection()
        return connection.exec_driver_sql(
            "SELECT SUM(o.amount) FROM opportunity o JOIN stage s "
            "ON s.id = o.stage_id WHERE s.is_won AND o.closed_on "
            "BETWEEN '2031-01-01' AND '2031-03-31'"
        ).scalar()

    assert (
        Decimal(classroom.in_tenant(app, direct)) / 100
        == figures(app, classroom).closed
    )


# --------------------------------------------------------------- submissions


def test_a_submission_is_frozen_when_deals_change_later(app, classroom, quarter):
    def submit(session):
        submission = svc.submit_forecast(
            session,
            QUARTER,
            None,
            adjustment=Decimal("-500"),
            reason="Commit deal may slip",
            comment="Q1 call",
        )
        return submission.id

    sid = classroom.in_tenant(app, submit)

    def change_deals(session):
        deal = session.get(Opportunity, quarter["commit_a"])
        won = session.scalar(sa.select(Stage).where(Stage.code == "closed_won"))
        move_to_stage(session, deal, won, on=dt.date(2031, 3, 20))
        session.get(Opportunity, quarter["won_b"]).amount = Decimal("99999")
        session.commit()

    classroom.in_tenant(app, change_deals)

    def read(session):
        sub = session.scalar(
            svc.submissions_with_outcome(session).where(ForecastSubmission.id == sid)
        )
        return sub

    sub = classroom.in_tenant(app, read)
    assert (sub.closed, sub.commit_amount, sub.best_case) == (
        Decimal("12500.50"),
        Decimal("16500.50"),
        Decimal("19500.50"),
    )
    assert (sub.pipeline, sub.weighted_pipeline, sub.quota) == (
        Decimal("1234.55"),
        Decimal("5273.46"),
        Decimal("24000.00"),
    )
    assert sub.adjustment == Decimal("-500.00")
    assert sub.forecast == Decimal("16000.50")
    assert sub.period_label == "FY2031 Q1"
    # The outcome is what was really won: 10,000 + 99,999 + 4,000.
    assert sub.outcome == Decimal("113999.00")
    assert figures(app, classroom).closed == Decimal("113999.00")


def test_submitting_writes_the_audit_log(app, classroom, quarter):
    def submit(session):
        sub = svc.submit_forecast(session, QUARTER, quarter["a"])
        entry = session.scalar(
            sa.select(AuditLog).where(
                AuditLog.entity == "forecast_submission",
                AuditLog.entity_id == sub.id,
                AuditLog.action == "submit_forecast",
            )
        )
        return entry.details

    details = classroom.in_tenant(app, submit)
    assert details["forecast"] == "14,000.00"
    assert details["adjustment"] == "+0.00"
    assert details["period"] == "FY2031 Q1"


@pytest.mark.parametrize("reason", [None, "", "  \u3000 "])
def test_an_adjustment_needs_a_reason_and_nothing_is_written(
    app, classroom, quarter, reason
):
    def submit(session):
        def count():
            return session.scalar(
                sa.select(sa.func.count()).select_from(ForecastSubmission)
            )

        before = count()
        with pytest.raises(svc.ForecastError, match="Say why") as error:
            svc.submit_forecast(
                session, QUARTER, None, adjustment=Decimal("250"), reason=reason
            )
        return error.value.field, count() - before

    assert classroom.in_tenant(app, submit) == ("reason", 0)


def test_an_adjustment_may_lower_the_forecast_to_0_and_no_further(
    app, client, auth, classroom, quarter
):
    """Commit is 16,500.50: an adjustment of -16,500.51 (or -99,999,999) is refused
    beside the field and nothing is written; -16,500.50 gives a forecast of 0."""

    def submissions(session):
        return session.scalars(
            sa.select(ForecastSubmission.forecast).where(
                ForecastSubmission.period_label == "FY2031 Q1"
            )
        ).all()

    auth.login("alice")
    url = "/crm/forecasts/forecast/submit?kind=quarter&on=2031-01&owner=team"
    before = classroom.in_tenant(app, submissions)
    for adjustment in ("-16,500.51", "-99999999"):
        refused = client.post(url, data={"adjustment": adjustment, "reason": "Gone"})
        assert refused.status_code == 400
        assert (
            'id="adjustment-errors">The forecast cannot be below 0: with Commit at '
            "16,500.50, lower it by at most 16,500.50."
        ) in refused.get_data(as_text=True)

    assert classroom.in_tenant(app, submissions) == before
    done = client.post(url, data={"adjustment": "-16,500.50", "reason": "Gone"})
    assert done.status_code == 302
    assert classroom.in_tenant(app, submissions) == [*before, Decimal("0.00")]


# ----------------------------------------------------------------- the pages


def test_the_forecast_page_shows_the_figures_of_the_chosen_period_and_owner(
    app, client, auth, classroom, quarter
):
    auth.login("alice")
    page = client.get(
        f"/crm/forecasts/forecast?kind=quarter&on=2031-02&owner={quarter['a']}"
    ).get_data(as_text=True)
    for key, value in (
        ("closed", "10,000.00"),
        ("commit", "14,000.00"),
        ("best_case", "17,000.00"),
        ("pipeline", "0.00"),
        ("weighted", "5,150.00"),
        ("quota", "16,000.00"),
        ("attainment", "62.5%"),
        ("gap", "6,000.00"),
    ):
        assert re.search(rf'id="figure-{key}">{re.escape(value)}<', page), key
    team = client.get("/crm/forecasts/forecast?kind=month&on=2031-03&owner=team")
    text = team.get_data(as_text=True)
    assert 'id="period-label">2031-03<' in text
    assert re.search(r'id="figure-closed">2,500.50<', text)


@pytest.mark.parametrize(
    "query",
    ["kind=week&on=2031-02", "on=junk", "on=99999-01", "owner=abc", "owner=99999999"],
)
def test_junk_in_the_forecast_address_gives_a_normal_page(
    app, client, auth, classroom, query
):
    auth.login("alice")
    assert client.get(f"/crm/forecasts/forecast?{query}").status_code == 200


def test_quarters_on_the_page_follow_the_course_fiscal_year(
    app, client, auth, classroom, quarter
):
    with app.app_context():
        db.session.get(Course, classroom.course_id).fiscal_year_start = 4
        db.session.commit()
    auth.login("alice")
    page = client.get(
        "/crm/forecasts/forecast?kind=quarter&on=2031-05&owner=team"
    ).get_data(as_text=True)
    assert 'id="period-label">FY2031 Q1<' in page  # April to June
    assert "Apr 1, 2031 – Jun 30, 2031" in page


def test_submitting_from_the_page_and_comparing_with_the_outcome(
    app, client, auth, classroom, quarter
):
    auth.login("alice")
    url = "/crm/forecasts/forecast/submit?kind=quarter&on=2031-01&owner=team"
    refused = client.post(url, data={"adjustment": "-1,000", "reason": ""})
    assert refused.status_code == 400
    assert re.search(
        r'id="reason-errors">Say why you adjust', refused.get_data(as_text=True)
    )
    bad = client.post(url, data={"adjustment": "12.345"})
    assert bad.status_code == 400
    assert 'id="adjustment-errors"' in bad.get_data(as_text=True)
    done = client.post(
        url, data={"adjustment": "-1,000", "reason": "Slipping", "comment": "ok"}
    )
    assert done.status_code == 302
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="frozen-forecast">15,500.50<' in detail
    assert 'id="outcome">12,500.50<' in detail
    assert 'id="difference">-3,000.00<' in detail

    def win_commit_deal(session):
        deal = session.get(Opportunity, quarter["commit_a"])
        won = session.scalar(sa.select(Stage).where(Stage.code == "closed_won"))
        move_to_stage(session, deal, won, on=dt.date(2031, 3, 1))
        session.commit()

    classroom.in_tenant(app, win_commit_deal)
    history = client.get("/crm/forecasts/?sort=outcome&dir=desc").get_data(as_text=True)
    row = re.search(r"<tr>(.*?FY2031 Q1.*?)</tr>", history, re.S).group(1)
    assert "15,500.50" in row and "16,500.50" in row  # forecast and won
    assert "1,000.00" in row  # won − forecast
    assert client.get("/crm/forecasts/?sort=difference").status_code == 200


def test_an_instructor_sees_forecasts_but_cannot_submit(
    app, client, auth, classroom, quarter
):
    auth.login(classroom.instructor)
    view = (
        f"/instructor/courses/{classroom.course_id}/tenants/"
        f"{classroom.tenant_ids[0]}/view"
    )
    client.post(view)
    page = client.get("/crm/forecasts/forecast?kind=quarter&on=2031-01&owner=team")
    assert page.status_code == 200
    assert "submit-forecast" not in page.get_data(as_text=True)
    assert "/crm/forecasts/quotas" not in page.get_data(as_text=True)
    assert client.get("/crm/forecasts/quotas").status_code == 403
    response = client.post(
        "/crm/forecasts/forecast/submit?kind=quarter&on=2031-01&owner=team", data={}
    )
    assert response.status_code == 403


# -------------------------------------------------------------------- quotas


def test_quotas_are_set_changed_and_removed_on_the_settings_page(
    app, client, auth, classroom, quarter
):
    a, b = quarter["a"], quarter["b"]
    auth.login("alice")
    page = client.get("/crm/forecasts/quotas?year=2031").get_data(as_text=True)
    assert f'name="quota-{a}-month-2031-01" id="quota-{a}-month-2031-01"' in page
    # A quarter without its own quota shows the sum of its months.
    assert re.search(
        rf'id="quota-{a}-quarter-2031-01"[^>]*placeholder="16,000.00"', page
    )
    response = client.post(
        "/crm/forecasts/quotas?year=2031",
        data={
            f"quota-{a}-month-2031-01": "5,500",
            f"quota-{a}-month-2031-04": "7000",
            f"quota-{b}-quarter-2031-01": "",
        },
    )
    assert response.status_code == 302
    b_quarter = figures(app, classroom, b)
    assert b_quarter.quota == Decimal("1000.00")  # back to the sum of B's months
    assert figures(app, classroom, a).quota == Decimal("16500.00")
    april = figures(app, classroom, a, dt.date(2031, 4, 1), dt.date(2031, 4, 30))
    assert april.quota == Decimal("7000.00")
    logged = classroom.in_tenant(
        app,
        lambda s: sorted(
            s.scalars(sa.select(AuditLog.action).where(AuditLog.entity == "quota"))
        ),
    )
    assert logged.count("delete") == 1 and logged.count("update") == 1


def test_a_bad_quota_is_shown_beside_its_cell_and_nothing_is_saved(
    app, client, auth, classroom, quarter
):
    a = quarter["a"]
    auth.login("alice")
    response = client.post(
        "/crm/forecasts/quotas?year=2031",
        data={
            f"quota-{a}-month-2031-02": "lots",
            f"quota-{a}-month-2031-03": "1",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="quota-{a}-month-2031-02-error">Enter an amount' in page
    assert 'value="lots"' in page
    assert figures(app, classroom, a).quota == Decimal("16000.00")
