"""Checking a step and grading a class: what is stored, counted and marked late."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.labs.grading import check_step, grade_course, grade_tenant
from sandbox.labs.lessons import get_lesson
from sandbox.labs.messages import unpack
from sandbox.labs.planting import plant_facts
from sandbox.models import utcnow
from sandbox.models.control import AuditEvent, Course
from sandbox.models.crm import TenantInfo
from sandbox.models.crm.leads import Lead
from sandbox.models.labs import CheckAttempt, LessonAssignment, StepResult


@pytest.fixture
def lesson():
    return get_lesson("leads-convert")


def _plant(app, classroom, index):
    return classroom.in_tenant(app, plant_facts, index)


def _qualify(app, classroom, index, name):
    def work(session):
        lead = session.scalar(sa.select(Lead).filter_by(name=name))
        from sandbox.crm.leads.service import qualify_lead

        qualify_lead(session, lead)

    classroom.in_tenant(app, work, index)


def test_a_failed_check_is_counted_stored_and_unlocks_one_hint(app, classroom, lesson):
    facts = _plant(app, classroom, 0)
    step = lesson.step("qualify")
    with app.app_context():
        tenant = classroom.tenant(0)
        first = check_step(tenant, lesson, step)
        second = check_step(tenant, lesson, step)
        third = check_step(tenant, lesson, step)
        result = db.session.scalar(sa.select(StepResult))
        attempts = db.session.scalars(sa.select(CheckAttempt)).all()
    assert not first.passed and first.points == 0
    assert (first.hints_shown, second.hints_shown) == (1, 2)
    assert third.hints_shown == len(step.hints) == 2  # never more than there are
    assert third.attempts == result.attempts == 3
    assert len(attempts) == 3 and not any(a.passed for a in attempts)
    assert facts["hot_lead"]["name"] in result.message["en"]
    assert result.message["zh"] != result.message["en"]
    # Attempts keep both languages, so instructors read failures in theirs.
    assert unpack(attempts[0].message) == result.message
    assert result.detail["checks"][0]["message"] == result.message


def test_a_passing_check_records_points_and_first_pass(app, classroom, lesson):
    facts = _plant(app, classroom, 0)
    _qualify(app, classroom, 0, facts["hot_lead"]["name"])
    with app.app_context():
        outcome = check_step(classroom.tenant(0), lesson, lesson.step("qualify"))
        result = db.session.scalar(sa.select(StepResult))
    assert outcome.passed and outcome.score == 1
    assert outcome.points == lesson.step("qualify").points
    assert result.first_passed_at is not None and not result.late
    assert result.hints_shown == 0


def test_grading_does_not_count_attempts(app, classroom, lesson):
    _plant(app, classroom, 0)
    with app.app_context():
        outcomes = grade_tenant(classroom.tenant(0), lesson)
        assert db.session.scalar(sa.select(sa.func.count(CheckAttempt.id))) == 0
        rows = db.session.scalars(sa.select(StepResult)).all()
    assert [o.step_id for o in outcomes] == [s.id for s in lesson.steps]
    assert len(rows) == len(lesson.steps)
    assert all(r.attempts == 0 for r in rows)


def test_work_after_the_due_time_is_marked_late_not_refused(app, classroom, lesson):
    facts = _plant(app, classroom, 0)
    _qualify(app, classroom, 0, facts["hot_lead"]["name"])
    with app.app_context():
        db.session.add(
            LessonAssignment(
                course_id=classroom.course_id,
                lesson_id=lesson.id,
                due_at=utcnow() - dt.timedelta(hours=1),
            )
        )
        db.session.commit()
        outcome = check_step(classroom.tenant(0), lesson, lesson.step("qualify"))
    assert outcome.passed and outcome.late
    assert outcome.points == lesson.step("qualify").points


def test_work_done_before_the_due_time_stays_on_time(app, classroom, lesson):
    facts = _plant(app, classroom, 0)
    _qualify(app, classroom, 0, facts["hot_lead"]["name"])
    with app.app_context():
        check_step(classroom.tenant(0), lesson, lesson.step("qualify"))
        passed_at = db.session.scalar(sa.select(StepResult.first_passed_at))
        db.session.add(
            LessonAssignment(
                course_id=classroom.course_id,
                lesson_id=lesson.id,
                due_at=passed_at + dt.timedelta(microseconds=1),
            )
        )
        db.session.commit()
        course = db.session.get(Course, classroom.course_id)
        grades = grade_course(course)
    qualify = grades.results[classroom.tenant_ids[0]][lesson.id][0]
    unqualify = grades.results[classroom.tenant_ids[0]][lesson.id][1]
    assert qualify.passed and not qualify.late
    assert not unqualify.passed and unqualify.late  # still not done, past due


def test_grade_course_grades_every_student_on_assigned_lessons(app, classroom, lesson):
    facts = _plant(app, classroom, 0)
    _plant(app, classroom, 1)
    _qualify(app, classroom, 0, facts["hot_lead"]["name"])
    calls = []
    with app.app_context():
        db.session.add(
            LessonAssignment(course_id=classroom.course_id, lesson_id=lesson.id)
        )
        db.session.commit()
        course = db.session.get(Course, classroom.course_id)
        grades = grade_course(course, progress=lambda d, t: calls.append((d, t)))
        again = grade_course(course, lesson.id)
        stored = db.session.scalars(sa.select(StepResult)).all()
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="labs.grade"))
    alice, bob = classroom.tenant_ids
    assert calls == [(1, 2), (2, 2)]
    assert grades.lesson_ids == [lesson.id]
    assert grades.points(alice, lesson.id) == lesson.step("qualify").points
    assert grades.points(bob, lesson.id) == 0
    assert again.points(alice, lesson.id) == grades.points(alice, lesson.id)
    # Grading twice updates the rows; it never duplicates them.
    assert len(stored) == 2 * len(lesson.steps)
    assert event.target == course.code and event.detail["students"] == 2


def test_a_damaged_crm_is_left_ungraded_and_reported_not_fatal(
    app, client, auth, classroom, lesson
):
    _plant(app, classroom, 0)
    with app.app_context():
        db.session.add(
            LessonAssignment(course_id=classroom.course_id, lesson_id=lesson.id)
        )
        db.session.commit()
        path = tenancy.tenant_path(classroom.tenant(1).file_path)
        tenancy.registry().forget(path)
        path.write_bytes(b"not a database " * 600)
        grades = grade_course(db.session.get(Course, classroom.course_id))
    alice, bob = classroom.tenant_ids
    assert list(grades.results) == [alice] and grades.not_graded == 1
    auth.login("teacher")
    page = client.post(
        f"/instructor/courses/{classroom.course_id}/grade",
        data={"lesson": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 student graded" in page
    assert "1 student could not be graded" in page


def test_a_check_naming_a_missing_fact_fails_with_a_clear_message(
    app, classroom, lesson
):
    def forget_facts(session):
        session.execute(
            sa.delete(TenantInfo).where(TenantInfo.key.in_(("facts", "lesson_facts")))
        )
        session.commit()

    classroom.in_tenant(app, forget_facts)
    with app.app_context():
        outcome = check_step(classroom.tenant(0), lesson, lesson.step("qualify"))
    assert not outcome.passed
    assert "hot_lead" in outcome.message["en"]
    assert "reset" in outcome.message["en"]


def test_checks_cannot_write_to_the_tenant(app, classroom):
    with app.app_context():
        engine = tenancy.handle_for(classroom.tenant(0), readonly=True).engine
        with engine.connect() as connection, pytest.raises(sa.exc.OperationalError):
            connection.execute(
                sa.insert(TenantInfo).values(key="x", value=json.dumps({}))
            )


def test_checks_read_moments_in_the_courses_time_zone(app, classroom):
    from sandbox.labs.lessons import parse_lesson
    from sandbox.models.crm.activities import Activity

    text = {"en": "Meet", "zh": "会面"}
    lesson = parse_lesson(
        {
            "id": "zones",
            "order": 1,
            "minutes": 5,
            "scenarios": ["default"],
            "title": text,
            "intro": text,
            "objectives": [text],
            "steps": [
                {
                    "id": "meet",
                    "points": 1,
                    "title": text,
                    "instructions": text,
                    "checks": [
                        {
                            "kind": "field_equals",
                            "entity": "activity",
                            "where": {"subject": "Paris meeting"},
                            "field": "starts_at",
                            "expected": "2026-12-08 07:30",
                        }
                    ],
                }
            ],
        },
        "zones.toml",
    )

    def work(session):
        session.merge(TenantInfo(key="timezone", value="Asia/Shanghai"))
        session.add(
            Activity(
                kind="meeting",
                subject="Paris meeting",
                starts_at=dt.datetime(2026, 12, 8, 6, 30),  # 07:30 in Paris
            )
        )
        session.commit()

    classroom.in_tenant(app, work)
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        course.timezone = "Europe/Paris"  # the course's zone, not the scenario's
        db.session.commit()
        assert check_step(classroom.tenant(0), lesson, lesson.step("meet")).passed
        assert grade_tenant(classroom.tenant(0), lesson)[0].passed
