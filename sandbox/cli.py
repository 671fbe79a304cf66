"""The ``crm-sandbox`` command: set up, run, back up and look after an instance."""

from __future__ import annotations

import functools
import os
import secrets
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext

from sandbox.auth.service import (
    UserError,
    create_user,
    get_user,
    set_password,
    still_have_password,
)
from sandbox.extensions import db
from sandbox.models.control import Course, Role, Tenant, User
from sandbox.scenarios.cli import scenario_group

DEMO_PASSWORD = "demo"  # noqa: S105 - the demo's logins are meant to be known
#: The demo's courses: (name, code, scenario, student username prefix, language the
#: students read; None follows the browser).
DEMO_COURSES = (
    ("CRM 101", "CRM101", "b2b-software", "student", None),
    ("客户关系管理实训", "CRM101-ZH", "telecom-service", "xuesheng", "zh"),
)
DEMO_STUDENTS = 5


def _set_instance(
    ctx: click.Context, _param: click.Parameter, value: str | None
) -> None:
    if value:
        os.environ["SANDBOX_INSTANCE"] = str(Path(value).resolve())


def _create_app():
    from sandbox import create_app
    from sandbox.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


class SandboxGroup(FlaskGroup):
    """Flask's command group without its options for Flask projects in general
    (``--app``, ``--env-file``, ``--debug``): this command serves one app, reads
    no ``.env`` file and never runs the debugger.

    Its commands are known without building the app, so ``--help`` (of the group
    or of a command) never creates an instance folder; a command builds the app
    when it runs.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        flask_only = {"app", "env_file", "debug"}
        self.params = [p for p in self.params if p.name not in flask_only]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(command.name for command in sandbox_commands())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return next((c for c in sandbox_commands() if c.name == name), None)


def _has_instance() -> bool:
    """Whether the app's folder holds an instance (its control tables)."""
    return sa.inspect(db.engine).has_table(User.__tablename__)


def needs_instance(command):
    """Refuse, with what to do instead of a traceback, to run ``command`` on a
    folder that holds no instance yet."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        if not _has_instance():
            raise click.ClickException(
                f"no CRM Sandbox instance in {current_app.instance_path}: run "
                "`crm-sandbox init` (or `crm-sandbox demo`) first, or name the "
                "instance with --instance"
            )
        return command(*args, **kwargs)

    return checked


# No default commands: Flask's `run` serves with the Werkzeug debugger under --debug,
# which lets anyone who reaches the port run code. `serve` is the way to serve.
@click.group(
    cls=SandboxGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
@click.option(
    "--instance",
    metavar="DIR",
    callback=_set_instance,
    expose_value=False,
    is_eager=True,
    help="Instance folder (default: $SANDBOX_INSTANCE or ./instance).",
)
def main() -> None:
    """CRM Sandbox: a classroom CRM lab."""


def sandbox_commands() -> tuple[click.Command, ...]:
    """Every ``crm-sandbox`` command."""
    from sandbox.labs.cli import grade_command, lesson_group

    return (
        init_command,
        demo_command,
        serve_command,
        user_group,
        tenant_group,
        backup_command,
        restore_command,
        shell_command,
        routes_command,
        scenario_group,
        lesson_group,
        grade_command,
    )


def register_commands(app) -> None:
    """The commands on ``app.cli`` too, for ``app.test_cli_runner()``."""
    for command in sandbox_commands():
        app.cli.add_command(command)


# ---------------------------------------------------------------------------- setup


def initialise() -> str | None:
    """Create the control database and an admin; returns a new admin's password."""
    Path(current_app.instance_path, "tenants").mkdir(parents=True, exist_ok=True)
    db.create_all(bind_key=None)
    if db.session.scalar(sa.select(User).where(User.role == Role.ADMIN)) is not None:
        return None
    password = secrets.token_urlsafe(12)
    create_user("admin", password, Role.ADMIN, display_name="Administrator")
    db.session.commit()
    return password


def _print_admin(password: str | None) -> None:
    if password:
        click.echo(f"  admin       / {password}   (shown once: keep it safe)")
    else:
        click.echo(
            "  admin       (password set earlier; change it with "
            "`crm-sandbox user password admin`)"
        )


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the instance folder, the control database and an admin account."""
    password = initialise()
    click.echo(f"Instance folder: {current_app.instance_path}")
    _print_admin(password)


def _demo_user(
    username: str, role: Role, display_name: str, language: str | None = None
) -> User:
    user = get_user(username)
    if user is None:
        user = create_user(
            username,
            DEMO_PASSWORD,
            role,
            display_name=display_name,
            language=language,
            allow_weak_password=True,
        )
    return user


def demo_usernames() -> dict[str, Role]:
    """Every login the demo makes, with its role."""
    names = {"instructor": Role.INSTRUCTOR}
    for *_course, prefix, _language in DEMO_COURSES:
        for n in range(1, DEMO_STUDENTS + 1):
            names[f"{prefix}{n}"] = Role.STUDENT
    return names


def _check_demo_users() -> None:
    """Refuse, before anything is made, an instance where a demo login already
    belongs to a user of another role."""
    for username, role in demo_usernames().items():
        user = get_user(username)
        if user is not None and user.role is not role:
            raise click.ClickException(
                f"{username} is a {user.role.value} here, and the demo needs "
                f"{username} as its {role.value}: run the demo in an instance of "
                "its own (--instance DIR)"
            )


def build_demo() -> tuple[str | None, list[Course]]:
    """The demo: an instructor and two courses, one on an English scenario and one
    on a Chinese one, each with students whose tenants are provisioned and every
    lesson that fits its scenario assigned (in lesson order, no due date)."""
    from sandbox.instructor.gradebook import assign_lesson
    from sandbox.instructor.service import create_course, enroll
    from sandbox.labs.service import available_lessons

    if _has_instance():
        _check_demo_users()
    admin_password = initialise()
    instructor = _demo_user("instructor", Role.INSTRUCTOR, "Demo Instructor")
    courses = []
    for name, code, scenario, prefix, language in DEMO_COURSES:
        label = "学生" if language == "zh" else "Student"
        students = [
            _demo_user(f"{prefix}{n}", Role.STUDENT, f"{label} {n}", language)
            for n in range(1, DEMO_STUDENTS + 1)
        ]
        course = db.session.scalar(sa.select(Course).where(Course.code == code))
        if course is None:
            course = create_course(
                name, code, scenario=scenario, instructors=[instructor]
            )
            for lesson in available_lessons().values():
                if lesson.fits(course.scenario):
                    assign_lesson(course, lesson.id, None, actor=instructor)
        with click.progressbar(students, label=f"Provisioning {code}") as bar:
            for student in bar:
                enroll(course, student)
        db.session.commit()
        courses.append(course)
    return admin_password, courses


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=None, type=int, help="Server threads.")
@click.option("--no-serve", is_flag=True, help="Set up the demo without serving it.")
@with_appcontext
def demo_command(host: str, port: int, threads: int | None, no_serve: bool) -> None:
    """Set up a demo: an instructor and an English and a Chinese course with five
    students each, then serve it."""
    # Logins the demo makes now have its password; earlier ones may not any more.
    earlier = [get_user(name) for name in demo_usernames()] if _has_instance() else []
    earlier = [user for user in earlier if user is not None]
    admin_password, courses = build_demo()
    click.echo(f"\nInstance folder: {current_app.instance_path}")
    for course, (*_name, scenario, prefix, _language) in zip(
        courses, DEMO_COURSES, strict=True
    ):
        click.echo(
            f"Demo course: {course.name} ({course.code}), scenario {scenario}: "
            f"{prefix}1 … {prefix}{DEMO_STUDENTS}"
        )
    click.echo("Logins:")
    _print_admin(admin_password)
    click.echo(f"  instructor  / {DEMO_PASSWORD}")
    for *_rest, prefix, _language in DEMO_COURSES:
        click.echo(f"  {prefix}1 … {prefix}{DEMO_STUDENTS} / {DEMO_PASSWORD}")
    kept = still_have_password(earlier, DEMO_PASSWORD)
    changed = [
        user.username for user, same in zip(earlier, kept, strict=True) if not same
    ]
    if changed:
        click.echo(
            f"  (but {', '.join(changed)}: password changed since the demo made "
            "them; it is left as it is)"
        )
    if not no_serve:
        _serve(host, port, threads)


def _serve(host: str, port: int, threads: int | None) -> None:
    from sandbox import locks
    from sandbox.backup import SERVING_LOCK
    from sandbox.serving import make_server

    app = current_app._get_current_object()
    # Held while serving (the OS drops it if the process dies), so a restore knows
    # a server has the instance's files open and refuses to swap them.
    release = locks.try_hold(Path(app.instance_path, SERVING_LOCK), shared=True)
    if release is None:
        raise click.ClickException("a restore of this instance is under way")
    # Tables added since the instance was created (login sessions, say) are made;
    # existing ones are left as they are.
    db.create_all(bind_key=None)
    threads = threads or int(app.config["SERVER_THREADS"])
    # The socket is bound before the address is printed, so whoever reads it can
    # connect at once (and --port 0 prints the port actually chosen).
    server = make_server(
        app,
        host,
        port,
        threads,
        open_tenants=app.config["TENANT_ENGINE_CACHE_SIZE"],
    )
    click.echo(
        f"\nCRM Sandbox is running at http://{host}:{server.effective_port}/"
        "  (Ctrl+C to stop)"
    )
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.close()
        release()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=None, type=int, help="Server threads.")
@with_appcontext
@needs_instance
def serve_command(host: str, port: int, threads: int | None) -> None:
    """Serve the app with waitress."""
    _serve(host, port, threads)


# ---------------------------------------------------------------------------- users


@click.group("user")
def user_group() -> None:
    """Manage user accounts."""


@user_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default="student",
    show_default=True,
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default="")
@click.option("--email", default=None)
@click.option(
    "--language",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Interface language (default: follow the browser).",
)
@with_appcontext
@needs_instance
def user_create(username, role, password, display_name, email, language) -> None:
    """Create a user."""
    try:
        user = create_user(
            username,
            password,
            Role(role),
            display_name=display_name,
            email=email,
            language=language,
        )
    except UserError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.username}.")


@user_group.command("password")
@click.argument("username")
@click.option(
    "--password", prompt="New password", hide_input=True, confirmation_prompt=True
)
@with_appcontext
@needs_instance
def user_password(username, password) -> None:
    """Set a user's password."""
    from sandbox.auth.service import validate_password

    user = get_user(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    try:
        validate_password(password)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    set_password(user, password)
    db.session.commit()
    click.echo(f"Password of {user.username} changed.")


@user_group.command("logout")
@click.argument("username")
@with_appcontext
@needs_instance
def user_logout(username) -> None:
    """End every session of a user (log them out everywhere)."""
    from sandbox.auth.service import end_all_sessions

    user = get_user(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    ended = end_all_sessions(user)
    db.session.commit()
    click.echo(f"Ended {ended} session(s) of {user.username}.")


# -------------------------------------------------------------------------- tenants


@click.group("tenant")
def tenant_group() -> None:
    """Manage student CRM databases."""


@tenant_group.command("reset")
@click.option("--course", "course_code", required=True, help="Course code.")
@click.option("--student", "username", default=None, help="Only this student.")
@with_appcontext
@needs_instance
def tenant_reset(course_code: str, username: str | None) -> None:
    """Reset a student's CRM (or the whole course's) to the scenario's start."""
    from sandbox import tenancy

    course = db.session.scalar(sa.select(Course).where(Course.code == course_code))
    if course is None:
        raise click.ClickException(f"no course with code {course_code!r}")
    tenants = sorted(course.tenants, key=lambda t: t.student.username)
    if username:
        tenants = [t for t in tenants if t.student.username == username.lower()]
        if not tenants:
            raise click.ClickException(f"{username!r} has no CRM in {course_code}")
    with click.progressbar(tenants, label="Resetting") as bar:
        for tenant in bar:
            tenancy.reset_tenant(tenant)
    db.session.commit()
    click.echo(f"Reset {len(tenants)} CRM(s) in {course.code}.")


# --------------------------------------------------------------------------- backup


@click.command("backup")
@click.argument(
    "output", required=False, type=click.Path(dir_okay=False, path_type=Path)
)
@with_appcontext
@needs_instance
def backup_command(output: Path | None) -> None:
    """Back up the whole instance (control database and every tenant) to one archive."""
    from sandbox.backup import BACKUP_FOLDER, BackupError, create_backup

    if output is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        output = Path(current_app.instance_path, BACKUP_FOLDER, f"sandbox-{stamp}.zip")
    tenants = db.session.scalar(sa.select(sa.func.count(Tenant.id))) or 0
    try:
        with click.progressbar(length=tenants + 1, label="Backing up") as bar:
            manifest = create_backup(output, progress=lambda _name: bar.update(1))
    except (BackupError, OSError) as error:
        raise click.ClickException(f"no backup written: {error}") from None
    click.echo(f"Backup written to {output} ({len(manifest['tenants'])} tenants).")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace an instance that already has data."
)
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    """Restore an instance from a backup archive made by `crm-sandbox backup`.

    Stop the server first: a restore refuses to run while one serves the instance.
    """
    from sandbox.backup import BackupError, restore_backup

    try:
        with click.progressbar(length=100, label="Restoring") as bar:
            manifest = restore_backup(
                archive,
                force=force,
                progress=lambda done, total: bar.update(
                    int(100 * done / max(total, 1)) - bar.pos
                ),
            )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {len(manifest['tenants'])} tenants into {current_app.instance_path}."
    )
