"""``crm-sandbox lesson check FILE`` and ``crm-sandbox grade COURSE [LESSON]``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from sandbox.cli import needs_instance
from sandbox.labs.lessons import LessonError, load_lesson_file


@click.group("lesson")
def lesson_group() -> None:
    """Write and check lessons."""


@lesson_group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Run the solution in this scenario only (default: every one it names).",
)
@click.option("--no-solution", is_flag=True, help="Only validate the file.")
def lesson_check(file: Path, scenarios: tuple[str, ...], no_solution: bool) -> None:
    """Validate a lesson FILE, then run its reference solution on a fresh tenant.

    For each scenario: every step must fail on the fresh tenant, pass after its
    step of the solution, and the lesson must end with full marks.
    """
    try:
        lesson = load_lesson_file(file)
    except LessonError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"{len(error.problems)} problem(s) in {file}"
        ) from None
    click.echo(
        f"{file}: valid — {len(lesson.steps)} steps, {lesson.total_points:g} points"
    )
    if no_solution:
        return
    unknown = {scenario for scenario in scenarios if not lesson.fits(scenario)}
    if unknown:
        raise click.BadParameter(
            f"the lesson does not name {', '.join(sorted(unknown))}",
            param_hint="--scenario",
        )
    failures = 0
    for scenario in scenarios or lesson.scenarios:
        failures += _run_solution(file, scenario)
    if failures:
        raise click.ClickException(f"{failures} step(s) did not behave")
    click.echo("The reference solution earns full marks.")


def _run_solution(file: Path, scenario: str) -> int:
    """Run the lesson's solution on a throw-away instance; returns the failures."""
    from sandbox import create_app, tenancy
    from sandbox.auth.service import create_user
    from sandbox.extensions import db
    from sandbox.instructor.service import create_course, enroll
    from sandbox.labs.grading import check_step, grade_tenant
    from sandbox.labs.lessons import load_lesson_file
    from sandbox.labs.planting import plant_facts
    from sandbox.labs.solution import SolutionClient, SolutionError, solution_steps
    from sandbox.models.control import Role, Tenant

    failures = 0
    with tempfile.TemporaryDirectory(prefix="lesson-check-") as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": str(Path(tmp) / "instance"),
                "SECRET_KEY": "lesson-check",
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "LESSONS_DIR": str(file.parent),
            }
        )
        try:
            with app.app_context():
                db.create_all(bind_key=None)
                lesson = load_lesson_file(file)
                steps = solution_steps(lesson)
                course = create_course("Lesson check", "CHECK", scenario=scenario)
                create_user("author", "author-password", Role.STUDENT)
                db.session.commit()
                from sandbox.auth.service import get_user

                tenant = enroll(course, get_user("author"))
                db.session.commit()
                tenant_id = tenant.id
                with tenancy.tenant_session(tenant) as session:
                    facts = plant_facts(session)
            client = app.test_client()
            client.post(
                "/auth/login",
                data={"username": "author", "password": "author-password"},
            )
            click.echo(f"scenario {scenario}:")
            for step in lesson.steps:
                with app.app_context():
                    tenant = db.session.get(Tenant, tenant_id)
                    before = check_step(tenant, lesson, step, count_attempt=False)
                    try:
                        answer = steps[step.id](SolutionClient(client, tenant), facts)
                    except SolutionError as error:
                        click.echo(f"  {step.id}: the solution failed: {error}")
                        failures += 1
                        continue
                    after = check_step(
                        tenant, lesson, step, answer, count_attempt=False
                    )
                ok = not before.passed and after.passed
                failures += not ok
                state = "ok" if ok else "WRONG"
                click.echo(
                    f"  {step.id}: {state} (fresh {before.score:.2f}, "
                    f"solved {after.score:.2f})"
                )
                if before.passed:
                    click.echo("    passes on a fresh tenant")
                if not after.passed:
                    click.echo(f"    {after.message.get('en', '')}")
            with app.app_context():
                tenant = db.session.get(Tenant, tenant_id)
                earned = sum(o.points for o in grade_tenant(tenant, lesson))
            click.echo(f"  total: {earned:g} of {lesson.total_points:g} points")
            failures += earned < lesson.total_points
        finally:
            with app.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
    return failures


@click.command("grade")
@click.argument("course_code")
@click.argument("lesson_id", required=False)
@with_appcontext
@needs_instance
def grade_command(course_code: str, lesson_id: str | None) -> None:
    """Grade every student of COURSE on LESSON (default: every assigned lesson)."""
    from sandbox.extensions import db
    from sandbox.labs.grading import grade_course
    from sandbox.labs.lessons import get_lesson
    from sandbox.models.control import Course, Tenant

    course = db.session.scalar(sa.select(Course).filter_by(code=course_code))
    if course is None:
        raise click.ClickException(f"no course with the code {course_code!r}")
    lesson = None
    if lesson_id:
        try:
            lesson = get_lesson(lesson_id)
        except (KeyError, LessonError) as error:
            raise click.ClickException(str(error).strip("'\"")) from None
    students = db.session.scalar(
        sa.select(sa.func.count(Tenant.id)).where(Tenant.course_id == course.id)
    )
    with click.progressbar(length=students, label="Grading") as bar:
        done = 0

        def progress(now: int, _total: int) -> None:
            nonlocal done
            bar.update(now - done)
            done = now

        try:
            grades = grade_course(course, lesson, progress)
        except LessonError as error:
            raise click.ClickException(str(error)) from None
    if not grades.lesson_ids:
        click.echo(f"{course.code} has no lessons assigned; nothing was graded.")
        return
    for lesson_key in grades.lesson_ids:
        total = get_lesson(lesson_key).total_points
        points = [grades.points(t, lesson_key) for t in grades.results]
        full = sum(p >= total for p in points)
        mean = sum(points) / len(points) if points else 0.0
        click.echo(
            f"{lesson_key}: {len(points)} students, mean {mean:.1f} of {total:g} "
            f"points, {full} with full marks"
        )
    if grades.not_graded:
        click.echo(
            f"{grades.not_graded} student(s) not graded: their CRM file is missing "
            "or damaged (`crm-sandbox tenant reset` mends it).",
            err=True,
        )
    click.echo(f"Graded in {grades.seconds:.2f} s.")
