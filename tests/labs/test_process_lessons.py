"""The calendar, reports and capstone lessons tell right work from look-alikes:
records typed by hand are not a conversion, a skipped stage is not a pipeline, a
meeting at the wrong hour is not the meeting, and report answers follow the CRM."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.labs.grading import check_step
from sandbox.labs.lessons import get_lesson
from sandbox.labs.planting import plant_facts
from sandbox.labs.solution import SolutionClient, solution_steps
from sandbox.models.control import Tenant
from tests.conftest import AuthActions
from tests.helpers import make_course, make_student


def _setup(app, scenario="default"):
    """A student's tenant with facts, and their browser for solutions."""
    with app.app_context():
        course = make_course(code="PROC", scenario=scenario)
        _, tenant = make_student(course, "ana")
        with tenancy.tenant_session(tenant) as session:
            facts = plant_facts(session)
        tenant_id = tenant.id
    client = app.test_client()
    AuthActions(client).login("ana")
    return tenant_id, facts, client


def _crm(app, client, tenant_id) -> SolutionClient:
    return SolutionClient(client, db.session.get(Tenant, tenant_id))


def _check(app, tenant_id, lesson, step_id, answer=None):
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        return check_step(
            tenant, lesson, lesson.step(step_id), answer, count_attempt=False
        )


def _run(app, client, tenant_id, lesson, facts, *step_ids):
    steps = solution_steps(lesson)
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        return [steps[step_id](crm, facts) for step_id in step_ids]


def test_capstone_records_typed_by_hand_are_not_a_conversion(app):
    lesson = get_lesson("capstone")
    tenant_id, facts, client = _setup(app)
    fact = facts["capstone"]
    _run(app, client, tenant_id, lesson, facts, "qualify")
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        crm.submit("/crm/accounts/new", {"name": fact["company"]})
        account = crm.find_id("account", name=fact["company"])
        first, _, last = fact["lead"].rpartition(" ")
        crm.submit(
            "/crm/contacts/new",
            {
                "first_name": first or fact["lead"][1:],
                "last_name": last if first else fact["lead"][:1],
                "account_id": str(account),
            },
        )
        crm.submit(
            "/crm/opportunities/new",
            {
                "name": fact["opportunity"],
                "account_id": str(account),
                "close_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            },
        )
    typed = _check(app, tenant_id, lesson, "convert")
    assert not typed.passed
    assert typed.score < 1
    assert "Convert" in typed.message["en"]
    assert "转化" in typed.message["zh"]
    assert _check(app, tenant_id, lesson, "qualify").passed


def test_capstone_a_deal_converted_under_another_name_can_be_renamed_to_pass(app):
    """The opportunity named wrongly at conversion (the name the form suggests) can
    be put right by renaming it: a converted lead cannot be converted again."""
    lesson = get_lesson("capstone")
    tenant_id, facts, client = _setup(app)
    fact = facts["capstone"]
    _run(app, client, tenant_id, lesson, facts, "qualify")
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        lead = crm.find_id("lead", name=fact["lead"])
        first, _, last = fact["lead"].rpartition(" ")
        crm.post(
            f"/crm/leads/{lead}/convert",
            {
                "account_choice": "new",
                "account_name": fact["company"],
                "contact_choice": "new",
                "first_name": first or fact["lead"][1:],
                "last_name": last if first else fact["lead"][:1],
                "create_opportunity": "y",
                "opportunity_name": fact["company"],  # the suggested name
                "close_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
                "stage_id": str(crm.find_id("stage", code="qualification")),
            },
        )
    assert not _check(app, tenant_id, lesson, "convert").passed
    with app.app_context():
        deal = crm.find_id("opportunity", name=fact["company"])
        with tenancy.tenant_session(db.session.get(Tenant, tenant_id)) as session:
            from sandbox.models.crm.sales import Opportunity

            session.get(Opportunity, deal).name = fact["opportunity"]
            session.commit()
    assert _check(app, tenant_id, lesson, "convert").passed


def test_capstone_closing_won_without_the_stages_between_is_not_enough(app):
    lesson = get_lesson("capstone")
    tenant_id, facts, client = _setup(app)
    _run(app, client, tenant_id, lesson, facts, "qualify", "convert")
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        deal = crm.find_id("opportunity", name=facts["capstone"]["opportunity"])
        crm.post(f"/crm/opportunities/{deal}/close-won")
    skipped = _check(app, tenant_id, lesson, "won")
    assert not skipped.passed
    assert 0 < skipped.score < 1
    assert "Move stage" in skipped.message["en"]
    assert "推进阶段" in skipped.message["zh"]


def test_capstone_a_stage_reached_by_reopening_counts_as_reached(app):
    """Closed too early, the deal is reopened at Proposal, moved on and won again:
    its stage history shows every stage, and so does the check."""
    lesson = get_lesson("capstone")
    tenant_id, facts, client = _setup(app)
    _run(app, client, tenant_id, lesson, facts, "qualify", "convert")
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        deal = crm.find_id("opportunity", name=facts["capstone"]["opportunity"])
        crm.post(f"/crm/opportunities/{deal}/close-won")
        crm.post(
            f"/crm/opportunities/{deal}/reopen",
            {"stage_id": str(crm.find_id("stage", code="proposal"))},
        )
        crm.post(
            f"/crm/opportunities/{deal}/move",
            {"stage_id": str(crm.find_id("stage", code="negotiation"))},
        )
        crm.post(f"/crm/opportunities/{deal}/close-won")
    assert _check(app, tenant_id, lesson, "won").passed


def test_calendar_meeting_at_the_wrong_hour_and_a_task_not_on_the_account(app):
    lesson = get_lesson("calendar-diary")
    tenant_id, facts, client = _setup(app, "default-zh")
    agenda = facts["agenda"]
    late = dt.datetime.fromisoformat(agenda["starts_at"]) + dt.timedelta(hours=1)
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        contact = crm.find_id("contact", name=agenda["contact"])
        colleague = crm.find_id("colleague", name=agenda["colleague"])
        crm.submit(
            f"/crm/activities/new?kind=meeting&related_type=contacts"
            f"&related_id={contact}",
            {
                "subject": agenda["meeting"],
                "starts_at": late.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (late + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "colleague_ids": [str(colleague)],
                "contact_ids": [str(contact)],
            },
        )
        # The task typed in the Activities list, not on the account.
        crm.submit(
            "/crm/activities/new?kind=task",
            {"subject": agenda["task"], "due_date": agenda["due"], "priority": "high"},
        )
    meeting = _check(app, tenant_id, lesson, "meeting")
    assert not meeting.passed
    assert "开始" in meeting.message["zh"] and "Starts" in meeting.message["en"]
    task = _check(app, tenant_id, lesson, "task")
    assert not task.passed
    assert task.score == 0.5
    assert agenda["task_account"] in task.message["zh"]


def test_report_answers_follow_the_crm_as_it_is_when_checked(app):
    lesson = get_lesson("reports-questions")
    tenant_id, facts, client = _setup(app)
    question = facts["report_questions"]
    (answer,) = _run(app, client, tenant_id, lesson, facts, "deal_stage")
    assert _check(app, tenant_id, lesson, "deal_stage", answer).passed
    assert _check(app, tenant_id, lesson, "deal_stage", "$" + answer).passed

    # The deal is won: it leaves the stage, and the figure changes with it.
    def amount_of(session):
        from sandbox.models.crm.sales import Opportunity

        return session.scalar(
            sa.select(Opportunity.amount).where(Opportunity.name == question["deal"])
        )

    with app.app_context():
        crm = _crm(app, client, tenant_id)
        deal = crm.find_id("opportunity", name=question["deal"])
        crm.post(f"/crm/opportunities/{deal}/close-won")
        with tenancy.tenant_session(db.session.get(Tenant, tenant_id)) as session:
            amount = amount_of(session)
    stale = _check(app, tenant_id, lesson, "deal_stage", answer)
    assert not stale.passed
    (fresh,) = _run(app, client, tenant_id, lesson, facts, "deal_stage")
    assert float(fresh) == round(float(answer) - float(amount), 2)
    assert _check(app, tenant_id, lesson, "deal_stage", fresh).passed
    wrong = _check(app, tenant_id, lesson, "top_owner", "Nobody Here")
    assert not wrong.passed
    assert "Nobody Here" in wrong.message["en"]


def test_calendar_diary_rewriting_an_old_day_is_not_todays_entry(app):
    lesson = get_lesson("calendar-diary")
    tenant_id, facts, client = _setup(app)

    def latest_day(session):
        from sandbox.models.crm.activities import DiaryEntry

        return session.scalar(sa.select(sa.func.max(DiaryEntry.day)))

    with app.app_context():
        with tenancy.tenant_session(db.session.get(Tenant, tenant_id)) as session:
            old_day = latest_day(session)
        crm = _crm(app, client, tenant_id)
        crm.submit(
            f"/crm/calendar/diary/{old_day.isoformat()}",
            {"notes": facts["agenda"]["diary"]},
        )
    rewritten = _check(app, tenant_id, lesson, "diary")
    assert not rewritten.passed
    assert rewritten.score == 0.5
    assert "Create" in rewritten.message["en"]
    _run(app, client, tenant_id, lesson, facts, "diary")
    assert _check(app, tenant_id, lesson, "diary").passed


def _escalate(app, client, tenant_id, facts, reason):
    case = facts["service_case"]
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        url = f"/crm/cases/{crm.find_id('case', subject=case['subject'])}/escalate"
        crm.submit(url, {"level": "2", "reason": reason})
    return url


def test_service_escalation_checks_the_reason(app):
    lesson = get_lesson("service-case")
    tenant_id, facts, client = _setup(app, "default-zh")
    _run(app, client, tenant_id, lesson, facts, "open_case", "work")
    _escalate(app, client, tenant_id, facts, "需要支持")
    wrong = _check(app, tenant_id, lesson, "escalate")
    assert not wrong.passed
    assert "原因" in wrong.message["zh"] and "需要支持" in wrong.message["zh"]
    assert (
        "Reason" in wrong.message["en"] and "case_escalate" not in wrong.message["en"]
    )


def test_service_reason_and_resolution_are_compared_loosely(app):
    lesson = get_lesson("service-case")
    tenant_id, facts, client = _setup(app, "default-zh")
    _run(app, client, tenant_id, lesson, facts, "open_case", "work")
    case = facts["service_case"]
    assert case["reason"].endswith("。") and "，" in case["reason"]
    # Half-width punctuation and no final full stop: the same reason.
    typed = case["reason"].rstrip("。").replace("，", ",")
    url = _escalate(app, client, tenant_id, facts, typed)
    escalated = _check(app, tenant_id, lesson, "escalate")
    assert escalated.passed, escalated.message["en"]
    with app.app_context():
        crm = _crm(app, client, tenant_id)
        resolution = case["resolution"].rstrip("。").replace("，", ",")
        crm.submit(url.replace("/escalate", "/resolve"), {"resolution": resolution})
    resolved = _check(app, tenant_id, lesson, "resolve")
    assert resolved.passed, resolved.message["en"]
