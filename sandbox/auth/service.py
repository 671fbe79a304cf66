"""Users and authentication, with throttling of repeated failed logins."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, session

from sandbox.extensions import db
from sandbox.models import utcnow
from sandbox.models.control import AuditEvent, LoginSession, Role, User, record_event

LOGIN_FAILED = "login.failed"
LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_THROTTLED = "login.throttled"


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


@dataclass
class LoginResult:
    user: User | None = None
    throttled: bool = False
    retry_minutes: int = 0


def normalize_username(username: str) -> str:
    return username.strip().lower()


def get_user(username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.username == normalize_username(username))
    )


def _recent_failures(username: str) -> list[AuditEvent]:
    window = timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    last_success = (
        sa.select(sa.func.max(AuditEvent.at))
        .where(AuditEvent.action == LOGIN_SUCCEEDED, AuditEvent.target == username)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.action == LOGIN_FAILED,
                AuditEvent.target == username,
                AuditEvent.at > utcnow() - window,
                AuditEvent.at > sa.func.coalesce(last_success, "1970-01-01"),
            )
            .order_by(AuditEvent.at)
        )
    )


def authenticate(username: str, password: str, ip: str = "") -> LoginResult:
    """Check a login; after too many failures the name is locked for a while.

    Failures are counted per entered name whether or not such a user exists, so the
    answer never tells an attacker which names are real.
    """
    name = normalize_username(username)
    failures = _recent_failures(name)
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if len(failures) >= limit:
        window = timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        remaining = failures[-limit].at + window - utcnow()
        record_event(LOGIN_THROTTLED, target=name, ip=ip)
        db.session.commit()
        minutes = max(1, int(remaining.total_seconds() // 60) + 1)
        return LoginResult(throttled=True, retry_minutes=minutes)
    user = get_user(name)
    if user is None or not user.active or not user.check_password(password):
        record_event(LOGIN_FAILED, target=name, ip=ip)
        db.session.commit()
        return LoginResult()
    user.last_login_at = utcnow()
    record_event(LOGIN_SUCCEEDED, actor=user, target=name, ip=ip)
    db.session.commit()
    return LoginResult(user=user)


PASSWORD_MIN_LENGTH = 8


def validate_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise UserError(f"a password has at least {PASSWORD_MIN_LENGTH} characters")


def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    email: str | None = None,
    language: str | None = None,
    allow_weak_password: bool = False,
) -> User:
    """Add a user to the session (the caller commits).

    ``allow_weak_password`` is for demo accounts, whose password is meant to be known.
    """
    name = normalize_username(username)
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise UserError("a username uses 1-64 letters, digits, '.', '_' or '-'")
    if get_user(name) is not None:
        raise UserError(f"the username {name!r} is taken")
    if not allow_weak_password:
        validate_password(password)
    user = User(
        username=name,
        display_name=display_name or name,
        email=email,
        role=role,
        preferred_language=language,
    )
    set_password(user, password)
    db.session.add(user)
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password and end every session the user has (the caller commits)."""
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    end_all_sessions(user)


# ----------------------------------------------------------------- login sessions

SESSION_ID_KEY = "sid"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> None:
    """Record a new login session and put its token in the session cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_token_hash(token)))
    session[SESSION_ID_KEY] = token


def end_session() -> None:
    """End this request's login session, wherever copies of its cookie are."""
    token = session.get(SESSION_ID_KEY)
    if isinstance(token, str):
        db.session.execute(
            sa.delete(LoginSession).where(LoginSession.token_hash == _token_hash(token))
        )


def end_all_sessions(user: User) -> int:
    """End every login session of ``user``; returns how many there were."""
    result = db.session.execute(
        sa.delete(LoginSession).where(LoginSession.user_id == user.id)
    )
    return result.rowcount


def session_user(user_id: int) -> User | None:
    """The user whose live session this request carries, else None."""
    token = session.get(SESSION_ID_KEY)
    if not isinstance(token, str):
        return None
    return db.session.scalar(
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.token_hash == _token_hash(token))
    )
