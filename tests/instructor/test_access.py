"""Students never reach staff pages; instructors reach only their own courses."""

from __future__ import annotations

import re

import pytest

from sandbox.auth.service import get_user
from sandbox.extensions import db
from sandbox.models.control import Role, Tenant
from tests.conftest import close_app, make_app
from tests.helpers import PASSWORD, make_course, make_student, make_user

#: Course-scoped pages, with {c} the course, {t} a tenant and {s} a student.
COURSE_URLS = [
    ("GET", "/instructor/courses/{c}"),
    ("GET", "/instructor/courses/{c}/edit"),
    ("POST", "/instructor/courses/{c}/edit"),
    ("POST", "/instructor/courses/{c}/archive"),
    ("POST", "/instructor/courses/{c}/restore"),
    ("POST", "/instructor/courses/{c}/provision"),
    ("GET", "/instructor/courses/{c}/roster/import"),
    ("POST", "/instructor/courses/{c}/roster/initial-passwords.csv"),
    ("GET", "/instructor/courses/{c}/students/new"),
    ("GET", "/instructor/courses/{c}/students/{s}/remove"),
    ("POST", "/instructor/courses/{c}/students/{s}/remove"),
    ("GET", "/instructor/courses/{c}/tenants/{t}/reset"),
    ("POST", "/instructor/courses/{c}/tenants/{t}/reset"),
    ("GET", "/instructor/courses/{c}/reset"),
    ("POST", "/instructor/courses/{c}/reset"),
    ("POST", "/instructor/courses/{c}/tenants/{t}/view"),
    ("GET", "/instructor/courses/{c}/lessons"),
    ("POST", "/instructor/courses/{c}/lessons"),
    ("POST", "/instructor/courses/{c}/lessons/1/unassign"),
    ("GET", "/instructor/courses/{c}/progress"),
    ("POST", "/instructor/courses/{c}/grade"),
    ("GET", "/instructor/courses/{c}/tenants/{t}/results/accounts-basics/first"),
    ("GET", "/instructor/courses/{c}/gradebook.csv"),
    ("GET", "/instructor/courses/{c}/gradebook-steps.csv"),
]
ADMIN_URLS = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{s}/edit"),
    ("POST", "/admin/users/{s}/deactivate"),
    ("POST", "/admin/users/{s}/activate"),
    ("POST", "/admin/users/{s}/password"),
]


def fill(url, classroom, app):
    with app.app_context():
        tenant = db.session.get(Tenant, classroom.tenant_ids[1])
        return url.format(c=classroom.course_id, t=tenant.id, s=tenant.student_id)


def request(client, method, url):
    return client.get(url) if method == "GET" else client.post(url)


@pytest.mark.parametrize(("method", "url"), COURSE_URLS + ADMIN_URLS)
def test_a_student_gets_403_on_staff_pages(app, client, auth, classroom, method, url):
    auth.login("alice")
    assert request(client, method, fill(url, classroom, app)).status_code == 403
    with app.app_context():
        assert db.session.get(Tenant, classroom.tenant_ids[1]).reset_count == 0


@pytest.mark.parametrize(("method", "url"), COURSE_URLS)
def test_another_instructors_course_is_404(app, client, auth, classroom, method, url):
    with app.app_context():
        make_user("stranger", Role.INSTRUCTOR)
    auth.login("stranger")
    assert request(client, method, fill(url, classroom, app)).status_code == 404
    with app.app_context():
        tenant = db.session.get(Tenant, classroom.tenant_ids[1])
        assert tenant.reset_count == 0 and tenant.course.archived_at is None
    assert "CRM 101" not in client.get("/instructor/").get_data(as_text=True)


@pytest.mark.parametrize(("method", "url"), ADMIN_URLS)
def test_an_instructor_gets_403_on_admin_pages(
    app, client, auth, classroom, method, url
):
    auth.login("teacher")
    assert request(client, method, fill(url, classroom, app)).status_code == 403


def test_a_tenant_of_another_course_is_404_even_for_its_instructor(
    app, client, auth, classroom
):
    with app.app_context():
        teacher = get_user("teacher")
        other = make_course("OTHER", "Other", instructors=[teacher])
        _, carol_tenant = make_student(other, "carol")
        carol_id = carol_tenant.id
    auth.login("teacher")
    base = f"/instructor/courses/{classroom.course_id}"
    assert client.post(f"{base}/tenants/{carol_id}/reset").status_code == 404
    assert client.post(f"{base}/tenants/{carol_id}/view").status_code == 404


@pytest.fixture
def csrf_app(tmp_path):
    app = make_app(tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        teacher = make_user("teacher", Role.INSTRUCTOR)
        make_user("root", Role.ADMIN)
        course = make_course(instructors=[teacher])
        student, tenant = make_student(course, "alice")
        ids = {"c": course.id, "t": tenant.id, "s": student.id}
    yield app, ids
    close_app(app)


def logged_in(app, username):
    client = app.test_client()
    page = client.get("/auth/login").data
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        "/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
    )
    return client


def test_every_post_needs_a_csrf_token(csrf_app):
    app, ids = csrf_app
    teacher, root = logged_in(app, "teacher"), logged_in(app, "root")
    posts = [u for m, u in COURSE_URLS if m == "POST"]
    for url in [*posts, "/instructor/courses/new"]:
        response = teacher.post(url.format(**ids), data={"name": "x"})
        assert response.status_code == 400, url
    for url in [u for m, u in ADMIN_URLS if m == "POST"]:
        response = root.post(url.format(**ids), data={"username": "x"})
        assert response.status_code == 400, url
    with app.app_context():
        assert db.session.get(Tenant, ids["t"]).reset_count == 0
        assert get_user("alice").active
