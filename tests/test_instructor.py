"""Instructor pages: roster, resets with confirmation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import AuditEvent
from sandbox.models.crm import Account
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
    assert "will be discarded" in client.get(url).get_data(as_text=True)
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
        with pytest.raises(CourseError, match="unknown time zone"):
            create_course("Nowhere", "XX1", timezone="Mars/Olympus")
