"""Builders for test data: each returns the object it made."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sandbox.auth.service import create_user
from sandbox.extensions import db
from sandbox.instructor.service import create_course, enroll
from sandbox.models.control import Course, Role, Tenant, User
from sandbox.models.crm import Account, Contact

PASSWORD = "correct-horse"


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


#: The tables of a tenant's deals, children first.
DEAL_TABLES = (
    "quote",
    "line_item",
    "opportunity_history",
    "opportunity_competitor",
    "opportunity_contact_role",
    "opportunity",
)


def clear_deals(session: Session) -> None:
    """Empty the scenario's deals (straight SQL: the ORM refuses bulk deletes that
    would skip the audit log), for tests that need stages or products unused."""
    connection = session.connection()
    existing = {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    for table in DEAL_TABLES:
        if table in existing:
            connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608
    session.commit()
