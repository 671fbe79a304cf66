"""The administrator manages users and instructors and sees every course."""

from __future__ import annotations

import re

import sqlalchemy as sa

from sandbox.auth.service import get_user
from sandbox.extensions import db
from sandbox.models.control import AuditEvent, Role
from tests.helpers import make_course, make_user


def test_the_admin_creates_an_instructor_with_a_generated_password(
    app, client, auth, classroom
):
    with app.app_context():
        make_user("root", Role.ADMIN)
    auth.login("root")
    page = client.post(
        "/admin/users/new",
        data={
            "username": "Wang.Laoshi",
            "display_name": "王老师",
            "email": "wang@example.edu",
            "role": "instructor",
            "password": "",
        },
    ).get_data(as_text=True)
    password = re.search(r'<code id="new-password">(\w+)</code>', page).group(1)
    with app.app_context():
        user = get_user("wang.laoshi")
        assert user.role is Role.INSTRUCTOR and user.display_name == "王老师"
        assert user.check_password(password)
    listing = client.get("/admin/users?role=instructor").get_data(as_text=True)
    assert "wang.laoshi" in listing and "alice" not in listing


def test_only_the_admin_has_users_in_the_top_bar(app, client, auth, classroom):
    with app.app_context():
        make_user("root", Role.ADMIN)
    users_link = re.compile(r'<a class="nav-link[^"]*" href="/admin/users">Users</a>')
    for username, shown in (("root", True), ("teacher", False), ("alice", False)):
        auth.login(username)
        page = client.get("/labs/").get_data(as_text=True)
        assert bool(users_link.search(page)) is shown, username
        auth.logout()


def test_a_taken_username_is_refused_beside_the_field(app, client, auth, classroom):
    with app.app_context():
        make_user("root", Role.ADMIN)
    auth.login("root")
    response = client.post(
        "/admin/users/new",
        data={"username": "alice", "display_name": "A", "role": "instructor"},
    )
    assert "This username is taken." in response.get_data(as_text=True)
    with app.app_context():
        assert get_user("alice").role is Role.STUDENT


def test_the_admin_edits_deactivates_and_reactivates_a_user(
    app, client, auth, classroom
):
    with app.app_context():
        make_user("root", Role.ADMIN)
        teacher_id = get_user("teacher").id
    auth.login("root")
    client.post(
        f"/admin/users/{teacher_id}/edit",
        data={"display_name": "Ms T", "email": "t@example.edu", "role": "instructor"},
    )
    assert "Deactivate Ms T?" in client.get(
        f"/admin/users/{teacher_id}/deactivate"
    ).get_data(as_text=True)
    client.post(f"/admin/users/{teacher_id}/deactivate")
    with app.app_context():
        teacher = get_user("teacher")
        assert (teacher.display_name, teacher.email, teacher.active) == (
            "Ms T",
            "t@example.edu",
            False,
        )
    other = app.test_client()
    other.post("/auth/login", data={"username": "teacher", "password": "correct-horse"})
    assert other.get("/instructor/").status_code == 302  # login refused
    client.post(f"/admin/users/{teacher_id}/activate")
    with app.app_context():
        assert get_user("teacher").active


def test_a_password_reset_ends_the_users_sessions(app, client, auth, classroom):
    with app.app_context():
        make_user("root", Role.ADMIN)
        alice_id = get_user("alice").id
    alice = app.test_client()
    alice.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    assert alice.get("/").status_code == 200
    auth.login("root")
    page = client.post(f"/admin/users/{alice_id}/password").get_data(as_text=True)
    password = re.search(r'<code id="new-password">(\w+)</code>', page).group(1)
    assert alice.get("/").status_code == 302
    with app.app_context():
        assert get_user("alice").check_password(password)
        assert db.session.scalar(
            sa.select(AuditEvent).filter_by(action="user.reset_password")
        )


def test_the_admin_cannot_lock_themselves_out(app, client, auth, classroom):
    with app.app_context():
        root_id = make_user("root", Role.ADMIN).id
    auth.login("root")
    client.post(f"/admin/users/{root_id}/deactivate")
    client.post(
        f"/admin/users/{root_id}/edit",
        data={"display_name": "Root", "role": "instructor"},
    )
    with app.app_context():
        root = get_user("root")
        assert root.active and root.role is Role.ADMIN


def test_the_admin_sees_every_course(app, client, auth, classroom):
    with app.app_context():
        make_user("root", Role.ADMIN)
        other = make_user("stranger", Role.INSTRUCTOR)
        make_course("OTHER", "Other course", instructors=[other])
    auth.login("root")
    page = client.get("/instructor/").get_data(as_text=True)
    assert "CRM 101" in page and "Other course" in page


def test_new_users_need_a_real_username_and_an_email_of_their_own(
    app, client, auth, classroom
):
    with app.app_context():
        make_user("root", Role.ADMIN)
        teacher = get_user("teacher")
        teacher.email = "t@example.edu"
        db.session.commit()
    auth.login("root")

    def create(username, email=""):
        return client.post(
            "/admin/users/new",
            data={
                "username": username,
                "display_name": "N",
                "email": email,
                "role": "instructor",
            },
        )

    assert "at least one letter or digit" in create("-").get_data(as_text=True)
    taken = create("newbie", "T@example.edu").get_data(as_text=True)
    assert "Another user has this email address." in taken
    assert create(" spacey ").status_code == 200  # created: the spaces are dropped
    with app.app_context():
        assert get_user("-") is None and get_user("newbie") is None
        assert get_user("spacey") is not None
        alice_id = get_user("alice").id
    edited = client.post(
        f"/admin/users/{alice_id}/edit",
        data={"display_name": "A", "email": "t@example.edu", "role": "student"},
    ).get_data(as_text=True)
    assert "Another user has this email address." in edited


def test_a_page_past_the_end_of_the_users_shows_the_last(app, client, auth, classroom):
    with app.app_context():
        make_user("root", Role.ADMIN)
    auth.login("root")
    page = client.get("/admin/users?page=99").get_data(as_text=True)
    assert "No user matches" not in page and ">alice<" in page


def test_the_admin_is_not_offered_a_change_of_their_own_role(
    app, client, auth, classroom
):
    with app.app_context():
        root_id = make_user("root", Role.ADMIN).id
    auth.login("root")
    form = client.get(f"/admin/users/{root_id}/edit").get_data(as_text=True)
    role = re.search(r"<select[^>]*name=\"role\"[^>]*>", form)[0]
    assert "disabled" in role and "You cannot change your own role." in form
    saved = client.post(
        f"/admin/users/{root_id}/edit",
        data={"display_name": "Root", "email": ""},  # a disabled select sends nothing
    )
    assert saved.status_code == 302
    with app.app_context():
        root = get_user("root")
        assert root.display_name == "Root" and root.role is Role.ADMIN
