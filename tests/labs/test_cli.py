"""The lesson author's and the instructor's commands."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from sandbox.extensions import db
from sandbox.labs.lessons import DEFAULT_DIRECTORY
from sandbox.labs.planting import plant_facts
from sandbox.models.labs import LessonAssignment, StepResult

LESSON_FILE = DEFAULT_DIRECTORY / "leads-convert.toml"


def test_lesson_check_reports_every_problem_with_file_step_and_reason(runner, tmp_path):
    bad = tmp_path / "broken.toml"
    text = LESSON_FILE.read_text(encoding="utf-8")
    text = text.replace('id = "leads-convert"', 'id = "broken"')
    text = text.replace('kind = "audit_action"', 'kind = "audit_actoin"', 1)
    text = text.replace("points = 10", "points = -1", 1)
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["lesson", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: step qualify: points must be a positive number" in result.output
    assert "step qualify: check 1 has unknown kind 'audit_actoin'" in result.output
    assert "2 problem(s)" in result.output


def test_lesson_check_refuses_bad_toml(runner, tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_text("id = \n", encoding="utf-8")
    result = runner.invoke(args=["lesson", "check", str(bad)])
    assert result.exit_code == 1
    assert "is not valid TOML" in result.output


def test_lesson_check_runs_the_reference_solution_on_a_fresh_tenant(runner, tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    for name in ("leads-convert.toml", "leads-convert.solution.py"):
        shutil.copy(DEFAULT_DIRECTORY / name, folder / name)
    result = runner.invoke(
        args=[
            "lesson",
            "check",
            str(folder / LESSON_FILE.name),
            "--scenario",
            "b2b-software",  # the lesson names it by its alias, default
        ]
    )
    assert result.exit_code == 0, result.output
    assert "qualify: ok (fresh 0.00, solved 1.00)" in result.output
    assert "total: 40 of 40 points" in result.output
    other = ["lesson", "check", str(folder / LESSON_FILE.name)]
    refused = runner.invoke(args=[*other, "--scenario", "precision-moulds"])
    assert refused.exit_code == 2
    assert "the lesson does not name precision-moulds" in refused.output


def test_lesson_check_fails_a_lesson_whose_solution_does_nothing(runner, tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    shutil.copy(LESSON_FILE, folder / LESSON_FILE.name)
    (folder / "leads-convert.solution.py").write_text(
        "def step_qualify(crm, facts): pass\n"
        "def step_unqualify(crm, facts): pass\n"
        "def step_convert(crm, facts): pass\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        args=[
            "lesson",
            "check",
            str(folder / LESSON_FILE.name),
            "--scenario",
            "default",
        ]
    )
    assert result.exit_code == 1
    assert "qualify: WRONG" in result.output


def test_grade_grades_the_class_with_a_progress_bar(app, runner, classroom):
    classroom.in_tenant(app, plant_facts, 0)
    classroom.in_tenant(app, plant_facts, 1)
    with app.app_context():
        db.session.add(
            LessonAssignment(course_id=classroom.course_id, lesson_id="leads-convert")
        )
        db.session.commit()
    result = runner.invoke(args=["grade", "CRM101"])
    assert result.exit_code == 0, result.output
    assert "Grading" in result.output
    assert "leads-convert: 2 students, mean 0.0 of 40 points" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StepResult.id))) == 6
    assert runner.invoke(args=["grade", "NOPE"]).exit_code == 1
    missing = runner.invoke(args=["grade", "CRM101", "no-such-lesson"])
    assert missing.exit_code == 1 and "unknown lesson" in missing.output
