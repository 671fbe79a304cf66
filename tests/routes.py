"""Every route from the URL map, a class to request them in, and the forms they show.

Shared by the fuzzing suite and the isolation test; nothing here names a CRM module,
so routes added later are covered without a change.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa
from werkzeug.routing import Rule

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import Role, Tenant
from sandbox.routing import RecordIdConverter
from tests.conftest import make_app
from tests.helpers import PASSWORD, make_course, make_student, make_user

#: Written into every text column of the records only another student has.
SECRET = "ZZSECRETOFBOB"
SKIPPED_ENDPOINTS = frozenset({"static"})


@dataclass
class World:
    """One course (teacher, alice, bob) and another (stranger teaching carol)."""

    app: object
    instance: Path
    course_ids: tuple[int, int]
    tenant_ids: dict[str, int]
    own_ids: set[int] = field(default_factory=set)
    foreign_ids: set[int] = field(default_factory=set)

    def tenant_file(self, student: str) -> Path:
        with self.app.app_context():
            tenant = db.session.get(Tenant, self.tenant_ids[student])
            return tenancy.tenant_path(tenant.file_path)

    def fingerprint(self, student: str) -> tuple[str, int]:
        """The tenant file's bytes and -wal size: any write shows up here."""
        path = self.tenant_file(student)
        wal = Path(f"{path}-wal")
        return (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            wal.stat().st_size if wal.exists() else 0,
        )

    def client(self, role: str):
        """A test client logged in as ``role`` (teacher: viewing alice's CRM)."""
        client = self.app.test_client()
        if role == "anonymous":
            # Its failed logins slow down its own address, not the class's.
            client.environ_base["REMOTE_ADDR"] = "203.0.113.50"
            return client
        username = {"student": "alice", "teacher": "teacher"}.get(role, role)
        response = client.post(
            "/auth/login", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 302, username
        if role == "teacher":
            view = (
                f"/instructor/courses/{self.course_ids[0]}/tenants/"
                f"{self.tenant_ids['alice']}/view"
            )
            assert client.post(view).status_code == 302
        return client


def build_world(instance: Path, **config) -> World:
    app = make_app(instance, **config)
    with app.app_context():
        teacher = make_user("teacher", Role.INSTRUCTOR)
        stranger = make_user("stranger", Role.INSTRUCTOR)
        # The other course and its student come first, so their ids (1) differ
        # from the ids of this class's course and tenants.
        other = make_course("CRM202", "CRM 202", instructors=[stranger])
        course = make_course("CRM101", instructors=[teacher])
        tenants = {
            name: make_student(crs, name)[1].id
            for name, crs in (("carol", other), ("alice", course), ("bob", course))
        }
        world = World(app, instance, (course.id, other.id), tenants)
        world.own_ids = _max_ids(world.tenant_file("alice"))
        world.foreign_ids = _plant_secret_records(world.tenant_file("bob"))
    return world


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%'"
    )
    return [row[0] for row in rows]


def _max_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as conn:
        found = set()
        for table in _tables(conn):
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            if "id" in columns:
                found.add(conn.execute(f'SELECT max(id) FROM "{table}"').fetchone()[0])
    conn.close()
    return {value for value in found if isinstance(value, int)}


def _plant_secret_records(path: Path) -> set[int]:
    """Copy a row of every tenant table under a new id only this tenant has, with
    every text column set to SECRET; returns the new ids."""
    planted = set()
    with sqlite3.connect(path) as conn:
        for table in _tables(conn):
            info = list(conn.execute(f'PRAGMA table_info("{table}")'))
            names = [row[1] for row in info]
            if "id" not in names:
                continue
            top = conn.execute(f'SELECT max(id) FROM "{table}"').fetchone()[0]
            if top is None:
                continue
            new_id = top + 1000
            others = [n for n in names if n != "id"]
            listed = ", ".join(f'"{n}"' for n in others)
            try:
                conn.execute(
                    f'INSERT INTO "{table}" (id, {listed}) '
                    f'SELECT ?, {listed} FROM "{table}" WHERE id = ?',
                    (new_id, top),
                )
            except sqlite3.DatabaseError:
                continue
            for name, kind in ((row[1], row[2].upper()) for row in info):
                if name != "id" and ("CHAR" in kind or "TEXT" in kind):
                    try:
                        conn.execute(
                            f'UPDATE "{table}" SET "{name}" = ? WHERE id = ?',
                            (SECRET, new_id),
                        )
                    except sqlite3.DatabaseError:
                        pass
            planted.add(new_id)
    conn.close()
    return planted


def rules(app, method: str) -> list[Rule]:
    """Every rule answering ``method``, in a stable order."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if method in rule.methods and rule.endpoint not in SKIPPED_ENDPOINTS
        ),
        key=lambda rule: rule.rule,
    )


def id_arguments(rule: Rule) -> list[str]:
    return [
        name
        for name, converter in rule._converters.items()
        if isinstance(converter, RecordIdConverter)
    ]


def urls(rule: Rule, values: list[int], limit: int = 16) -> list[str]:
    """The rule's URL with every id argument filled from ``values`` (capped)."""
    arguments = id_arguments(rule)
    if set(arguments) != set(rule.arguments):
        return []  # a path or string argument: not a record route (static files)
    combos = itertools.islice(itertools.product(values, repeat=len(arguments)), 4096)
    combos = sorted(set(combos))
    step = max(1, len(combos) // limit)
    built = []
    for combo in combos[::step][:limit]:
        built.append(_build(rule, dict(zip(arguments, combo, strict=True))))
    return built


def _build(rule: Rule, values: dict) -> str:
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<id:{name}>", str(value))
    return path


def candidate_ids(world: World) -> list[int]:
    with world.app.app_context():
        tenant_ids = set(db.session.scalars(sa.select(Tenant.id)))
    return sorted(
        {1, 2, 3}
        | world.own_ids
        | world.foreign_ids
        | set(world.course_ids)
        | tenant_ids
    )


# ------------------------------------------------------------------ forms on pages


@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, select, checkbox, number, email, date, hidden, ...
    options: tuple[str, ...] = ()


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, list[FormField]]] = []
        self._select: FormField | None = None
        self._options: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            self.forms.append((method, attrs.get("action") or "", []))
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind not in ("submit", "button", "image", "reset"):
                self.forms[-1][2].append(FormField(attrs["name"], kind))
        elif tag == "textarea" and attrs.get("name"):
            self.forms[-1][2].append(FormField(attrs["name"], "textarea"))
        elif tag == "select" and attrs.get("name"):
            self._select, self._options = FormField(attrs["name"], "select"), []
        elif tag == "option" and self._select is not None:
            self._options.append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self.forms:
            field_ = FormField(self._select.name, "select", tuple(self._options))
            self.forms[-1][2].append(field_)
            self._select = None


def forms_on(html: str, page_path: str) -> list[tuple[str, list[FormField]]]:
    """The POST forms on a page: (action path, fields)."""
    parser = _FormParser()
    parser.feed(html)
    return [
        ((action or page_path).split("?")[0], fields)
        for method, action, fields in parser.forms
        if method == "POST"
    ]
