"""Every POST needs a CSRF token (these tests run with CSRF protection on)."""

import re

import pytest

from tests.conftest import close_app, make_app
from tests.helpers import PASSWORD


@pytest.fixture
def csrf_app(tmp_path):
    from sandbox.models.control import Role
    from tests.helpers import make_course, make_student, make_user

    app = make_app(tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        teacher = make_user("teacher", Role.INSTRUCTOR)
        make_student(make_course(instructors=[teacher]), "alice")
    yield app
    close_app(app)


def csrf_token(client, url: str) -> str:
    page = client.get(url).data
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1).decode()


def logged_in_client(app, username="alice"):
    """A client logged in through the real form, token and all."""
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    client.post(
        "/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
    )
    return client


def test_login_without_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    response = client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert b"Reload the page" in response.data
    assert client.get("/").status_code == 302  # still logged out


def test_login_with_token_works(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.location == "/"


def test_crm_posts_without_token_are_refused_and_change_nothing(csrf_app):
    client = logged_in_client(csrf_app)
    for url, data in (
        ("/crm/accounts/new", {"name": "No Token Ltd", "account_type": "customer"}),
        ("/crm/accounts/1/delete", {}),
        ("/language", {"language": "zh"}),
        ("/auth/logout", {}),
    ):
        assert client.post(url, data=data).status_code == 400, url
    assert b"No Token Ltd" not in client.get("/crm/accounts/?q=No+Token").data
    assert client.get("/crm/accounts/1").status_code == 200  # not deleted, still in


def test_every_form_page_carries_a_token(csrf_app):
    client = logged_in_client(csrf_app)
    for url in (
        "/crm/accounts/new",
        "/crm/accounts/1/edit",
        "/crm/accounts/1/delete",
        "/crm/contacts/new",
        "/auth/profile",
        "/auth/password",
        "/",
    ):
        assert csrf_token(client, url)


def test_instructor_posts_without_token_are_refused(csrf_app):
    client = logged_in_client(csrf_app, "teacher")
    for url in (
        "/instructor/courses/1/tenants/1/view",
        "/instructor/stop-viewing",
        "/instructor/courses/1/reset",
    ):
        assert client.post(url).status_code == 400, url
    with client.session_transaction() as session:
        assert "viewing_tenant_id" not in session
