"""The crm-sandbox command: init, demo, users and resets."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.auth.service import get_user
from sandbox.extensions import db
from sandbox.instructor.gradebook import assignments
from sandbox.labs.lessons import load_lessons
from sandbox.labs.service import assigned_lessons
from sandbox.models.control import Course, Role, Tenant, User
from sandbox.models.crm import Account
from sandbox.models.labs import LessonAssignment
from tests.helpers import make_account


def test_init_creates_an_admin_and_prints_the_password_once(app, runner):
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    password = re.search(r"admin\s+/ (\S+)", first.output).group(1)
    with app.app_context():
        admin = db.session.scalar(sa.select(User).filter_by(username="admin"))
        assert admin.role is Role.ADMIN and admin.check_password(password)
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0 and password not in second.output
    assert "password set earlier" in second.output


def test_demo_sets_up_a_class_without_serving(app, runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "instructor  / demo" in result.output and "student1" in result.output
    with app.app_context():
        course = db.session.scalar(sa.select(Course).filter_by(code="CRM101"))
        assert [u.username for u in course.instructors] == ["instructor"]
        assert sorted(t.student.username for t in course.tenants) == [
            f"student{n}" for n in range(1, 6)
        ]
        for tenant in course.tenants:
            assert tenant.student.check_password("demo")
            with tenancy.tenant_session(tenant) as session:
                assert session.scalar(sa.select(sa.func.count(Account.id))) == 50
        # The Chinese course: Chinese data, students who read Chinese.
        chinese = db.session.scalar(sa.select(Course).filter_by(code="CRM101-ZH"))
        assert chinese.scenario == "telecom-service"
        assert chinese.timezone == "Asia/Shanghai"
        assert [u.username for u in chinese.instructors] == ["instructor"]
        assert sorted(t.student.username for t in chinese.tenants) == [
            f"xuesheng{n}" for n in range(1, 6)
        ]
        for tenant in chinese.tenants:
            assert tenant.student.preferred_language == "zh"
            with tenancy.tenant_session(tenant) as session:
                names = session.scalars(sa.select(Account.name)).all()
                assert names and all("有限公司" in name for name in names)
        # Both courses have every shipped lesson assigned, in lesson order, so a
        # student of the demo finds the labs waiting.
        lesson_ids = list(load_lessons())
        assert len(lesson_ids) > 10
        for demo_course in (course, chinese):
            assigned = [a.lesson_id for a in assignments(demo_course)]
            assert assigned == lesson_ids, demo_course.code
            shown = assigned_lessons(demo_course.tenants[0])
            assert [p.lesson.id for p in shown] == lesson_ids
    assert "xuesheng1" in result.output
    again = runner.invoke(args=["demo", "--no-serve"])  # idempotent
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Tenant.id))) == 10
        total = db.session.scalar(sa.select(sa.func.count(LessonAssignment.id)))
        assert total == 2 * len(lesson_ids)


def test_demo_refuses_a_login_of_another_role_and_names_changed_passwords(app, runner):
    from tests.helpers import make_user

    with app.app_context():
        make_user("instructor", Role.STUDENT)
    refused = runner.invoke(args=["demo", "--no-serve"])
    assert refused.exit_code == 1
    assert "instructor is a student here" in refused.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0
        db.session.delete(get_user("instructor"))
        db.session.commit()
        make_user("student2", Role.STUDENT)  # the test password, not "demo"
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "(but student2: password changed" in result.output


def test_user_create_and_password(app, runner):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "Wang.Fang",
            "--role",
            "instructor",
            "--password",
            "long-enough",
            "--language",
            "zh",
        ]
    )
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(
        args=["user", "create", "wang.fang", "--password", "long-enough"]
    )
    assert duplicate.exit_code != 0 and "taken" in duplicate.output
    weak = runner.invoke(args=["user", "create", "li", "--password", "short"])
    assert weak.exit_code != 0 and "at least 8" in weak.output
    changed = runner.invoke(
        args=["user", "password", "wang.fang", "--password", "another-long-one"]
    )
    assert changed.exit_code == 0, changed.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username="wang.fang"))
        assert user.role is Role.INSTRUCTOR and user.preferred_language == "zh"
        assert user.check_password("another-long-one")
    missing = runner.invoke(
        args=["user", "password", "ghost", "--password", "whatever1"]
    )
    assert missing.exit_code != 0 and "no user named" in missing.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--display-name", "x" * 121], "a name has at most 120 characters"),
        (["--email", "not-an-email"], "is not an email address"),
        (["--email", "a@" + "b" * 260 + ".cn"], "is not an email address"),
        (["--password", " " * 10], "a password cannot be only spaces"),
    ],
)
def test_user_create_refuses_what_the_user_table_cannot_keep(
    app, runner, extra, message
):
    args = ["user", "create", "newcomer", "--role", "student"]
    if "--password" not in extra:
        extra = [*extra, "--password", "long enough 1"]
    result = runner.invoke(args=[*args, *extra])
    assert result.exit_code == 1 and message in result.output, result.output
    with app.app_context():
        assert get_user("newcomer") is None


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_scenario_days_out_of_range_are_refused_clearly(runner, day):
    result = runner.invoke(args=["scenario", "preview", "b2b-software", "--today", day])
    assert result.exit_code == 2
    assert "choose a day from 1900-01-01 to 9000-12-31" in result.output


def test_look_alike_usernames_are_one_user(app, runner):
    created = runner.invoke(
        args=[
            "user",
            "create",
            "bob",
            "--role",
            "student",
            "--password",
            "long enough 1",
        ]
    )
    assert created.exit_code == 0, created.output
    for look_alike in ("ｂｏｂ", "BOB", " Bob "):
        again = runner.invoke(
            args=[
                "user",
                "create",
                look_alike,
                "--role",
                "student",
                "--password",
                "x" * 10,
            ]
        )
        assert again.exit_code == 1 and "is taken" in again.output, look_alike
    with app.app_context():
        assert get_user("ｂｏｂ").username == "bob"


def test_tenant_reset_one_student_or_the_course(app, runner, classroom):
    def add_work(index):
        classroom.in_tenant(app, lambda s: make_account(s, name="Homework Inc"), index)

    def has_work(index):
        return (
            classroom.in_tenant(
                app,
                lambda s: s.scalar(sa.select(Account).filter_by(name="Homework Inc")),
                index,
            )
            is not None
        )

    add_work(0)
    add_work(1)
    result = runner.invoke(
        args=["tenant", "reset", "--course", "CRM101", "--student", "alice"]
    )
    assert result.exit_code == 0, result.output
    assert (has_work(0), has_work(1)) == (False, True)
    result = runner.invoke(args=["tenant", "reset", "--course", "CRM101"])
    assert result.exit_code == 0 and "Reset 2" in result.output
    assert not has_work(1)
    bad = runner.invoke(args=["tenant", "reset", "--course", "NOPE"])
    assert bad.exit_code != 0 and "no course" in bad.output


def test_there_is_no_run_command_with_the_werkzeug_debugger(tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("FLASK_DEBUG", "0")  # --debug sets it; undone after the test

    from sandbox.cli import main

    for args in (["run", "--debug"], ["run"]):
        result = CliRunner().invoke(main, ["--instance", str(tmp_path), *args])
        assert result.exit_code != 0, args
        assert "No such command 'run'" in result.output, result.output
    listed = CliRunner().invoke(main, ["--instance", str(tmp_path), "--help"])
    assert " serve " in listed.output and " run " not in listed.output


def test_flasks_project_options_are_not_offered(tmp_path):
    """--app, --env-file and --debug are for Flask projects in general: here they
    did nothing (or failed asking for python-dotenv) while --help listed them."""
    from click.testing import CliRunner

    from sandbox.cli import main

    listed = CliRunner().invoke(main, ["--instance", str(tmp_path), "--help"])
    assert "--instance" in listed.output
    for option in ("--app", "--env-file", "--debug"):
        assert option not in listed.output
        result = CliRunner().invoke(main, [option, "x", "init"])
        assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["user", "logout", "admin"],
        ["user", "password", "admin", "--password", "long enough 1"],
        ["tenant", "reset", "--course", "CRM101"],
        ["backup"],
        ["grade", "CRM101"],
    ],
)
def test_commands_before_init_say_to_run_init(tmp_path, args):
    from click.testing import CliRunner

    from sandbox.cli import main

    result = CliRunner().invoke(main, ["--instance", str(tmp_path / "new"), *args])
    assert result.exit_code == 1, result.output
    assert "run `crm-sandbox init`" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("args", [["--help"], ["user", "--help"], ["nope"]])
def test_help_and_typos_create_no_instance_folder(tmp_path, args):
    """Reading the help, or mistyping a command, leaves the disk as it was."""
    from click.testing import CliRunner

    from sandbox.cli import main

    folder = tmp_path / "not-yet"
    result = CliRunner().invoke(main, ["--instance", str(folder), *args])
    assert result.exit_code == (2 if args == ["nope"] else 0), result.output
    assert not folder.exists()
