"""Shared fixtures: a fresh instance per test, clients and login actions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from werkzeug.routing import Rule

from sandbox import create_app, serving, tenancy
from sandbox.extensions import db
from sandbox.models.control import Role, Tenant, User
from tests.helpers import PASSWORD, make_course, make_student, make_user

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    # A cheap hash keeps the suite fast; the production default is scrypt.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
}


def _compile_url_builders_once() -> None:
    """Werkzeug compiles a Python function for each URL rule of each app it builds;
    most of the time ``create_app`` takes. Tests build an app for every test, with
    the same rules: the run compiles each rule's builder once. The builder depends on
    the rule alone (its instance is passed in when it runs), so sharing it is safe.
    """
    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def shared(self, append_unknown: bool = True):
        key = (
            self.rule,
            self.subdomain,
            self.host,
            tuple(self._trace),
            append_unknown,
            repr(sorted((self.defaults or {}).items())),
            tuple(sorted((name, type(c)) for name, c in self._converters.items())),
        )
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = shared


_compile_url_builders_once()


class _CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept in memory for the whole run.

    Each test builds its own app, whose Jinja environment would compile every
    template it renders again (most of a short test's first request). Jinja keys
    each template by name and checks its source's checksum, so a template whose
    source changed is compiled afresh.
    """

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, object]] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        checksum, code = self._code.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = (bucket.checksum, bucket.code)


COMPILED_TEMPLATES = _CompiledTemplates()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect garbage as the server does (:func:`serving.tune_garbage_collection`).

    Each test builds an app whose objects live through the test, so they reach the
    oldest generation before they die; with Python's defaults the run then spent a
    third of its time in full collections walking everything imported and cached.
    """
    serving.tune_garbage_collection()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with work stealing, the parallel workers then end together
    instead of one waiting for the other's last fuzzing or browser test."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


#: The session's seed-file cache folder, set by the ``seed_cache`` fixture.
_seed_cache_dir: str | None = None


@pytest.fixture(scope="session", autouse=True)
def seed_cache(tmp_path_factory) -> Iterator[str]:
    """One seed-file cache for the whole run, so a tenant is built once per key."""
    global _seed_cache_dir
    _seed_cache_dir = str(tmp_path_factory.mktemp("seed-cache"))
    yield _seed_cache_dir
    _seed_cache_dir = None


def make_app(instance, *, create_schema: bool = True, **overrides):
    """An app on ``instance`` with the test configuration; ``create_schema=False``
    for an instance copied from a template, whose control database has its tables."""
    config = {**TEST_CONFIG, "SEED_CACHE_DIR": _seed_cache_dir}
    app = create_app({**config, "INSTANCE_PATH": str(instance), **overrides})
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    if create_schema:
        with app.app_context():
            db.create_all(bind_key=None)
    return app


def close_app(app) -> None:
    """Release the app's database connections (an unclosed one fails the test)."""
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def app(request, tmp_path):
    """An app on an instance of its own. A test that asks for ``classroom`` gets a
    copy of the classroom's instance, built once for the run."""
    instance = tmp_path / "instance"
    classroom = None
    if "classroom" in request.fixturenames:
        template: ClassroomTemplate = request.getfixturevalue("classroom_template")
        shutil.copytree(template.instance, instance)
        classroom = template.classroom
    app = make_app(instance, create_schema=classroom is None)
    app.config["TEST_CLASSROOM"] = classroom
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass(frozen=True)
class Classroom:
    """A course with one instructor and two students, each with a tenant."""

    course_id: int
    instructor: str
    students: tuple[str, str]
    tenant_ids: tuple[int, int]

    def tenant(self, index: int) -> Tenant:
        return db.session.get(Tenant, self.tenant_ids[index])

    def in_tenant(self, app, fn, index: int = 0):
        """Run ``fn(session)`` on a student's tenant database and return its result."""
        with app.app_context():
            with tenancy.tenant_session(self.tenant(index)) as session:
                return fn(session)


def build_classroom(app) -> Classroom:
    with app.app_context():
        teacher = make_user("teacher", Role.INSTRUCTOR)
        course = make_course(instructors=[teacher])
        _, tenant_a = make_student(course, "alice")
        _, tenant_b = make_student(course, "bob")
        return Classroom(
            course.id, "teacher", ("alice", "bob"), (tenant_a.id, tenant_b.id)
        )


@dataclass(frozen=True)
class ClassroomTemplate:
    instance: Path
    classroom: Classroom


@pytest.fixture(scope="session")
def classroom_template(tmp_path_factory, seed_cache) -> ClassroomTemplate:
    """The classroom's instance folder, built once: its control database and its
    tenant files (ids, paths and seeds are what each copy starts from)."""
    instance = tmp_path_factory.mktemp("classroom-template") / "instance"
    app = make_app(instance)
    classroom = build_classroom(app)
    close_app(app)
    return ClassroomTemplate(instance, classroom)


@pytest.fixture
def classroom(app) -> Classroom:
    """A course with one instructor and two students; copied from the template
    when the test's app came from the ``app`` fixture, else built in ``app``."""
    prebuilt = app.config.get("TEST_CLASSROOM")
    return prebuilt if prebuilt is not None else build_classroom(app)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        return self._client.post(
            "/auth/login", data={"username": username, "password": password}
        )

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


def user_named(username: str) -> User:
    from sandbox.auth.service import get_user

    return get_user(username)
