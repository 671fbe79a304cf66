"""Lesson assignments, the progress heatmap, per-step statistics and the gradebook.

Everything here reads the stored lab results (:class:`StepResult`, written by the
student's Check and by grading runs) and the lesson definitions; grading itself is
:mod:`sandbox.labs.grading`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from sandbox.crm.transfer.export import to_csv
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.instructor.service import CourseError, ensure_writable, roster
from sandbox.labs.lessons import Lesson, load_lessons
from sandbox.labs.messages import unpack
from sandbox.models.control import Course, Tenant, User, record_event
from sandbox.models.labs import CheckAttempt, LessonAssignment, StepResult
from sandbox.scenarios import ScenarioError
from sandbox.scenarios import get as get_scenario

#: The fixed columns of the gradebook export, before one column per lesson.
GRADEBOOK_HEAD = ["username", "student_id", "name", "email"]
GRADEBOOK_TAIL = ["total", "late"]
DETAIL_HEAD = [
    "username",
    "student_id",
    "name",
    "lesson",
    "step",
    "score",
    "points",
    "points_possible",
    "passed",
    "attempts",
    "hints_shown",
    "late",
    "first_passed_at",
    "checked_at",
    "message",
]


# ------------------------------------------------------------------- assignments


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """A wall-clock time in the course's time zone as naive UTC (as stored)."""
    aware = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def utc_to_local(moment: datetime, zone: str) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))


def assignments(course: Course) -> list[LessonAssignment]:
    return list(
        db.session.scalars(
            sa.select(LessonAssignment)
            .where(LessonAssignment.course_id == course.id)
            .order_by(LessonAssignment.position, LessonAssignment.id)
        )
    )


def assigned_lessons(course: Course) -> list[tuple[LessonAssignment, Lesson]]:
    """The course's assignments with their lessons (a lesson file since removed is
    left out)."""
    known = load_lessons()
    return [
        (a, known[a.lesson_id]) for a in assignments(course) if a.lesson_id in known
    ]


def assign_lesson(
    course: Course,
    lesson_id: str,
    due_at: datetime | None,
    actor: User | None = None,
) -> LessonAssignment:
    """Assign a lesson, or change its due time if it is assigned; the caller commits."""
    ensure_writable(course)
    lessons = load_lessons()
    if lesson_id not in lessons:
        raise CourseError(_("Unknown lesson %(lesson)s.", lesson=lesson_id), "lesson")
    lesson = lessons[lesson_id]
    if not lesson.fits(course.scenario):
        raise CourseError(
            _(
                "The lesson %(lesson)s does not work with the course's scenario "
                "%(scenario)s.",
                lesson=lesson.title_in("en"),
                scenario=course.scenario,
            ),
            "lesson",
        )
    assignment = db.session.scalar(
        sa.select(LessonAssignment).filter_by(course_id=course.id, lesson_id=lesson_id)
    )
    if assignment is None:
        position = db.session.scalar(
            sa.select(
                sa.func.coalesce(sa.func.max(LessonAssignment.position), 0)
            ).where(LessonAssignment.course_id == course.id)
        )
        assignment = LessonAssignment(
            course_id=course.id, lesson_id=lesson_id, position=position + 1
        )
        db.session.add(assignment)
    assignment.due_at = due_at
    record_event(
        "course.assign",
        actor=actor,
        target=course.code,
        lesson=lesson_id,
        due_at=due_at.isoformat() if due_at else None,
    )
    return assignment


def unassign_lesson(
    course: Course, assignment: LessonAssignment, actor: User | None = None
) -> None:
    """Stop asking for a lesson; students' results are kept. The caller commits."""
    ensure_writable(course)
    db.session.delete(assignment)
    record_event(
        "course.unassign", actor=actor, target=course.code, lesson=assignment.lesson_id
    )


# ------------------------------------------------------------------------ results


def _results(course: Course, lesson_ids: list[str]) -> dict[int, dict]:
    """Stored results by tenant, then by (lesson, step)."""
    by_tenant: dict[int, dict[tuple[str, str], StepResult]] = defaultdict(dict)
    if not lesson_ids:
        return by_tenant
    rows = db.session.scalars(
        sa.select(StepResult)
        .join(Tenant, Tenant.id == StepResult.tenant_id)
        .where(Tenant.course_id == course.id, StepResult.lesson_id.in_(lesson_ids))
    )
    for row in rows:
        by_tenant[row.tenant_id][(row.lesson_id, row.step_id)] = row
    return by_tenant


@dataclass
class HeatmapRow:
    student: User
    tenant: Tenant | None
    #: One per step of the lesson, in order: the stored result or None.
    cells: list[StepResult | None]
    points: float = 0.0
    late: bool = False


def heatmap(course: Course, lesson: Lesson) -> list[HeatmapRow]:
    """Students × steps of one lesson, from the stored results."""
    results = _results(course, [lesson.id])
    rows = []
    for student, tenant in roster(course):
        found = results.get(tenant.id, {}) if tenant else {}
        cells = [found.get((lesson.id, step.id)) for step in lesson.steps]
        rows.append(
            HeatmapRow(
                student,
                tenant,
                cells,
                sum(c.points for c in cells if c is not None),
                any(c.late for c in cells if c is not None),
            )
        )
    return rows


def cell_class(result: StepResult | None) -> str:
    """The heatmap colour of a result: not checked, failed, partly right, passed."""
    if result is None:
        return "heat-none bg-body-secondary"
    if result.passed or result.score >= 1:
        return "heat-pass bg-success text-white"
    if result.score > 0:
        return "heat-partial bg-warning text-dark"
    return "heat-fail bg-danger text-white"


@dataclass
class StepStats:
    step_id: str
    title: str
    points: float
    students: int
    checked: int = 0
    passed: int = 0
    attempts: int = 0
    common_failure: str = ""
    common_failure_count: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0


def step_statistics(course: Course, lesson: Lesson, lang: str) -> list[StepStats]:
    """Per step: how many passed (of the class), attempts, the commonest failure."""
    tenant_ids = [t.id for t in course.tenants]
    students = len(course.enrollments)
    stats = {
        step.id: StepStats(step.id, step.title_in(lang), step.points, students)
        for step in lesson.steps
    }
    if tenant_ids:
        for step_id, checked, passed in db.session.execute(
            sa.select(
                StepResult.step_id,
                sa.func.count(StepResult.id),
                sa.func.sum(sa.case((StepResult.passed, 1), else_=0)),
            )
            .where(
                StepResult.tenant_id.in_(tenant_ids),
                StepResult.lesson_id == lesson.id,
            )
            .group_by(StepResult.step_id)
        ):
            if step_id in stats:
                stats[step_id].checked = checked
                stats[step_id].passed = passed or 0
        failures: dict[str, Counter] = defaultdict(Counter)
        for step_id, passed, message, count in db.session.execute(
            sa.select(
                CheckAttempt.step_id,
                CheckAttempt.passed,
                CheckAttempt.message,
                sa.func.count(CheckAttempt.id),
            )
            .where(
                CheckAttempt.tenant_id.in_(tenant_ids),
                CheckAttempt.lesson_id == lesson.id,
            )
            .group_by(CheckAttempt.step_id, CheckAttempt.passed, CheckAttempt.message)
        ):
            if step_id not in stats:
                continue
            stats[step_id].attempts += count
            if not passed and message:
                failures[step_id][message] += count
        wording = _messages_in(lang, tenant_ids, lesson.id) if lang != "en" else {}
        for step_id, counter in failures.items():
            message, count = counter.most_common(1)[0]
            words = unpack(message)
            stats[step_id].common_failure = words.get(lang) or wording.get(
                words["en"], words["en"]
            )
            stats[step_id].common_failure_count = count
    return list(stats.values())


def _messages_in(lang: str, tenant_ids: list[int], lesson_id: str) -> dict[str, str]:
    """English check messages -> the same messages in ``lang``, as the students'
    latest results hold them in both languages: for attempts stored before they
    kept both languages (they kept the English only)."""
    wording: dict[str, str] = {}
    for message in db.session.scalars(
        sa.select(StepResult.message).where(
            StepResult.tenant_id.in_(tenant_ids), StepResult.lesson_id == lesson_id
        )
    ):
        if isinstance(message, dict) and message.get("en") and message.get(lang):
            wording[message["en"]] = message[lang]
    return wording


# ---------------------------------------------------------------------- gradebook


def course_language(course: Course) -> str:
    """The language the course's students work in: its scenario's ("zh" for a
    Chinese company). The gradebook files speak it: lesson titles and messages."""
    try:
        return "zh" if get_scenario(course.scenario).chinese else "en"
    except (KeyError, ScenarioError):
        return "en"


@dataclass
class GradebookRow:
    student: User
    points: dict[str, float] = field(default_factory=dict)
    late_lessons: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(self.points.values()), 4)


def gradebook(course: Course) -> tuple[list[Lesson], list[GradebookRow]]:
    """Points per student and assigned lesson (only the lesson's current steps
    count), with the lessons handed in late."""
    lessons = [lesson for _a, lesson in assigned_lessons(course)]
    results = _results(course, [lesson.id for lesson in lessons])
    rows = []
    for student, tenant in roster(course):
        found = results.get(tenant.id, {}) if tenant else {}
        row = GradebookRow(student)
        for lesson in lessons:
            cells = [found.get((lesson.id, step.id)) for step in lesson.steps]
            row.points[lesson.id] = round(
                sum(c.points for c in cells if c is not None), 4
            )
            if any(c.late for c in cells if c is not None):
                row.late_lessons.append(lesson.id)
        rows.append(row)
    return lessons, rows


def _message_in(message: dict | None, lang: str) -> str:
    message = message or {}
    return message.get(lang) or message.get("en", "")


def _number(value: float, places: int = 2) -> float | int:
    """``value`` to ``places`` decimals, a whole number without any (``10``, not
    ``10.0``)."""
    value = round(value, places)
    return int(value) if float(value).is_integer() else value


def gradebook_csv(course: Course) -> bytes:
    """The gradebook as CSV for Canvas and Moodle: one row per student, one column
    per assigned lesson (its points possible in the header), total and late flag.

    Student id is the platform's user id; usernames and emails let an LMS match
    its own users.
    """
    lessons, rows = gradebook(course)
    lang = course_language(course)
    header = [
        *GRADEBOOK_HEAD,
        *(
            f"{lesson.title_in(lang)} ({_number(lesson.total_points)})"
            for lesson in lessons
        ),
        *GRADEBOOK_TAIL,
    ]
    body = [
        [
            row.student.username,
            row.student.id,
            row.student.name,
            row.student.email or "",
            *(_number(row.points[lesson.id]) for lesson in lessons),
            _number(row.total),
            ";".join(row.late_lessons) if row.late_lessons else "",
        ]
        for row in rows
    ]
    return to_csv(header, body)


def detail_csv(course: Course) -> bytes:
    """One row per student and step of every assigned lesson; its times in the
    course's time zone, with their UTC offset, and the message in the course's
    language (:func:`course_language`)."""
    lessons = [lesson for _a, lesson in assigned_lessons(course)]
    lang = course_language(course)
    results = _results(course, [lesson.id for lesson in lessons])

    def local(moment: datetime | None) -> datetime | None:
        return utc_to_local(moment, course.timezone) if moment else None

    body = []
    for student, tenant in roster(course):
        found = results.get(tenant.id, {}) if tenant else {}
        for lesson in lessons:
            for step in lesson.steps:
                r = found.get((lesson.id, step.id))
                body.append(
                    [
                        student.username,
                        student.id,
                        student.name,
                        lesson.id,
                        step.id,
                        _number(r.score, 4) if r else 0,
                        _number(r.points) if r else 0,
                        _number(step.points),
                        "yes" if r and r.passed else "no",
                        r.attempts if r else 0,
                        r.hints_shown if r else 0,
                        "yes" if r and r.late else "no",
                        local(r.first_passed_at) if r else None,
                        local(r.checked_at) if r else None,
                        _message_in(r.message, lang) if r else "",
                    ]
                )
    return to_csv(DETAIL_HEAD, body)
