"""Every lesson, in every scenario it names, against its reference solution."""

from __future__ import annotations

import pytest

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.labs.grading import check_step, grade_tenant
from sandbox.labs.lessons import load_lessons
from sandbox.labs.planting import plant_facts
from sandbox.labs.render import render_value
from sandbox.labs.solution import SolutionClient, solution_steps
from sandbox.models.control import Tenant
from tests.conftest import AuthActions
from tests.helpers import make_course, make_student

LESSONS = load_lessons()
CASES = [
    pytest.param(lesson_id, scenario, id=f"{lesson_id}-{scenario}")
    for lesson_id, lesson in LESSONS.items()
    for scenario in lesson.scenarios
]


def _student(app, scenario: str, username: str, code: str = "LAB1"):
    """A student of a course on ``scenario`` whose tenant has its facts planted."""
    from sandbox.models.control import Course

    with app.app_context():
        course = db.session.query(Course).filter_by(code=code).one_or_none()
        if course is None:
            course = make_course(code=code, scenario=scenario)
        _, tenant = make_student(course, username)
        with tenancy.tenant_session(tenant) as session:
            facts = plant_facts(session)
        return tenant.id, facts


def _solver(app, tenant_id: int, username: str) -> SolutionClient:
    client = app.test_client()
    AuthActions(client).login(username)
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        return SolutionClient(client, tenant)


def _check(app, tenant_id, lesson, step, answer=None):
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        return check_step(tenant, lesson, step, answer, count_attempt=False)


@pytest.mark.parametrize(("lesson_id", "scenario"), CASES)
def test_each_step_fails_fresh_and_passes_after_its_solution(app, lesson_id, scenario):
    lesson = LESSONS[lesson_id]
    steps = solution_steps(lesson)
    tenant_id, facts = _student(app, scenario, "ana")
    for step in lesson.steps:
        outcome = _check(app, tenant_id, lesson, step)
        assert not outcome.passed, f"{step.id} passes on a fresh tenant"
        assert outcome.score < 1
    crm = _solver(app, tenant_id, "ana")
    for step in lesson.steps:
        with app.app_context():
            crm.tenant = db.session.get(Tenant, tenant_id)
            answer = steps[step.id](crm, facts)
        outcome = _check(app, tenant_id, lesson, step, answer)
        assert outcome.passed, f"{step.id}: {outcome.message['en']}"
    with app.app_context():
        results = grade_tenant(db.session.get(Tenant, tenant_id), lesson)
    assert sum(r.points for r in results) == lesson.total_points


@pytest.mark.parametrize(("lesson_id", "scenario"), CASES)
def test_one_students_solution_does_not_pass_for_another(app, lesson_id, scenario):
    lesson = LESSONS[lesson_id]
    steps = solution_steps(lesson)
    ana_id, ana_facts = _student(app, scenario, "ana")
    ben_id, ben_facts = _student(app, scenario, "ben")
    assert ana_facts != ben_facts
    # Ben follows Ana's instructions (her facts) in his own CRM, as far as they go.
    crm = _solver(app, ben_id, "ben")
    answers = {}
    for step in lesson.steps:
        with app.app_context():
            crm.tenant = db.session.get(Tenant, ben_id)
            try:
                answers[step.id] = steps[step.id](crm, ana_facts)
            except AssertionError:
                pass  # Ana's records are not in Ben's CRM
    for step in lesson.steps:
        outcome = _check(app, ben_id, lesson, step, answers.get(step.id))
        assert not outcome.passed, step.id


@pytest.mark.parametrize(("lesson_id", "scenario"), CASES)
def test_every_instruction_finds_its_facts(app, lesson_id, scenario):
    lesson = LESSONS[lesson_id]
    _, facts = _student(app, scenario, "ana")
    for step in lesson.steps:
        for lang in ("en", "zh"):
            # Strict rendering: a fact the planting does not provide raises.
            text = render_value(step.instructions[lang], facts)
            assert "{{" not in text and "None" not in text, (step.id, lang, text)
