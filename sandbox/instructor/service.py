"""Courses and enrollments; every student enrolled gets a tenant."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models import utcnow
from sandbox.models.control import Course, Enrollment, Role, Tenant, User, record_event
from sandbox.models.labs import CheckAttempt, StepResult


class CourseError(ValueError):
    """A course could not be created or changed; the message says why.

    ``field`` names the form field the message belongs beside, if any.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ScenarioChoice:
    id: str
    name: str
    locale: str
    timezone: str


def scenario_choices() -> list[ScenarioChoice]:
    """The scenarios a course can be built on.

    The one place that asks the scenario engine which scenarios exist.
    """
    from sandbox.i18n import current_language
    from sandbox.scenarios import available

    language = current_language()
    return [
        ScenarioChoice(c.id, c.name(language), c.locale, c.timezone)
        for c in available()
    ]


def _scenario(scenario_id: str) -> ScenarioChoice:
    """The scenario ``scenario_id`` names (an old alias keeps its own id)."""
    from sandbox.i18n import current_language
    from sandbox.scenarios import all_scenarios

    scenario = all_scenarios().get(scenario_id)
    if scenario is None:
        raise CourseError(
            _("Unknown scenario %(scenario)s.", scenario=scenario_id), "scenario"
        )
    language = "zh" if current_language() == "zh" else "en"
    return ScenarioChoice(
        scenario_id, scenario.name[language], scenario.locale, scenario.timezone
    )


def scenario_name(scenario_id: str) -> str:
    """The name of the scenario ``scenario_id`` in the page's language (its id if
    the scenario is no longer installed)."""
    try:
        return _scenario(scenario_id).name
    except CourseError:
        return scenario_id


def check_timezone(timezone: str) -> str:
    """``timezone`` if it is an IANA time zone name, else a :class:`CourseError`."""
    timezone = (timezone or "").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(
            _(
                "Unknown time zone %(zone)s: use an IANA name such as Asia/Shanghai.",
                zone=timezone,
            ),
            "timezone",
        ) from None
    return timezone


def _check_fiscal_month(month: int) -> int:
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise CourseError(
            _("The fiscal year starts in a month from 1 to 12."), "fiscal_year_start"
        )
    return month


def courses_for(user: User, *, archived: bool = False) -> list[Course]:
    """The courses a staff member may manage: all for admins, taught ones otherwise.

    Archived courses are left out unless ``archived`` asks for them (and only them).
    """
    stmt = sa.select(Course).order_by(Course.name)
    if user.role is not Role.ADMIN:
        stmt = stmt.where(Course.instructors.contains(user))
    if archived:
        stmt = stmt.where(Course.archived_at.is_not(None))
    else:
        stmt = stmt.where(Course.archived_at.is_(None))
    return list(db.session.scalars(stmt))


def _check_code(code: str, course: Course | None = None) -> str:
    code = (code or "").strip()
    if not code:
        raise CourseError(_("A course needs a code."), "code")
    stmt = sa.select(Course).where(Course.code == code)
    if course is not None and course.id is not None:
        stmt = stmt.where(Course.id != course.id)
    if db.session.scalar(stmt) is not None:
        raise CourseError(_("The course code %(code)s is taken.", code=code), "code")
    return code


def create_course(
    name: str,
    code: str,
    *,
    scenario: str = "default",
    instructors: Iterable[User] = (),
    timezone: str | None = None,
    fiscal_year_start: int = 1,
    actor: User | None = None,
) -> Course:
    """Create a course; its time zone defaults to the scenario's (Asia/Shanghai for
    a Chinese scenario, else UTC). The caller commits."""
    if not (name or "").strip():
        raise CourseError(_("A course needs a name."), "name")
    code = _check_code(code)
    choice = _scenario(scenario)
    timezone = check_timezone(choice.timezone if timezone is None else timezone)
    course = Course(
        name=name.strip(),
        code=code,
        scenario=scenario,
        timezone=timezone,
        fiscal_year_start=_check_fiscal_month(fiscal_year_start),
        instructors=list(instructors),
    )
    db.session.add(course)
    db.session.flush()
    record_event("course.create", actor=actor, target=code, scenario=scenario)
    return course


def scenario_locked_reason(course: Course) -> str | None:
    """Why the course's scenario can no longer change, or None while it still can.

    A scenario may change only before any student has started: no Check pressed,
    no CRM reset, and every CRM still exactly as it was provisioned.
    """
    tenant_ids = [t.id for t in course.tenants]
    if not tenant_ids:
        return None
    started = db.session.scalar(
        sa.select(sa.func.count(StepResult.id)).where(
            StepResult.tenant_id.in_(tenant_ids)
        )
    )
    if started:
        return _("Students have already checked lab steps in this course.")
    if any(t.reset_count for t in course.tenants):
        return _("Student CRMs in this course have already been reset.")
    if any(_tenant_changed(t) for t in course.tenants):
        return _("Students have already changed their CRMs in this course.")
    return None


def _audit_rows(path) -> int:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def _tenant_changed(tenant: Tenant) -> bool:
    """Whether the student changed their CRM: every change writes an audit row."""
    live = tenancy.tenant_path(tenant.file_path)
    seed = tenancy.tenant_path(tenant.seed_path)
    if not live.exists() or not seed.exists():
        return False
    return _audit_rows(live) != _audit_rows(seed)


def update_course(
    course: Course,
    *,
    name: str,
    code: str,
    scenario: str,
    timezone: str,
    fiscal_year_start: int,
    instructors: Iterable[User] | None = None,
    actor: User | None = None,
) -> bool:
    """Change a course's settings; returns whether its scenario changed (then the
    caller commits and calls :func:`reprovision`). Archived courses are read-only."""
    from sandbox.scenarios import canonical_id

    ensure_writable(course)
    if not (name or "").strip():
        raise CourseError(_("A course needs a name."), "name")
    code = _check_code(code, course)
    _scenario(scenario)
    timezone = check_timezone(timezone)
    fiscal_year_start = _check_fiscal_month(fiscal_year_start)
    if canonical_id(scenario) == canonical_id(course.scenario):
        scenario = course.scenario  # the same scenario, by its new id or an alias
    scenario_changed = scenario != course.scenario
    if scenario_changed:
        reason = scenario_locked_reason(course)
        if reason:
            raise CourseError(
                _("The scenario can no longer change: %(reason)s", reason=reason),
                "scenario",
            )
    changes = {
        key: [getattr(course, key), value]
        for key, value in (
            ("name", name.strip()),
            ("code", code),
            ("scenario", scenario),
            ("timezone", timezone),
            ("fiscal_year_start", fiscal_year_start),
        )
        if getattr(course, key) != value
    }
    for key, (_old, new) in changes.items():
        setattr(course, key, new)
    if instructors is not None:
        course.instructors = list(instructors)
    record_event("course.update", actor=actor, target=course.code, changes=changes)
    return scenario_changed


def ensure_writable(course: Course) -> None:
    if course.archived_at is not None:
        raise CourseError(
            _("This course is archived: restore it before changing anything.")
        )


def archive_course(course: Course, actor: User | None = None) -> None:
    """Archive the course: hidden from the course list, read-only until restored."""
    ensure_writable(course)
    course.archived_at = utcnow()
    record_event("course.archive", actor=actor, target=course.code)


def restore_course(course: Course, actor: User | None = None) -> None:
    course.archived_at = None
    record_event("course.restore", actor=actor, target=course.code)


# --------------------------------------------------------------------- enrollments


def enroll(course: Course, student: User) -> Tenant:
    """Enroll a student and provision their tenant (idempotent); the caller commits."""
    enroll_only(course, student)
    return tenancy.provision_tenant(course, student)


def enroll_only(course: Course, student: User) -> Enrollment:
    """Enroll a student without building their CRM yet (the caller commits, then
    :func:`provision_missing` builds it)."""
    if not student.is_student:
        raise CourseError(
            _("%(username)s is not a student.", username=student.username)
        )
    exists = db.session.scalar(
        sa.select(Enrollment).filter_by(course_id=course.id, student_id=student.id)
    )
    if exists is None:
        exists = Enrollment(course=course, student=student)
        db.session.add(exists)
    return exists


def roster(course: Course) -> list[tuple[User, Tenant | None]]:
    """The course's students with their tenants, by username."""
    tenants = {t.student_id: t for t in course.tenants}
    students = sorted((e.student for e in course.enrollments), key=lambda u: u.username)
    return [(s, tenants.get(s.id)) for s in students]


def enrolled_student(course: Course, student_id: int) -> User | None:
    """The student of that id enrolled in ``course``, else None."""
    return db.session.scalar(
        sa.select(User)
        .join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.course_id == course.id, User.id == student_id)
    )


def provision_student(course: Course, student: User, actor: User | None = None) -> None:
    """Build ``student``'s CRM in ``course`` unless they have one there, and commit.

    A class list's result page builds its new students' CRMs this way, one request
    each. A failure rolls back and is raised.
    """
    has_crm = db.session.scalar(
        sa.select(Tenant.id)
        .where(Tenant.course_id == course.id, Tenant.student_id == student.id)
        .limit(1)
    )
    if has_crm is not None:
        return
    try:
        tenancy.provision_tenant(course, student)
        record_event(
            "course.provision",
            actor=actor,
            target=course.code,
            student=student.username,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


@dataclass
class BatchSummary:
    """What a class-wide operation did: how many, how long, who failed and why."""

    done: int = 0
    seconds: float = 0.0
    failed: list[tuple[str, str]] = field(default_factory=list)


def provision_missing(
    course: Course,
    progress: Callable[[User], None] | None = None,
    actor: User | None = None,
) -> BatchSummary:
    """Build the CRM of every enrolled student who has none yet, committing each.

    One student's failure is reported and the others still get their CRM.
    """
    summary = BatchSummary()
    started = time.monotonic()
    for student, tenant in roster(course):
        if tenant is not None:
            continue
        try:
            tenancy.provision_tenant(course, student)
            db.session.commit()
            summary.done += 1
        except Exception as error:  # noqa: BLE001 - reported per student, run goes on
            db.session.rollback()
            summary.failed.append((student.username, str(error)))
        if progress:
            progress(student)
    summary.seconds = time.monotonic() - started
    if summary.done or summary.failed:
        record_event(
            "course.provision",
            actor=actor,
            target=course.code,
            tenants=summary.done,
            failed=len(summary.failed),
        )
        db.session.commit()
    return summary


def reprovision(
    course: Course, progress: Callable[[User], None] | None = None
) -> BatchSummary:
    """Rebuild every student's CRM from the course's (new) scenario."""
    for tenant in list(course.tenants):
        tenancy.delete_tenant(tenant)
    db.session.commit()
    db.session.refresh(course)
    return provision_missing(course, progress)


def remove_student(course: Course, student: User, actor: User | None = None) -> None:
    """Take a student off the course: their enrollment, lab record and CRM file go.

    Their login stays (they may be in other courses). The caller commits.
    """
    ensure_writable(course)
    tenant = db.session.scalar(
        sa.select(Tenant).filter_by(course_id=course.id, student_id=student.id)
    )
    if tenant is not None:
        for model in (StepResult, CheckAttempt):
            db.session.execute(sa.delete(model).where(model.tenant_id == tenant.id))
        tenancy.delete_tenant(tenant)
    db.session.execute(
        sa.delete(Enrollment).where(
            Enrollment.course_id == course.id, Enrollment.student_id == student.id
        )
    )
    record_event(
        "course.remove_student",
        actor=actor,
        target=course.code,
        student=student.username,
    )


def reset_student(tenant: Tenant, actor: User | None = None) -> None:
    """Reset one student's CRM; the caller commits."""
    ensure_writable(tenant.course)
    tenancy.reset_tenant(tenant, actor=actor)


def reset_class(
    course: Course,
    actor: User | None = None,
    progress: Callable[[Tenant], None] | None = None,
) -> BatchSummary:
    """Reset every tenant of the course, committing each; a CRM that stays busy is
    reported and the others are still reset."""
    ensure_writable(course)
    summary = BatchSummary()
    started = time.monotonic()
    for tenant in sorted(course.tenants, key=lambda t: t.id):
        try:
            tenancy.reset_tenant(tenant, actor=actor)
            db.session.commit()
            summary.done += 1
        except tenancy.TenantError as error:
            db.session.rollback()
            summary.failed.append((tenant.student.username, str(error)))
        if progress:
            progress(tenant)
    summary.seconds = time.monotonic() - started
    record_event(
        "course.reset",
        actor=actor,
        target=course.code,
        tenants=summary.done,
        failed=len(summary.failed),
    )
    return summary
