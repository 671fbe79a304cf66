"""User management by the administrator."""

from __future__ import annotations

import sqlalchemy as sa

from sandbox.auth.service import (
    UserError,
    create_user,
    end_all_sessions,
    normalize_username,
    set_password,
)
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.instructor.roster import generate_password
from sandbox.models.control import Role, User, record_event

PER_PAGE = 50


def list_users(
    *, q: str = "", role: str = "", page: int = 1
) -> tuple[list[User], int, int]:
    """One page of users (by username) matching a search and a role, the total, and
    the page number shown (a page past the end shows the last)."""
    stmt = sa.select(User)
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    q = q.strip()
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        stmt = stmt.where(
            sa.or_(
                User.username.ilike(like, escape="\\"),
                User.display_name.ilike(like, escape="\\"),
                User.email.ilike(like, escape="\\"),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    total = total or 0
    page = min(page, max(1, -(-total // PER_PAGE)))  # past the end: the last page
    users = db.session.scalars(
        stmt.order_by(User.username).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    )
    return list(users), total, page


class EmailTaken(UserError):
    """Another user already has the email address."""


def _check_email(email: str | None, other_than: User | None = None) -> None:
    """:raise EmailTaken: another user has ``email`` (case ignored)"""
    if not email:
        return
    stmt = sa.select(User.id).where(sa.func.lower(User.email) == email.strip().lower())
    if other_than is not None:
        stmt = stmt.where(User.id != other_than.id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise EmailTaken(_("Another user has this email address."))


def add_user(
    username: str,
    role: Role,
    *,
    display_name: str = "",
    email: str | None = None,
    password: str = "",
    actor: User | None = None,
) -> tuple[User, str]:
    """Create a user; returns it and its initial password (generated if empty).

    The caller commits.

    :raise EmailTaken: another user has ``email``
    """
    _check_email(email)
    password = password or generate_password()
    user = create_user(
        username, password, role, display_name=display_name, email=email or None
    )
    db.session.flush()
    record_event("user.create", actor=actor, target=user.username, role=role.value)
    return user, password


def edit_user(
    user: User,
    *,
    display_name: str,
    email: str | None,
    role: Role,
    actor: User,
) -> None:
    """Change a user's name, email and role; the caller commits.

    :raise EmailTaken: another user has ``email``
    """
    _check_email(email, other_than=user)
    if user.id == actor.id and role is not user.role:
        raise UserError(_("You cannot change your own role."))
    if user.role is Role.STUDENT and role is not Role.STUDENT and user.enrollments:
        raise UserError(
            _("This student is enrolled in courses: remove them from those first.")
        )
    if role is Role.STUDENT and user.teaching:
        raise UserError(
            _("This user teaches courses: take them off those courses first.")
        )
    changes = {
        key: [str(old), str(new)]
        for key, old, new in (
            ("display_name", user.display_name, display_name),
            ("email", user.email, email),
            ("role", user.role.value, role.value),
        )
        if old != new
    }
    user.display_name = display_name or user.username
    user.email = email or None
    user.role = role
    record_event("user.update", actor=actor, target=user.username, changes=changes)


def set_active(user: User, active: bool, actor: User) -> None:
    """Deactivate (every session ends, login refused) or reactivate a user."""
    if user.id == actor.id:
        raise UserError(_("You cannot deactivate yourself."))
    user.active = active
    if not active:
        end_all_sessions(user)
    record_event(
        "user.activate" if active else "user.deactivate",
        actor=actor,
        target=user.username,
    )


def reset_password(user: User, actor: User) -> str:
    """Give the user a new generated password (their sessions end); returns it."""
    password = generate_password()
    set_password(user, password)
    record_event("user.reset_password", actor=actor, target=user.username)
    return password


def find_user(username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.username == normalize_username(username))
    )
