"""Builders for test data: each returns the object it made."""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from sandbox.auth.service import create_user
from sandbox.extensions import db
from sandbox.instructor.service import create_course, enroll
from sandbox.models.control import Course, Role, Tenant, User
from sandbox.models.crm import Account, Contact
from sandbox.models.crm.base import tenant_metadata

PASSWORD = "correct-horse"


@functools.cache
def _tenant_schema() -> sqlite3.Connection:
    """An empty tenant database in memory, created once per test process."""
    schema = sqlite3.connect(":memory:", check_same_thread=False)
    engine = sa.create_engine("sqlite://", creator=lambda: schema, poolclass=StaticPool)
    tenant_metadata().create_all(engine)
    return schema


def memory_tenant_engine() -> sa.Engine:
    """An engine on a new, empty tenant database in memory.

    Each is a copy of :func:`_tenant_schema` (SQLite's backup of a few hundred
    kilobytes), not a new ``create_all``: compiling the tenant schema's DDL took
    most of a service-level test's time.
    """

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        _tenant_schema().backup(connection)
        return connection

    return sa.create_engine("sqlite://", creator=connect, poolclass=StaticPool)


def make_user(username: str, role: Role = Role.STUDENT, **overrides: Any) -> User:
    user = create_user(username, overrides.pop("password", PASSWORD), role, **overrides)
    db.session.commit()
    return user


def make_course(
    code: str = "CRM101",
    name: str = "CRM 101",
    *,
    instructors: list[User] | None = None,
    scenario: str = "default",
) -> Course:
    course = create_course(name, code, scenario=scenario, instructors=instructors or [])
    db.session.commit()
    return course


def make_student(course: Course, username: str) -> tuple[User, Tenant]:
    """A student enrolled in ``course`` with a provisioned tenant."""
    user = make_user(username, Role.STUDENT)
    tenant = enroll(course, user)
    db.session.commit()
    return user, tenant


def make_account(session: Session, **overrides: Any) -> Account:
    values = {"name": "Acme Trading Ltd", "account_type": "prospect", **overrides}
    account = Account(**values)
    session.add(account)
    session.commit()
    return account


def make_contact(session: Session, **overrides: Any) -> Contact:
    values = {"first_name": "Lin", "last_name": "Wei", **overrides}
    contact = Contact(**values)
    session.add(contact)
    session.commit()
    return contact


def clear(session: Session, *tables: str) -> None:
    """Empty ``tables`` of the scenario's rows, and every row that points at them
    (a cleared product takes its line items), for tests that start from nothing.

    Straight SQL: the ORM refuses bulk deletes that would skip the audit log.
    """
    connection = session.connection()
    existing = [
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    ]
    children: dict[str, set[str]] = {}
    for table in existing:
        for row in connection.exec_driver_sql(f"PRAGMA foreign_key_list('{table}')"):
            children.setdefault(row[2], set()).add(table)
    order: list[str] = []

    def visit(table: str, path: tuple[str, ...]) -> None:
        if table in order or table in path:
            return
        for child in sorted(children.get(table, ())):
            visit(child, (*path, table))
        order.append(table)

    for table in tables:
        if table in existing:
            visit(table, ())
    for table in order:  # children before the tables they point at
        connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608
    session.commit()


def starts_without(*tables: str):
    """An autouse fixture for a test module: both students' tenants start with
    ``tables`` emptied (see :func:`clear`), for tests that count from nothing."""

    @pytest.fixture(autouse=True)
    def emptied(request):
        if "classroom" not in request.fixturenames:
            return
        app = request.getfixturevalue("app")
        classroom = request.getfixturevalue("classroom")
        for index in range(len(classroom.tenant_ids)):
            classroom.in_tenant(app, lambda s: clear(s, *tables), index)

    return emptied


def clear_deals(session: Session) -> None:
    """Empty the scenario's deals, for tests that need stages or products unused."""
    clear(session, "opportunity")


def view_as_instructor(client, auth, classroom, index: int = 0) -> None:
    """Log in as the classroom's instructor and open student ``index``'s CRM
    read-only."""
    auth.login(classroom.instructor)
    tenant = classroom.tenant_ids[index]
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/tenants/{tenant}/view"
    )
    assert response.status_code == 302
