"""A student only ever reaches their own CRM; instructors only look."""

from __future__ import annotations

import sqlalchemy as sa

from sandbox import tenancy
from sandbox.models.crm import Account
from tests.helpers import make_account, view_as_instructor


def account_names(app, tenant_getter):
    with app.app_context():
        with tenancy.tenant_session(tenant_getter()) as session:
            return {a.id: a.name for a in session.scalars(sa.select(Account))}


def test_student_cannot_read_or_change_another_students_account(
    app, client, auth, classroom
):
    with app.app_context():
        with tenancy.tenant_session(classroom.tenant(1)) as session:
            bobs = make_account(session, name="Bob Private Holdings").id
    before = account_names(app, lambda: classroom.tenant(1))

    auth.login("alice")
    assert client.get(f"/crm/accounts/{bobs}").status_code == 404
    assert client.get(f"/crm/accounts/{bobs}/edit").status_code == 404
    response = client.post(
        f"/crm/accounts/{bobs}/edit",
        data={"name": "Hijacked", "account_type": "customer"},
    )
    assert response.status_code == 404
    assert client.post(f"/crm/accounts/{bobs}/delete").status_code == 404
    listing = client.get("/crm/accounts/?q=Bob+Private")
    assert b"Bob Private Holdings" not in listing.data

    assert account_names(app, lambda: classroom.tenant(1)) == before


def test_student_sees_their_own_seed_data(app, client, auth, classroom):
    alice = account_names(app, lambda: classroom.tenant(0))
    bob = account_names(app, lambda: classroom.tenant(1))
    assert alice[1] != bob[1]  # different variants of the scenario
    auth.login("alice")
    page = client.get("/crm/accounts/1").get_data(as_text=True)
    assert alice[1] in page and bob[1] not in page


def test_url_parameters_cannot_choose_a_tenant(app, client, auth, classroom):
    auth.login("alice")
    bob_tenant = classroom.tenant_ids[1]
    with client.session_transaction() as session:
        session[tenancy.VIEWING_KEY] = bob_tenant  # a student cannot use staff viewing
    bob = account_names(app, lambda: classroom.tenant(1))
    page = client.get(f"/crm/accounts/1?tenant={bob_tenant}&tenant_id={bob_tenant}")
    assert bob[1] not in page.get_data(as_text=True)


def test_student_gets_403_on_instructor_pages(client, auth, classroom):
    auth.login("alice")
    course = classroom.course_id
    tenant = classroom.tenant_ids[1]
    for url in (
        "/instructor/",
        f"/instructor/courses/{course}",
        f"/instructor/courses/{course}/reset",
        f"/instructor/courses/{course}/tenants/{tenant}/reset",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/instructor/courses/{course}/reset").status_code == 403
    assert (
        client.post(f"/instructor/courses/{course}/tenants/{tenant}/view").status_code
        == 403
    )


def test_anonymous_users_are_sent_to_login(client, classroom):
    for url in ("/", "/crm/accounts/", "/instructor/", "/auth/profile"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.location


def test_instructor_reads_a_students_crm(app, client, auth, classroom):
    view_as_instructor(client, auth, classroom)
    page = client.get("/crm/accounts/1").get_data(as_text=True)
    assert account_names(app, lambda: classroom.tenant(0))[1] in page
    assert "Read-only view" in page
    assert "/crm/accounts/1/edit" not in page


def test_instructor_read_only_view_refuses_posts(app, client, auth, classroom):
    before = account_names(app, lambda: classroom.tenant(0))
    view_as_instructor(client, auth, classroom)
    assert (
        client.post(
            "/crm/accounts/new",
            data={"name": "Teacher Was Here", "account_type": "customer"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/crm/accounts/1/edit", data={"name": "Changed", "account_type": "customer"}
        ).status_code
        == 403
    )
    assert client.post("/crm/accounts/1/delete").status_code == 403
    assert client.post("/crm/contacts/new", data={"last_name": "X"}).status_code == 403
    assert account_names(app, lambda: classroom.tenant(0)) == before


def test_instructor_cannot_view_a_course_they_do_not_teach(
    app, client, auth, classroom
):
    from sandbox.models.control import Role
    from tests.helpers import make_user

    with app.app_context():
        make_user("other", Role.INSTRUCTOR)
    auth.login("other")
    tenant = classroom.tenant_ids[0]
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/tenants/{tenant}/view"
    )
    assert response.status_code == 404
    with client.session_transaction() as session:
        session[tenancy.VIEWING_KEY] = tenant
    assert client.get("/crm/accounts/").status_code == 404  # no workspace of theirs


def test_stop_viewing_returns_to_the_course(client, auth, classroom):
    view_as_instructor(client, auth, classroom)
    response = client.post("/instructor/stop-viewing")
    assert response.location.endswith(f"/instructor/courses/{classroom.course_id}")
    assert client.get("/crm/accounts/").status_code == 404
