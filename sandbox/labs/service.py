"""The student's side of labs: assigned lessons, progress, Check pacing, save points."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.i18n import lazy_gettext as _l
from sandbox.labs.lessons import Lesson, LessonError, load_lessons
from sandbox.models import utcnow
from sandbox.models.control import Tenant, User, record_event
from sandbox.models.labs import CheckAttempt, LessonAssignment, SavePoint, StepResult

#: One Check per student in this many seconds: a class pressing Check in a loop
#: would otherwise keep the server busy grading.
CHECK_INTERVAL = dt.timedelta(seconds=3)
MAX_SAVE_POINTS = 3
LABEL_MAX = 80


class LabError(Exception):
    """A student's request refused; ``message`` says why (translated lazily)."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class LessonProgress:
    """One lesson of the student's course: its due time and how far they got."""

    lesson: Lesson
    due_at: dt.datetime | None
    points: float
    steps_passed: int
    late: bool

    @property
    def total_points(self) -> float:
        return self.lesson.total_points

    @property
    def done(self) -> bool:
        return self.steps_passed == len(self.lesson.steps)

    @property
    def percent(self) -> int:
        total = self.total_points
        return round(100 * self.points / total) if total else 0

    @property
    def overdue(self) -> bool:
        return not self.done and self.due_at is not None and utcnow() > self.due_at


def available_lessons() -> dict[str, Lesson]:
    """Every valid lesson; none while the lesson folder has an invalid file (the
    author is told by ``crm-sandbox lesson check``; students see no half-set)."""
    try:
        return load_lessons()
    except LessonError:
        return {}


def assigned_lessons(tenant: Tenant) -> list[LessonProgress]:
    """The lessons of the student's course, in the instructor's order, with progress."""
    lessons = available_lessons()
    assignments = db.session.scalars(
        sa.select(LessonAssignment)
        .where(LessonAssignment.course_id == tenant.course_id)
        .order_by(LessonAssignment.position, LessonAssignment.id)
    ).all()
    results = db.session.execute(
        sa.select(
            StepResult.lesson_id,
            sa.func.sum(StepResult.points),
            sa.func.sum(sa.case((StepResult.passed, 1), else_=0)),
            sa.func.max(sa.case((StepResult.late, 1), else_=0)),
        )
        .where(StepResult.tenant_id == tenant.id)
        .group_by(StepResult.lesson_id)
    ).all()
    by_lesson = {row[0]: row[1:] for row in results}
    progress = []
    for assignment in assignments:
        lesson = lessons.get(assignment.lesson_id)
        if lesson is None:
            continue
        points, passed, late = by_lesson.get(lesson.id, (0.0, 0, 0))
        progress.append(
            LessonProgress(
                lesson,
                assignment.due_at,
                float(points or 0),
                int(passed or 0),
                bool(late),
            )
        )
    return progress


def lesson_assignment(tenant: Tenant, lesson_id: str) -> LessonAssignment | None:
    return db.session.scalar(
        sa.select(LessonAssignment).filter_by(
            course_id=tenant.course_id, lesson_id=lesson_id
        )
    )


def step_results(tenant: Tenant, lesson: Lesson) -> dict[str, StepResult]:
    rows = db.session.scalars(
        sa.select(StepResult).where(
            StepResult.tenant_id == tenant.id, StepResult.lesson_id == lesson.id
        )
    )
    return {row.step_id: row for row in rows}


def seconds_until_next_check(tenant: Tenant) -> float:
    """How long the student must wait before Check runs again (0: now)."""
    last = db.session.scalar(
        sa.select(sa.func.max(CheckAttempt.at)).where(
            CheckAttempt.tenant_id == tenant.id
        )
    )
    if last is None:
        return 0.0
    wait = (last + CHECK_INTERVAL - utcnow()).total_seconds()
    return max(0.0, wait)


# --------------------------------------------------------------------- reset


def reset_my_crm(tenant: Tenant, user: User) -> None:
    """The student's CRM back to its scenario; their lab record is kept (a
    step checked again after the reset fails until it is done again)."""
    tenancy.reset_tenant(tenant, actor=user)
    db.session.commit()


# --------------------------------------------------------------- save points


def save_points(tenant: Tenant) -> list[SavePoint]:
    return list(
        db.session.scalars(
            sa.select(SavePoint)
            .where(SavePoint.tenant_id == tenant.id)
            .order_by(SavePoint.created_at.desc(), SavePoint.id.desc())
        )
    )


def create_save_point(tenant: Tenant, label: str, user: User) -> SavePoint:
    """Snapshot the student's CRM now under ``label``.

    :raise LabError: the label is empty or too long, or the student already has
        :data:`MAX_SAVE_POINTS` save points.
    """
    label = " ".join((label or "").split())
    if not label:
        raise LabError(_l("Give the save point a name."))
    if len(label) > LABEL_MAX:
        raise LabError(_l("Keep the name to %(n)s characters.", n=LABEL_MAX))
    count = db.session.scalar(
        sa.select(sa.func.count(SavePoint.id)).where(SavePoint.tenant_id == tenant.id)
    )
    if count >= MAX_SAVE_POINTS:
        raise LabError(
            _l(
                "You already have %(n)s save points; delete one to make room.",
                n=MAX_SAVE_POINTS,
            )
        )
    point = SavePoint(
        tenant_id=tenant.id, label=label, snapshot=f"save-{uuid.uuid4().hex[:20]}"
    )
    tenancy.snapshot(tenant, point.snapshot)
    db.session.add(point)
    record_event("labs.save_point", actor=user, target=tenant.file_path, label=label)
    db.session.commit()
    return point


def restore_save_point(tenant: Tenant, point: SavePoint, user: User) -> None:
    """Rewind the student's CRM to ``point``.

    :raise LabError: the save point's file has gone.
    """
    try:
        tenancy.restore_snapshot(tenant, point.snapshot)
    except FileNotFoundError:
        raise LabError(
            _l("This save point's copy is missing; it cannot be restored.")
        ) from None
    record_event(
        "labs.restore_save_point",
        actor=user,
        target=tenant.file_path,
        label=point.label,
    )
    db.session.commit()


def delete_save_point(tenant: Tenant, point: SavePoint) -> None:
    tenancy.snapshot_path(tenant, point.snapshot).unlink(missing_ok=True)
    db.session.delete(point)
    db.session.commit()


def own_save_point(tenant: Tenant, point_id: int) -> SavePoint | None:
    """The save point ``point_id`` if it is this student's, else None."""
    point = db.session.get(SavePoint, point_id)
    return point if point is not None and point.tenant_id == tenant.id else None
