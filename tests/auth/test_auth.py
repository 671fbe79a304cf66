"""Logging in and out, password storage, throttling, profile and password changes."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash

from sandbox.extensions import db
from sandbox.models.control import AuditEvent, Role
from tests.conftest import user_named
from tests.helpers import PASSWORD, make_user


def test_login_and_logout(client, auth, classroom):
    response = auth.login("alice")
    assert response.status_code == 302 and response.location == "/"
    assert b"Workbench" in client.get("/").data
    auth.logout()
    assert client.get("/").status_code == 302


def test_usernames_are_case_insensitive(client, auth, classroom):
    assert auth.login("  ALICE ").location == "/"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, auth, classroom):
    wrong = auth.login("alice", "not-the-password").get_data(as_text=True)
    unknown = auth.login("nobody-here", "whatever").get_data(as_text=True)
    assert "Wrong username or password." in wrong
    assert "Wrong username or password." in unknown
    assert client.get("/").status_code == 302


def test_a_deactivated_account_is_named_only_to_its_password(
    app, client, auth, classroom
):
    """With the right password a deactivated student learns why they cannot log
    in (not "Wrong username or password", which sent them to reset it); with a
    wrong one the answer stays the same as for anyone."""
    with app.app_context():
        user_named("alice").active = False
        db.session.commit()
    right = auth.login("alice").get_data(as_text=True)
    assert "This account is deactivated" in right
    assert "Wrong username or password." not in right
    assert client.get("/").status_code == 302  # still not logged in
    wrong = auth.login("alice", "not-the-password").get_data(as_text=True)
    assert "Wrong username or password." in wrong and "deactivated" not in wrong


def test_passwords_are_stored_hashed(app, classroom):
    with app.app_context():
        user = user_named("alice")
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("pbkdf2:", "scrypt:"))
        assert user.check_password(PASSWORD) and not user.check_password("nope")


def test_production_default_hash_is_scrypt(tmp_path):
    from sandbox.config import defaults

    assert defaults(tmp_path)["PASSWORD_HASH_METHOD"] == "scrypt"


def test_throttling_engages_after_repeated_failures(app, client, auth, classroom):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert "Wrong username" in auth.login("alice", "bad").get_data(as_text=True)
    page = auth.login("alice").get_data(as_text=True)  # even the right password
    assert "Too many failed attempts" in page
    assert client.get("/").status_code == 302
    with app.app_context():
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.target == "alice")
            )
        )
    assert actions.count("login.failed") == limit and "login.throttled" in actions


def test_throttling_does_not_reveal_whether_a_user_exists(app, auth, classroom):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for name in ("alice", "ghost"):
        for _ in range(limit):
            auth.login(name, "bad")
    real = auth.login("alice", "bad").get_data(as_text=True)
    ghost = auth.login("ghost", "bad").get_data(as_text=True)
    assert "Too many failed attempts" in real and "Too many failed attempts" in ghost


def test_throttling_is_per_username(app, client, auth, classroom):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login("alice", "bad")
    assert auth.login("bob").location == "/"


def test_login_follows_only_local_next_urls(client, classroom):
    for target, expected in (
        ("/crm/accounts/", "/crm/accounts/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),  # browsers read /\ as //
    ):
        response = client.post(
            "/auth/login",
            query_string={"next": target},
            data={"username": "alice", "password": PASSWORD},
        )
        assert response.location == expected
        client.post("/auth/logout")


def test_session_cookie_is_httponly_and_samesite_lax(client, classroom):
    response = client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORD}
    )
    cookie = next(
        v
        for k, v in response.headers.items()
        if k == "Set-Cookie" and v.startswith("session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_change_password(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/auth/password",
        data={
            "current_password": "wrong",
            "new_password": "brand-new-pass",
            "confirm": "brand-new-pass",
        },
    )
    assert "The current password is not correct." in response.get_data(as_text=True)
    response = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm": "short",
        },
    )
    assert "between 8 and 200 characters" in response.get_data(as_text=True)
    response = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand-new-pass",
            "confirm": "different-pass",
        },
    )
    assert "The passwords do not match." in response.get_data(as_text=True)
    response = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand-new-pass",
            "confirm": "brand-new-pass",
        },
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login("alice").location is None  # the old password no longer works
    assert auth.login("alice", "brand-new-pass").location == "/"


def test_profile_saves_name_email_and_language(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/auth/profile",
        data={
            "display_name": "Alice Wang",
            "email": "not-an-email",
            "preferred_language": "zh",
        },
    )
    assert "Invalid email address" in response.get_data(as_text=True)
    response = client.post(
        "/auth/profile",
        data={
            "display_name": "Alice Wang",
            "email": "alice@example.edu",
            "preferred_language": "zh",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = user_named("alice")
        assert (user.display_name, user.email, user.preferred_language) == (
            "Alice Wang",
            "alice@example.edu",
            "zh",
        )


def test_instructor_home_goes_to_courses(client, auth, classroom):
    auth.login("teacher")
    assert client.get("/").location == "/instructor/"
    page = client.get("/instructor/").get_data(as_text=True)
    assert "CRM 101" in page


def test_admin_sees_every_course(app, client, auth, classroom):
    with app.app_context():
        make_user("root", Role.ADMIN)
    auth.login("root")
    assert "CRM 101" in client.get("/instructor/").get_data(as_text=True)


def test_a_class_lists_passwords_are_hashed_side_by_side_and_in_order(app):
    from sandbox.auth.service import hash_passwords

    passwords = [f"class-password-{n}" for n in range(5)] + ["class-password-0"]
    with app.app_context():
        hashes = hash_passwords(passwords)
        method = app.config["PASSWORD_HASH_METHOD"]
    assert len(hashes) == len(passwords)
    for password, hashed in zip(passwords, hashes, strict=True):
        assert hashed.startswith(method.split(":")[0])
        assert check_password_hash(hashed, password)
        assert not check_password_hash(hashed, password + "x")
    # The same password twice: each hash has its own salt.
    assert hashes[0] != hashes[-1]
