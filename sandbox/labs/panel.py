"""The lesson panel beside the CRM, and how a step shows on a page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template, request, session
from flask_login import current_user
from markupsafe import Markup

from sandbox import tenancy
from sandbox.i18n import current_language
from sandbox.labs.lessons import Lesson, Step, in_language
from sandbox.labs.render import render_markdown
from sandbox.models.labs import StepResult

#: The session key of the lesson open in the panel.
PANEL_KEY = "lab_panel"


@dataclass(frozen=True)
class StepView:
    """A step as a page shows it to one student."""

    id: str
    number: int
    title: str
    instructions: Markup
    hints: list[Markup]
    hints_total: int
    points: float
    earned: float
    passed: bool
    checked: bool
    attempts: int
    message: str
    late: bool
    takes_answer: bool
    answer_label: str
    answer: str


def step_view(
    lesson: Lesson,
    step: Step,
    result: StepResult | None,
    facts: dict[str, Any],
    lang: str,
) -> StepView:
    shown = result.hints_shown if result is not None else 0
    return StepView(
        id=step.id,
        number=lesson.steps.index(step) + 1,
        title=step.title_in(lang),
        instructions=render_markdown(in_language(step.instructions, lang), facts),
        hints=[
            render_markdown(in_language(hint, lang), facts)
            for hint in step.hints[:shown]
        ],
        hints_total=len(step.hints),
        points=step.points,
        earned=result.points if result is not None else 0.0,
        passed=bool(result and result.passed),
        checked=result is not None,
        attempts=result.attempts if result is not None else 0,
        message=in_language(result.message or {}, lang) if result is not None else "",
        late=bool(result and result.late),
        takes_answer=step.takes_answer,
        answer_label=in_language(step.answer_label or {}, lang),
        answer=(result.answer or "") if result is not None else "",
    )


def lab_panel() -> Markup:
    """The panel of the lesson the student opened, on every CRM page; else nothing."""
    from sandbox.extensions import db
    from sandbox.labs.facts import tenant_facts
    from sandbox.labs.service import available_lessons, lesson_assignment, step_results

    lesson_id = session.get(PANEL_KEY)
    if (
        not lesson_id
        or not current_user.is_authenticated
        or not current_user.is_student
    ):
        return Markup("")
    if request.blueprint == "labs" or tenancy.current_handle() is None:
        return Markup("")
    tenant = tenancy.student_tenant(current_user)
    lesson = available_lessons().get(lesson_id)
    if tenant is None or lesson is None or lesson_assignment(tenant, lesson_id) is None:
        return Markup("")
    lang = current_language()
    results = step_results(tenant, lesson)
    facts = tenant_facts(db.session)
    steps = [step_view(lesson, s, results.get(s.id), facts, lang) for s in lesson.steps]
    return Markup(  # noqa: S704 - a rendered template
        render_template(
            "labs/_panel.html",
            lesson=lesson,
            steps=steps,
            lang=lang,
            points=sum(r.points for r in results.values()),
        )
    )
