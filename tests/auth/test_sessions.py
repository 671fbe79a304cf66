"""Sessions end when they should: logout, a password change, log out everywhere."""

from __future__ import annotations

from tests.conftest import user_named
from tests.helpers import PASSWORD

NEW_PASSWORD = "a-new-correct-horse"


def logged_in(app, username: str):
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/auth/profile").status_code == 200
    return client


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def is_logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(app, classroom):
    client = logged_in(app, "alice")
    copied = session_cookie(client)
    client.post("/auth/logout")

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not is_logged_in(thief)


def test_logout_ends_only_that_session(app, classroom):
    laptop, phone = logged_in(app, "alice"), logged_in(app, "alice")
    laptop.post("/auth/logout")
    assert not is_logged_in(laptop)
    assert is_logged_in(phone)


def test_password_change_ends_every_other_session(app, classroom):
    laptop, phone = logged_in(app, "alice"), logged_in(app, "alice")
    bob = logged_in(app, "bob")
    response = laptop.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert is_logged_in(laptop)  # the session that changed it carries on
    assert not is_logged_in(phone)
    assert is_logged_in(bob)


def test_password_set_from_the_command_line_ends_every_session(app, classroom):
    laptop = logged_in(app, "alice")
    result = app.test_cli_runner().invoke(
        args=["user", "password", "alice"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert not is_logged_in(laptop)


def test_log_out_everywhere(app, classroom):
    laptop, phone = logged_in(app, "alice"), logged_in(app, "alice")
    response = laptop.post("/auth/logout-everywhere")
    assert response.status_code == 302 and "/auth/login" in response.location
    assert not is_logged_in(laptop) and not is_logged_in(phone)


def test_admin_logs_a_user_out_everywhere(app, classroom):
    laptop, bob = logged_in(app, "alice"), logged_in(app, "bob")
    result = app.test_cli_runner().invoke(args=["user", "logout", "alice"])
    assert result.exit_code == 0, result.output
    assert "alice" in result.output
    assert not is_logged_in(laptop) and is_logged_in(bob)
    assert app.test_cli_runner().invoke(args=["user", "logout", "nobody"]).exit_code


def test_a_deactivated_user_is_logged_out(app, classroom):
    from sandbox.extensions import db

    client = logged_in(app, "alice")
    with app.app_context():
        user_named("alice").active = False
        db.session.commit()
    assert not is_logged_in(client)
