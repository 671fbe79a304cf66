"""Courses and enrollments; every student enrolled gets a tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import Course, Enrollment, Role, Tenant, User, record_event


class CourseError(ValueError):
    """A course could not be created or changed; the message says why."""


def courses_for(user: User) -> list[Course]:
    """The courses a staff member may manage: all for admins, taught ones otherwise."""
    stmt = sa.select(Course).order_by(Course.name)
    if user.role is not Role.ADMIN:
        stmt = stmt.where(Course.instructors.contains(user))
    return list(db.session.scalars(stmt))


def create_course(
    name: str,
    code: str,
    *,
    scenario: str = "default",
    instructors: Iterable[User] = (),
    timezone: str | None = None,
) -> Course:
    """Create a course; its time zone defaults to the scenario's (Asia/Shanghai for
    a Chinese scenario, else UTC)."""
    from sandbox.scenarios import SCENARIO_TIMEZONES, SCENARIOS

    code = code.strip()
    if not code or not name.strip():
        raise CourseError("a course needs a name and a code")
    if scenario not in SCENARIOS:
        raise CourseError(f"unknown scenario {scenario!r}")
    if timezone is None:
        timezone = SCENARIO_TIMEZONES.get(scenario, "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"unknown time zone {timezone!r}") from None
    if db.session.scalar(sa.select(Course).where(Course.code == code)) is not None:
        raise CourseError(f"the course code {code!r} is taken")
    course = Course(
        name=name.strip(),
        code=code,
        scenario=scenario,
        timezone=timezone,
        instructors=list(instructors),
    )
    db.session.add(course)
    db.session.flush()
    return course


def enroll(course: Course, student: User) -> Tenant:
    """Enroll a student and provision their tenant (idempotent); the caller commits."""
    if not student.is_student:
        raise CourseError(f"{student.username} is not a student")
    exists = db.session.scalar(
        sa.select(Enrollment).filter_by(course_id=course.id, student_id=student.id)
    )
    if exists is None:
        db.session.add(Enrollment(course=course, student=student))
    return tenancy.provision_tenant(course, student)


def roster(course: Course) -> list[tuple[User, Tenant | None]]:
    """The course's students with their tenants, by username."""
    tenants = {t.student_id: t for t in course.tenants}
    students = sorted((e.student for e in course.enrollments), key=lambda u: u.username)
    return [(s, tenants.get(s.id)) for s in students]


def reset_class(
    course: Course,
    actor: User | None = None,
    progress: Callable[[Tenant], None] | None = None,
) -> int:
    """Reset every tenant of the course; returns how many were reset."""
    count = 0
    for tenant in sorted(course.tenants, key=lambda t: t.id):
        tenancy.reset_tenant(tenant, actor=actor)
        count += 1
        if progress:
            progress(tenant)
    record_event("course.reset", actor=actor, target=course.code, tenants=count)
    return count
