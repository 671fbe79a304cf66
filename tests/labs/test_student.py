"""The student's Labs pages: lessons, Check, hints, the panel, reset, save points."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.labs import service
from sandbox.labs.planting import plant_facts
from sandbox.models.control import AuditEvent
from sandbox.models.crm import Account
from sandbox.models.crm.leads import Lead
from sandbox.models.labs import LessonAssignment, SavePoint, StepResult
from tests.helpers import make_account, view_as_instructor

LESSON = "leads-convert"


@pytest.fixture
def lab(app, classroom):
    """Alice's course assigns the lesson; both students have their facts."""
    with app.app_context():
        db.session.add(
            LessonAssignment(
                course_id=classroom.course_id,
                lesson_id=LESSON,
                due_at=dt.datetime(2030, 1, 31, 12, 0),
            )
        )
        db.session.commit()
    facts = classroom.in_tenant(app, plant_facts, 0)
    classroom.in_tenant(app, plant_facts, 1)
    return facts


@pytest.fixture
def no_pacing(monkeypatch):
    monkeypatch.setattr(service, "CHECK_INTERVAL", dt.timedelta(0))


def _qualify(app, classroom, name):
    from sandbox.crm.leads.service import qualify_lead

    def work(session):
        qualify_lead(session, session.scalar(sa.select(Lead).filter_by(name=name)))

    classroom.in_tenant(app, work)


def test_labs_page_lists_assigned_lessons_with_due_date_and_progress(
    app, client, auth, classroom, lab
):
    auth.login("alice")
    page = client.get("/labs/").get_data(as_text=True)
    assert "Leads: qualify, disqualify and convert" in page
    assert "2030" in page
    assert "0 of 3 steps" in page
    _qualify(app, classroom, lab["hot_lead"]["name"])
    client.post(f"/labs/{LESSON}/qualify/check")
    page = client.get("/labs/").get_data(as_text=True)
    assert "1 of 3 steps" in page
    assert "10 / 40" in page


def test_labs_page_in_chinese(client, auth, lab):
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    page = client.get("/labs/").get_data(as_text=True)
    assert "线索管理：确认、判为无效与转化" in page
    assert "实验" in page


def test_a_lesson_the_course_does_not_assign_is_not_found(client, auth, classroom):
    auth.login("alice")
    assert client.get(f"/labs/{LESSON}").status_code == 404
    assert client.post(f"/labs/{LESSON}/qualify/check").status_code == 404


def test_lesson_page_shows_the_students_own_facts(client, auth, lab):
    auth.login("alice")
    page = client.get(f"/labs/{LESSON}").get_data(as_text=True)
    assert lab["hot_lead"]["name"] in page
    assert "{{" not in page


def test_check_answers_json_with_the_result_inline(
    app, client, auth, classroom, lab, no_pacing
):
    auth.login("alice")
    url = f"/labs/{LESSON}/qualify/check"
    failed = client.post(url, headers={"Accept": "application/json"}).get_json()
    assert not failed["passed"]
    assert lab["hot_lead"]["name"] in failed["message"]
    assert "Hint 1" in failed["hints"]
    _qualify(app, classroom, lab["hot_lead"]["name"])
    passed = client.post(url, headers={"Accept": "application/json"}).get_json()
    assert passed["passed"] and passed["points"] == 10
    assert "Passed" in passed["html"]


def test_check_without_javascript_redirects_back_with_the_message(client, auth, lab):
    auth.login("alice")
    response = client.post(
        f"/labs/{LESSON}/qualify/check", data={"next": f"/labs/{LESSON}"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/labs/{LESSON}")
    page = client.get(f"/labs/{LESSON}").get_data(as_text=True)
    assert "Not yet" in page and "Hint 1" in page
    assert "Attempts: 1" in page


def test_check_is_paced_with_a_clear_message(client, auth, lab):
    auth.login("alice")
    url = f"/labs/{LESSON}/qualify/check"
    client.post(url, headers={"Accept": "application/json"})
    second = client.post(url, headers={"Accept": "application/json"})
    assert second.status_code == 429
    assert "wait" in second.get_json()["error"]


def test_staff_cannot_press_check(client, auth, lab):
    auth.login("teacher")
    assert client.post(f"/labs/{LESSON}/qualify/check").status_code == 403
    # Staff read the lesson as text.
    assert client.get(f"/labs/{LESSON}").status_code == 200


def test_the_lesson_panel_stays_beside_the_crm_until_closed(client, auth, lab):
    auth.login("alice")
    assert 'id="lab-panel"' not in client.get("/crm/leads/").get_data(as_text=True)
    client.post(f"/labs/{LESSON}/panel")
    for url in ("/", "/crm/leads/", "/crm/accounts/"):
        page = client.get(url).get_data(as_text=True)
        assert 'id="lab-panel"' in page, url
        assert lab["hot_lead"]["name"] in page
    client.post("/labs/panel/close")
    assert 'id="lab-panel"' not in client.get("/crm/leads/").get_data(as_text=True)


def test_reset_my_crm_asks_first_then_discards_my_work(
    app, client, auth, classroom, lab
):
    classroom.in_tenant(app, lambda s: make_account(s, name="Typed By Alice"))
    auth.login("alice")
    page = client.get("/labs/reset").get_data(as_text=True)
    assert "Reset your CRM?" in page
    assert client.post("/labs/reset").status_code == 302

    def names(session):
        return set(session.scalars(sa.select(Account.name)))

    assert "Typed By Alice" not in classroom.in_tenant(app, names)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(AuditEvent).filter_by(action="tenant.reset")
            ).actor.username
            == "alice"
        )


def test_save_points_rewind_the_crm_and_are_limited(app, client, auth, classroom, lab):
    auth.login("alice")
    classroom.in_tenant(app, lambda s: make_account(s, name="Kept In Save"))
    response = client.post("/labs/save-points", data={"label": "Before mistakes"})
    assert response.status_code == 302
    classroom.in_tenant(app, lambda s: make_account(s, name="A Mistake"))
    with app.app_context():
        point = db.session.scalar(sa.select(SavePoint))
    page = client.get(f"/labs/save-points/{point.id}/restore").get_data(as_text=True)
    assert "Rewind to “Before mistakes”?" in page
    client.post(f"/labs/save-points/{point.id}/restore")

    def names(session):
        return set(session.scalars(sa.select(Account.name)))

    after = classroom.in_tenant(app, names)
    assert "Kept In Save" in after and "A Mistake" not in after
    for label in ("two", "three"):
        client.post("/labs/save-points", data={"label": label})
    refused = client.post("/labs/save-points", data={"label": "four"})
    assert refused.status_code == 400
    assert "delete one" in refused.get_data(as_text=True)
    blank = client.post("/labs/save-points", data={"label": "   "})
    assert blank.status_code == 400
    client.post(f"/labs/save-points/{point.id}/delete")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SavePoint.id))) == 2
        tenant = classroom.tenant(0)
        assert not tenancy.snapshot_path(tenant, point.snapshot).exists()


def test_a_student_cannot_touch_another_students_save_point(
    app, client, auth, classroom, lab
):
    auth.login("bob")
    client.post("/labs/save-points", data={"label": "Bob's"})
    with app.app_context():
        point = db.session.scalar(sa.select(SavePoint))
    auth.logout()
    auth.login("alice")
    assert client.get(f"/labs/save-points/{point.id}/restore").status_code == 404
    assert client.post(f"/labs/save-points/{point.id}/restore").status_code == 404
    assert client.post(f"/labs/save-points/{point.id}/delete").status_code == 404


def test_a_student_sees_only_their_own_results(app, client, auth, classroom, lab):
    _qualify(app, classroom, lab["hot_lead"]["name"])
    auth.login("alice")
    client.post(f"/labs/{LESSON}/qualify/check")
    auth.logout()
    auth.login("bob")
    page = client.get("/labs/").get_data(as_text=True)
    assert "0 of 3 steps" in page
    with app.app_context():
        rows = db.session.scalars(sa.select(StepResult)).all()
    assert [r.tenant_id for r in rows] == [classroom.tenant_ids[0]]


def test_an_instructor_viewing_a_crm_is_offered_no_students_tools(
    client, auth, classroom
):
    """Save points and a reset are the student's; viewing their CRM read-only, the
    instructor saw both buttons, and each led to "Access denied"."""
    auth.login("alice")
    page = client.get("/labs/").get_data(as_text=True)
    assert "/labs/save-points" in page and "/labs/reset" in page
    auth.logout()
    view_as_instructor(client, auth, classroom)
    page = client.get("/labs/").get_data(as_text=True)
    assert "Read-only view" in page
    assert "/labs/save-points" not in page and "/labs/reset" not in page


def test_points_read_with_two_decimals_at_most(app, client, auth, classroom, lab):
    """A third of a 20-point step is 6.67, never 6.666 (nor 26.666 for the lesson)."""
    with app.app_context():
        db.session.add(
            StepResult(
                tenant_id=classroom.tenant_ids[0],
                lesson_id=LESSON,
                step_id="qualify",
                score=1 / 3,
                points=20 / 3,
                passed=False,
                message={"en": "Partly right.", "zh": "部分正确。"},
            )
        )
        db.session.commit()
    auth.login("alice")
    for url in ("/labs/", f"/labs/{LESSON}"):
        page = client.get(url).get_data(as_text=True)
        assert "6.67" in page and "6.666" not in page, url


def test_an_empty_answer_is_refused_without_counting_an_attempt(
    app, client, auth, classroom, lab, no_pacing
):
    from sandbox.models.labs import CheckAttempt

    with app.app_context():
        db.session.add(
            LessonAssignment(course_id=classroom.course_id, lesson_id="getting-started")
        )
        db.session.commit()
    auth.login("alice")
    url = "/labs/getting-started/find_lead/check"
    refused = client.post(
        url, data={"answer": "  "}, headers={"Accept": "application/json"}
    )
    assert refused.status_code == 422
    assert "Type your answer" in refused.get_json()["error"]
    response = client.post(url, data={"answer": "", "next": "/labs/getting-started"})
    assert response.status_code == 302
    page = client.get("/labs/getting-started").get_data(as_text=True)
    assert "Type your answer" in page
    assert "Attempts:" not in page and "Hint 1" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CheckAttempt.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(StepResult.id))) == 0
    # A wrong answer is still an attempt.
    client.post(url, data={"answer": "nobody@example.com"})
    with app.app_context():
        assert db.session.scalar(sa.select(StepResult.attempts)) == 1


def test_the_lesson_page_in_chinese_uses_full_width_punctuation(
    client, auth, lab, no_pacing
):
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    client.post(f"/labs/{LESSON}/qualify/check")  # unlocks the first hint
    page = client.get(f"/labs/{LESSON}").get_data(as_text=True)
    assert "第 1 步：确认热线索" in page
    assert re.search(r"确认热线索<span[^>]*>（10 分）</span>", page)
    assert ">提示 1：</span>" in page
    assert "步:" not in page and "提示 1:" not in page
