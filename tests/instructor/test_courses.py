"""Instructor pages: roster, resets with confirmation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import AuditEvent, Course, User
from sandbox.models.crm import Account
from sandbox.models.labs import StepResult
from tests.helpers import make_account


def work_count(app, classroom, index):
    return classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Account.id))), index
    )


def test_roster_lists_students_and_their_crms(client, auth, classroom):
    auth.login("teacher")
    page = client.get(f"/instructor/courses/{classroom.course_id}").get_data(
        as_text=True
    )
    assert "alice" in page and "bob" in page and "View CRM" in page


def test_reset_one_student_asks_first(app, client, auth, classroom):
    with app.app_context():
        with tenancy.tenant_session(classroom.tenant(0)) as session:
            make_account(session, name="To Be Discarded")
    auth.login("teacher")
    tenant_id = classroom.tenant_ids[0]
    url = f"/instructor/courses/{classroom.course_id}/tenants/{tenant_id}/reset"
    page = client.get(url).get_data(as_text=True)
    assert "will be discarded" in page
    assert "stay on the progress page until the step is checked again" in page
    assert work_count(app, classroom, 0) == 51
    response = client.post(url)
    assert response.status_code == 302
    assert work_count(app, classroom, 0) == 50
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).filter_by(action="tenant.reset")
        )
        assert event.actor_name == "teacher"


def test_reset_the_whole_class(app, client, auth, classroom):
    for index in (0, 1):
        with app.app_context():
            with tenancy.tenant_session(classroom.tenant(index)) as session:
                make_account(session, name="Class Work")
    auth.login("teacher")
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/reset", follow_redirects=True
    )
    assert "2 student CRMs have been reset." in response.get_data(as_text=True)
    assert work_count(app, classroom, 0) == work_count(app, classroom, 1) == 50


def test_unknown_course_or_foreign_tenant_is_404(app, client, auth, classroom):
    auth.login("teacher")
    assert client.get("/instructor/courses/999").status_code == 404
    assert (
        client.post(
            f"/instructor/courses/{classroom.course_id}/tenants/999/reset"
        ).status_code
        == 404
    )


def test_a_chinese_course_shows_times_in_shanghai_unless_it_says_otherwise(app):
    from sandbox.instructor.service import CourseError, create_course

    with app.app_context():
        assert create_course("中文", "ZH1", scenario="default-zh").timezone == (
            "Asia/Shanghai"
        )
        assert create_course("English", "EN1").timezone == "UTC"
        assert create_course("Paris", "FR1", timezone="Europe/Paris").timezone == (
            "Europe/Paris"
        )
        with pytest.raises(CourseError, match="Unknown time zone"):
            create_course("Nowhere", "XX1", timezone="Mars/Olympus")


def test_a_course_page_shows_its_times_in_the_course_time_zone(
    app, client, auth, classroom
):
    import datetime as dt

    from sandbox.models.control import Tenant

    with app.app_context():
        db.session.get(Course, classroom.course_id).timezone = "Asia/Shanghai"
        tenant = db.session.get(Tenant, classroom.tenant_ids[0])
        tenant.created_at = dt.datetime(2026, 3, 1, 23, 30)  # UTC
        db.session.commit()
    auth.login("teacher")
    page = client.get(f"/instructor/courses/{classroom.course_id}").get_data(
        as_text=True
    )
    assert "Mar 2, 2026, 7:30:00" in page and "Mar 1, 2026" not in page


# ------------------------------------------------------------- courses in the UI


def course_named(code):
    return db.session.scalar(sa.select(Course).where(Course.code == code))


def test_an_instructor_creates_a_course_and_teaches_it(app, client, auth, classroom):
    auth.login("teacher")
    response = client.post(
        "/instructor/courses/new",
        data={
            "name": "销售管理",
            "code": "ZH-2026",
            "scenario": "telecom-service",
            "timezone": "",
            "fiscal_year_start": "4",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        course = course_named("ZH-2026")
        assert course.timezone == "Asia/Shanghai"
        assert course.fiscal_year_start == 4
        assert [u.username for u in course.instructors] == ["teacher"]
    assert "销售管理" in client.get("/instructor/").get_data(as_text=True)


def test_course_pages_name_the_scenario_in_the_instructors_language(
    client, auth, classroom
):
    auth.login("teacher")
    client.post(
        "/instructor/courses/new",
        data={
            "name": "Telecom",
            "code": "TEL-1",
            "scenario": "telecom-service",
            "timezone": "",
            "fiscal_year_start": "1",
        },
    )
    pages = ("/instructor/", f"/instructor/courses/{classroom.course_id}")
    for url in pages:
        assert "Northbeam Software" in client.get(url).get_data(as_text=True)
    assert "City Telecom business-customer centre" in client.get(
        "/instructor/"
    ).get_data(as_text=True)
    client.post("/language", data={"language": "zh"})
    assert "城市通信" in client.get("/instructor/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "Unknown time zone Mars/Olympus"),
        ("code", "CRM101", "The course code CRM101 is taken."),
        ("fiscal_year_start", "13", "Not a valid choice"),
        ("scenario", "nowhere", "Not a valid choice"),
    ],
)
def test_a_bad_course_form_says_what_is_wrong(
    app, client, auth, classroom, field, value, message
):
    auth.login("teacher")
    data = {
        "name": "New",
        "code": "NEW1",
        "scenario": "b2b-software",
        "timezone": "UTC",
        "fiscal_year_start": "1",
        field: value,
    }
    response = client.post("/instructor/courses/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert course_named("NEW1") is None


def test_editing_a_course_changes_its_time_zone_and_fiscal_year(
    app, client, auth, classroom
):
    auth.login("teacher")
    url = f"/instructor/courses/{classroom.course_id}/edit"
    assert "Europe" not in client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "name": "CRM 101 (spring)",
            "code": "CRM101",
            "scenario": "b2b-software",
            "timezone": "Europe/Paris",
            "fiscal_year_start": "7",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        assert (course.name, course.timezone, course.fiscal_year_start) == (
            "CRM 101 (spring)",
            "Europe/Paris",
            7,
        )
        assert [u.username for u in course.instructors] == ["teacher"]


def edit_data(**overrides):
    return {
        "name": "CRM 101",
        "code": "CRM101",
        "scenario": "b2b-software",
        "timezone": "UTC",
        "fiscal_year_start": "1",
        **overrides,
    }


def test_the_scenario_changes_before_anyone_starts_and_crms_are_rebuilt(
    app, client, auth, classroom
):
    auth.login("teacher")
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/edit",
        data=edit_data(scenario="telecom-service", timezone="Asia/Shanghai"),
        follow_redirects=True,
    )
    assert "2 student CRMs have been rebuilt" in response.get_data(as_text=True)
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        assert course.scenario == "telecom-service"
        assert sorted(t.scenario for t in course.tenants) == ["telecom-service"] * 2
        tenant = course.tenants[0]
        with tenancy.tenant_session(tenant) as session:
            name = session.scalar(sa.select(Account.name).limit(1))
        assert any("\u4e00" <= ch <= "\u9fff" for ch in name)


@pytest.mark.parametrize("how", ["step_result", "reset", "crm_change"])
def test_the_scenario_is_locked_once_a_student_has_started(
    app, client, auth, classroom, how
):
    with app.app_context():
        tenant = classroom.tenant(0)
        if how == "step_result":
            db.session.add(StepResult(tenant_id=tenant.id, lesson_id="l", step_id="s"))
            db.session.commit()
        elif how == "reset":
            tenancy.reset_tenant(tenant)
            db.session.commit()
        else:
            with tenancy.tenant_session(tenant) as session:
                make_account(session, name="Started")
    auth.login("teacher")
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/edit",
        data=edit_data(scenario="telecom-service"),
    )
    assert response.status_code == 200
    assert "The scenario can no longer change" in response.get_data(as_text=True)
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        assert course.scenario == "default"
        assert {t.scenario for t in course.tenants} == {"default"}


def test_a_started_course_on_an_old_scenario_name_keeps_its_scenario_when_edited(
    app, client, auth, classroom
):
    """The edit form offers scenarios by id (b2b-software); a course created when
    the scenario was called "default" is on the same one, so saving the form is no
    scenario change: nothing is refused or rebuilt."""
    with app.app_context():
        tenant = classroom.tenant(0)
        with tenancy.tenant_session(tenant) as session:
            make_account(session, name="Started")
    auth.login("teacher")
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/edit",
        data=edit_data(name="CRM 101 (autumn)", scenario="b2b-software"),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "can no longer change" not in page and "rebuilt" not in page
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        assert (course.name, course.scenario) == ("CRM 101 (autumn)", "default")
        with tenancy.tenant_session(course.tenants[0]) as session:
            names = session.scalars(sa.select(Account.name)).all()
        assert "Started" in names  # the student's work is still there


def test_an_archived_course_is_hidden_read_only_and_restorable(
    app, client, auth, classroom
):
    auth.login("teacher")
    base = f"/instructor/courses/{classroom.course_id}"
    assert client.post(f"{base}/archive").status_code == 302
    link = f'href="{base}"'
    assert link not in client.get("/instructor/").get_data(as_text=True)
    assert link in client.get("/instructor/?archived=1").get_data(as_text=True)
    page = client.get(base).get_data(as_text=True)
    assert "read-only" in page and "Reset the whole class" not in page
    # Changing anything is refused while archived.
    for url in (f"{base}/reset", f"{base}/edit", f"{base}/roster/import"):
        response = client.post(url, follow_redirects=True)
        assert "restore it before changing anything" in response.get_data(as_text=True)
    with app.app_context():
        assert classroom.tenant(0).reset_count == 0
    client.post(f"{base}/restore")
    assert link in client.get("/instructor/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Course, classroom.course_id).archived_at is None


def test_removing_a_student_asks_first_and_deletes_their_crm(
    app, client, auth, classroom
):
    with app.app_context():
        tenant = classroom.tenant(0)
        student_id = tenant.student_id
        live = tenancy.tenant_path(tenant.file_path)
        seed = tenancy.tenant_path(tenant.seed_path)
        db.session.add(
            StepResult(tenant_id=tenant.id, lesson_id="l", step_id="s", score=1)
        )
        db.session.commit()
    assert live.exists() and seed.exists()
    auth.login("teacher")
    url = f"/instructor/courses/{classroom.course_id}/students/{student_id}/remove"
    assert "Their CRM and their lab results" in client.get(url).get_data(as_text=True)
    assert live.exists()
    assert client.post(url).status_code == 302
    assert not live.exists() and not seed.exists()
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        assert [e.student.username for e in course.enrollments] == ["bob"]
        assert db.session.scalar(sa.select(sa.func.count(StepResult.id))) == 0
        assert db.session.get(User, student_id) is not None  # the login stays


def test_resetting_the_class_reports_a_busy_crm_and_resets_the_others(
    app, client, auth, classroom, monkeypatch
):
    real_reset = tenancy.reset_tenant

    def busy_for_alice(tenant, *, actor=None):
        if tenant.student.username == "alice":
            raise tenancy.TenantBusy("the workspace stayed in use; try again")
        return real_reset(tenant, actor=actor)

    monkeypatch.setattr(tenancy, "reset_tenant", busy_for_alice)
    auth.login("teacher")
    page = client.post(
        f"/instructor/courses/{classroom.course_id}/reset", follow_redirects=True
    ).get_data(as_text=True)
    assert "1 student CRM has been reset." in page
    assert "alice: the workspace stayed in use" in page
    with app.app_context():
        assert [classroom.tenant(i).reset_count for i in (0, 1)] == [0, 1]


def test_a_reset_asked_for_json_answers_without_flashing(app, client, auth, classroom):
    auth.login("teacher")
    url = (
        f"/instructor/courses/{classroom.course_id}"
        f"/tenants/{classroom.tenant_ids[0]}/reset"
    )
    response = client.post(url, headers={"Accept": "application/json"})
    assert response.get_json() == {"ok": True, "student": "alice", "message": ""}
    page = client.get(f"/instructor/courses/{classroom.course_id}").get_data(
        as_text=True
    )
    assert "has been reset" not in page
    with app.app_context():
        assert classroom.tenant(0).reset_count == 1


def test_the_course_page_in_chinese_uses_full_width_colons(client, auth, classroom):
    auth.login("teacher")
    client.post("/language", data={"language": "zh"})
    page = client.get(f"/instructor/courses/{classroom.course_id}").get_data(
        as_text=True
    )
    assert "场景：" in page and "时区：" in page and "教师：" in page
    assert "场景:" not in page
