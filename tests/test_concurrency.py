"""Twenty students working at once, each in their own CRM."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.instructor.service import enroll
from sandbox.models.control import Course
from sandbox.models.crm import Account, AuditLog
from tests.helpers import PASSWORD, make_user

#: Long-running: scheduled first, so parallel workers share the tail.
pytestmark = pytest.mark.slow

STUDENTS = 20
WRITES = 15


def test_twenty_threads_in_twenty_tenants(app, classroom):
    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        names = [f"s{n:02d}" for n in range(STUDENTS)]
        for name in names:
            enroll(course, make_user(name))
        db.session.commit()

    errors: list[BaseException] = []
    start = threading.Barrier(STUDENTS)

    def work(name: str) -> None:
        try:
            client = app.test_client()
            assert (
                client.post(
                    "/auth/login", data={"username": name, "password": PASSWORD}
                ).status_code
                == 302
            )
            start.wait()
            for i in range(WRITES):
                response = client.post(
                    "/crm/accounts/new",
                    data={"name": f"{name} deal {i}", "account_type": "customer"},
                )
                assert response.status_code == 302, response.status_code
                client.get("/crm/accounts/?q=deal")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors

    with app.app_context():
        course = db.session.get(Course, classroom.course_id)
        for tenant in course.tenants:
            name = tenant.student.username
            with tenancy.tenant_session(tenant) as session:
                mine = session.scalar(
                    sa.select(sa.func.count(Account.id)).where(
                        Account.name.like(f"{name} deal %")
                    )
                )
                others = session.scalar(
                    sa.select(sa.func.count(Account.id)).where(
                        Account.name.like("% deal %"),
                        ~Account.name.like(f"{name} deal %"),
                    )
                )
                audits = session.scalar(sa.select(sa.func.count(AuditLog.id)))
            expected = WRITES if name in names else 0
            assert (mine, others, audits) == (expected, 0, expected), name
