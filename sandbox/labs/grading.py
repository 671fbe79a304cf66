"""Running a lesson's checks on a student's CRM and keeping the results.

:func:`check_step` is the student's Check button: one step, counted as an attempt,
unlocking a hint when it fails. :func:`grade_tenant` and :func:`grade_course` are
the instructor's grading runs: every step of a lesson on each student's tenant,
each tenant opened once on one read-only connection, the results written in bulk
in one transaction — a class of 200 is graded in about a second.

Checks only read: tenants are opened read-only (SQLite refuses any write).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from jinja2 import UndefinedError

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.i18n import lazy_gettext as _l
from sandbox.labs.checks import CheckContext, CheckResult, get_check
from sandbox.labs.checks.records import EntityError
from sandbox.labs.facts import tenant_facts
from sandbox.labs.lessons import Lesson, Step, get_lesson, load_lessons
from sandbox.labs.messages import bilingual, join, pack
from sandbox.labs.render import render_value
from sandbox.models import utcnow
from sandbox.models.control import Course, Tenant, User, record_event
from sandbox.models.labs import CheckAttempt, LessonAssignment, StepResult

log = logging.getLogger(__name__)

STEP_PASSED = _l("Well done: this step is complete.")
MISSING_FACT = _l(
    "This step needs a fact your CRM does not have (%(fact)s); ask your instructor "
    "to reset your CRM."
)
CHECK_BROKEN = _l(
    "This check could not run on your CRM; your instructor can see why. Your work "
    "is not lost."
)
#: The longest typed answer kept (the column's size).
MAX_ANSWER = 200


class AnswerMissing(ValueError):
    """Check was pressed on a step that asks for an answer, with none typed."""


@dataclass(frozen=True)
class StepOutcome:
    """What one Check of one step found, as stored in :class:`StepResult`."""

    lesson_id: str
    step_id: str
    score: float
    points: float
    passed: bool
    message: Mapping[str, str]
    detail: Mapping[str, Any]
    attempts: int = 0
    hints_shown: int = 0
    late: bool = False
    checks: tuple[CheckResult, ...] = field(default=(), compare=False)


@dataclass
class CourseGrades:
    """A grading run's results: per tenant and lesson, the outcome of each step."""

    course_id: int
    lesson_ids: list[str]
    results: dict[int, dict[str, list[StepOutcome]]] = field(default_factory=dict)
    seconds: float = 0.0
    #: Students whose CRM file is missing or damaged (a reset mends it).
    not_graded: int = 0

    def points(self, tenant_id: int, lesson_id: str) -> float:
        return sum(o.points for o in self.results.get(tenant_id, {}).get(lesson_id, []))


# --------------------------------------------------------------------------- running


def _run_check(ctx: CheckContext, kind: str, params: Mapping[str, Any]) -> CheckResult:
    try:
        rendered = render_value(params, ctx.facts)
        return get_check(kind)().run(ctx, rendered)
    except UndefinedError as error:
        fact = str(error.message or "").split("'")[-2:-1] or [""]
        return CheckResult(
            0.0,
            bilingual(MISSING_FACT, fact=fact[0]),
            {"error": f"missing fact: {error.message}"},
        )
    except (EntityError, sa.exc.SQLAlchemyError, ValueError, TypeError) as error:
        log.exception("check %s failed to run", kind)
        return CheckResult(
            0.0, bilingual(CHECK_BROKEN), {"error": f"{type(error).__name__}: {error}"}
        )


def evaluate_step(ctx: CheckContext, lesson: Lesson, step: Step) -> StepOutcome:
    """Run ``step``'s checks in ``ctx`` (nothing is written)."""
    results = tuple(_run_check(ctx, spec.kind, spec.params) for spec in step.checks)
    weights = [spec.weight for spec in step.checks]
    score = sum(w * r.score for w, r in zip(weights, results, strict=True)) / sum(
        weights
    )
    score = round(min(max(score, 0.0), 1.0), 4)
    passed = all(r.passed for r in results)
    if passed:
        score = 1.0
    failing = [r.message for r in results if not r.passed]
    message = bilingual(STEP_PASSED) if passed else join(failing)
    detail = {
        "checks": [
            {
                "kind": spec.kind,
                "score": round(r.score, 4),
                "message": dict(r.message),
                **dict(r.detail),
            }
            for spec, r in zip(step.checks, results, strict=True)
        ]
    }
    return StepOutcome(
        lesson.id,
        step.id,
        score,
        round(score * step.points, 4),
        passed,
        message,
        detail,
        checks=results,
    )


def _context(
    connection: sa.Connection, answer: str | None = None, timezone: str | None = None
) -> CheckContext:
    return CheckContext(connection, tenant_facts(connection), answer, timezone)


def _course_zone(course_id: int) -> str | None:
    return db.session.scalar(sa.select(Course.timezone).where(Course.id == course_id))


def _due_at(course_id: int, lesson_ids: Iterable[str]) -> dict[str, datetime | None]:
    rows = db.session.execute(
        sa.select(LessonAssignment.lesson_id, LessonAssignment.due_at).where(
            LessonAssignment.course_id == course_id,
            LessonAssignment.lesson_id.in_(list(lesson_ids)),
        )
    )
    return dict(rows.all())


def _is_late(
    due: datetime | None, first_passed: datetime | None, now: datetime
) -> bool:
    """Work is late when it was (or still is not) done after the due time."""
    return due is not None and (first_passed or now) > due


# ----------------------------------------------------------------- the Check button


def check_step(
    tenant: Tenant,
    lesson: Lesson,
    step: Step,
    answer: str | None = None,
    *,
    count_attempt: bool = True,
) -> StepOutcome:
    """Check one step on the student's tenant and save the result.

    A counted attempt adds to the step's attempts and the per-step statistics,
    and a failed one unlocks the step's next hint. The caller's session is
    committed.

    :raise AnswerMissing: a counted check of a step that asks for an answer, with
        none typed (nor kept from before); nothing is written then.
    """
    result = db.session.scalar(
        sa.select(StepResult).filter_by(
            tenant_id=tenant.id, lesson_id=lesson.id, step_id=step.id
        )
    )
    if answer is None and result is not None:
        answer = result.answer  # a re-check without a new answer keeps the last one
    answer = (answer or "").strip()[:MAX_ANSWER] or None
    if count_attempt and step.takes_answer and answer is None:
        # An empty box is a slip, not an attempt: no hint, no statistics.
        raise AnswerMissing(step.id)
    # The read-only handle carries the course's time zone with its engine.
    handle = tenancy.handle_for(tenant, readonly=True)
    with handle.engine.connect() as connection:
        outcome = evaluate_step(
            _context(connection, answer, handle.timezone), lesson, step
        )
    now = utcnow()
    due = _due_at(tenant.course_id, [lesson.id]).get(lesson.id)
    if result is None:
        result = StepResult(
            tenant_id=tenant.id,
            lesson_id=lesson.id,
            step_id=step.id,
            attempts=0,
            hints_shown=0,
        )
        db.session.add(result)
    if count_attempt:
        result.attempts = (result.attempts or 0) + 1
        if not outcome.passed:
            result.hints_shown = min(len(step.hints), (result.hints_shown or 0) + 1)
        db.session.add(
            CheckAttempt(
                tenant_id=tenant.id,
                lesson_id=lesson.id,
                step_id=step.id,
                score=outcome.score,
                passed=outcome.passed,
                message=pack(outcome.message),
                at=now,
            )
        )
    if outcome.passed and result.first_passed_at is None:
        result.first_passed_at = now
    result.score = outcome.score
    result.points = outcome.points
    result.passed = outcome.passed
    result.message = dict(outcome.message)
    result.detail = dict(outcome.detail)
    if step.takes_answer:
        result.answer = answer
    result.checked_at = now
    result.late = _is_late(due, result.first_passed_at, now)
    db.session.commit()
    return _stored(outcome, result)


def _stored(outcome: StepOutcome, result: StepResult) -> StepOutcome:
    return StepOutcome(
        outcome.lesson_id,
        outcome.step_id,
        outcome.score,
        outcome.points,
        outcome.passed,
        outcome.message,
        outcome.detail,
        attempts=result.attempts or 0,
        hints_shown=result.hints_shown or 0,
        late=result.late,
        checks=outcome.checks,
    )


# ------------------------------------------------------------------------- grading


def _grade_connection(
    connection: sa.Connection,
    lessons: list[Lesson],
    answers: Mapping[tuple[str, str], str | None],
    timezone: str | None = None,
) -> dict[str, list[StepOutcome]]:
    ctx = _context(connection, timezone=timezone)
    outcomes: dict[str, list[StepOutcome]] = {}
    for lesson in lessons:
        for step in lesson.steps:
            # A typed answer is the student's; grading re-checks the one they gave.
            ctx.answer = (
                answers.get((lesson.id, step.id)) if step.takes_answer else None
            )
            outcomes.setdefault(lesson.id, []).append(evaluate_step(ctx, lesson, step))
    return outcomes


def _save_grades(
    course_id: int,
    lessons: list[Lesson],
    outcomes: dict[int, dict[str, list[StepOutcome]]],
    existing: dict[tuple[int, str, str], Any],
) -> dict[int, dict[str, list[StepOutcome]]]:
    """Write every outcome in one transaction: updates by key, inserts in bulk."""
    now = utcnow()
    due = _due_at(course_id, [lesson.id for lesson in lessons])
    inserts, updates = [], []
    stored: dict[int, dict[str, list[StepOutcome]]] = {}
    for tenant_id, by_lesson in outcomes.items():
        for lesson_id, steps in by_lesson.items():
            for outcome in steps:
                row = existing.get((tenant_id, lesson_id, outcome.step_id))
                first = row.first_passed_at if row is not None else None
                if outcome.passed and first is None:
                    first = now
                late = _is_late(due.get(lesson_id), first, now)
                values = {
                    "score": outcome.score,
                    "points": outcome.points,
                    "passed": outcome.passed,
                    "message": dict(outcome.message),
                    "detail": dict(outcome.detail),
                    "first_passed_at": first,
                    "checked_at": now,
                    "late": late,
                }
                if row is None:
                    inserts.append(
                        {
                            "tenant_id": tenant_id,
                            "lesson_id": lesson_id,
                            "step_id": outcome.step_id,
                            "attempts": 0,
                            "hints_shown": 0,
                            **values,
                        }
                    )
                    attempts = hints = 0
                else:
                    updates.append({"id": row.id, **values})
                    attempts, hints = row.attempts, row.hints_shown
                stored.setdefault(tenant_id, {}).setdefault(lesson_id, []).append(
                    StepOutcome(
                        lesson_id,
                        outcome.step_id,
                        outcome.score,
                        outcome.points,
                        outcome.passed,
                        outcome.message,
                        outcome.detail,
                        attempts=attempts or 0,
                        hints_shown=hints or 0,
                        late=late,
                    )
                )
    if inserts:
        db.session.execute(sa.insert(StepResult), inserts)
    if updates:
        db.session.execute(sa.update(StepResult), updates)
    return stored


def _existing(
    tenant_ids: list[int], lesson_ids: list[str]
) -> dict[tuple[int, str, str], Any]:
    rows = db.session.execute(
        sa.select(
            StepResult.id,
            StepResult.tenant_id,
            StepResult.lesson_id,
            StepResult.step_id,
            StepResult.first_passed_at,
            StepResult.attempts,
            StepResult.hints_shown,
            StepResult.answer,
        ).where(
            StepResult.tenant_id.in_(tenant_ids),
            StepResult.lesson_id.in_(lesson_ids),
        )
    )
    return {(r.tenant_id, r.lesson_id, r.step_id): r for r in rows}


def _grade(
    course_id: int,
    tenants: list[Tenant],
    lessons: list[Lesson],
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, dict[str, list[StepOutcome]]]:
    lesson_ids = [lesson.id for lesson in lessons]
    existing: dict[tuple[int, str, str], Any] = {}
    tenant_ids = [t.id for t in tenants]
    # SQLite limits a statement's parameters; look results up a chunk at a time.
    for start in range(0, len(tenant_ids), 500):
        existing.update(_existing(tenant_ids[start : start + 500], lesson_ids))
    answers: dict[int, dict[tuple[str, str], str]] = {}
    for (tid, lesson_id, step_id), row in existing.items():
        if row.answer:
            answers.setdefault(tid, {})[(lesson_id, step_id)] = row.answer
    outcomes: dict[int, dict[str, list[StepOutcome]]] = {}
    timezone = _course_zone(course_id)
    total = len(tenants)
    for done, tenant in enumerate(tenants, start=1):
        if not tenancy.tenant_path(tenant.file_path).exists():
            log.warning("tenant %s has no database file; not graded", tenant.id)
        else:
            try:
                with tenancy.sweep_connection(tenant) as connection:
                    outcomes[tenant.id] = _grade_connection(
                        connection, lessons, answers.get(tenant.id, {}), timezone
                    )
            except sa.exc.DatabaseError as error:
                if not tenancy.is_damage(error):
                    raise
                # One damaged file (a reset mends it) must not stop the class.
                log.warning("tenant %s has a damaged database; not graded", tenant.id)
        if progress is not None:
            progress(done, total)
    return _save_grades(course_id, lessons, outcomes, existing)


def grade_tenant(tenant: Tenant, lesson: Lesson) -> list[StepOutcome]:
    """Grade every step of ``lesson`` on one student's tenant and save the results
    (not counted as attempts); the caller's session is committed."""
    stored = _grade(tenant.course_id, [tenant], [lesson])
    db.session.commit()
    return stored.get(tenant.id, {}).get(lesson.id, [])


def _lessons_for(course: Course, lesson: Lesson | str | None) -> list[Lesson]:
    if isinstance(lesson, Lesson):
        return [lesson]
    if isinstance(lesson, str):
        return [get_lesson(lesson)]
    assigned = db.session.scalars(
        sa.select(LessonAssignment.lesson_id)
        .where(LessonAssignment.course_id == course.id)
        .order_by(LessonAssignment.position, LessonAssignment.id)
    ).all()
    known = load_lessons()
    return [known[lesson_id] for lesson_id in assigned if lesson_id in known]


def grade_course(
    course: Course,
    lesson: Lesson | str | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    actor: User | None = None,
) -> CourseGrades:
    """Grade a whole class on ``lesson`` (a lesson or its id), or on every lesson
    assigned to the course, and save the results in one transaction.

    :param progress: called as ``progress(done, total)`` after each student
    """
    started = time.perf_counter()
    lessons = _lessons_for(course, lesson)
    tenants = list(
        db.session.scalars(
            sa.select(Tenant)
            .where(Tenant.course_id == course.id)
            .options(sa.orm.joinedload(Tenant.course))
            .order_by(Tenant.id)
        )
    )
    results = _grade(course.id, tenants, lessons, progress) if lessons else {}
    record_event(
        "labs.grade",
        actor=actor,
        target=course.code,
        lessons=[lesson.id for lesson in lessons],
        students=len(tenants),
    )
    db.session.commit()
    return CourseGrades(
        course.id,
        [lesson.id for lesson in lessons],
        results,
        time.perf_counter() - started,
        len(tenants) - len(results) if lessons else 0,
    )


def saved_results(tenant: Tenant, lesson: Lesson) -> dict[str, StepResult]:
    """The student's stored result of each step of ``lesson``, by step id."""
    rows = db.session.scalars(
        sa.select(StepResult).where(
            StepResult.tenant_id == tenant.id, StepResult.lesson_id == lesson.id
        )
    )
    return {row.step_id: row for row in rows}
