"""Users and authentication, with throttling of repeated failed logins."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, session
from werkzeug.security import check_password_hash, generate_password_hash

from sandbox.extensions import db
from sandbox.models import utcnow
from sandbox.models.control import (
    Course,
    LoginSession,
    LoginThrottle,
    Role,
    Tenant,
    User,
    record_event,
)

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
    #: The password was right but the account is deactivated (said only then, so
    #: it tells nothing to someone guessing).
    deactivated: bool = False


def normalize_username(username: str) -> str:
    """The one spelling of a username: look-alike forms (full-width ｂｏｂ,
    superscripts) folded by NFKC, case ignored, no surrounding spaces."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def get_user(username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.username == normalize_username(username))
    )


# ------------------------------------------------------------------- throttling
#
# Every attempt is counted *before* its password is checked, with one atomic
# statement, so parallel guesses cannot slip past the limit between a check and
# its count. Counts are kept per (name, client address), so failures from one
# address never lock the right password out from another, and per address, with
# delays that double while the failures go on.

_RESERVE = sa.text(
    # In DO UPDATE SET every column on the right-hand side is the row's old value.
    """
    INSERT INTO login_throttle (key, failures, last_at, blocked_until, attempt)
    VALUES (
        :key, 1, :now, CASE WHEN 1 >= :max THEN :now + :first ELSE 0 END, :attempt
    )
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE
            WHEN blocked_until > :now THEN failures
            WHEN last_at < :expired THEN 1
            ELSE failures + 1 END,
        blocked_until = CASE
            WHEN blocked_until > :now THEN blocked_until
            WHEN last_at < :expired THEN
                CASE WHEN 1 >= :max THEN :now + :first ELSE 0 END
            WHEN failures + 1 >= :max THEN
                :now + min(:ceiling, :first * (1 << min(failures + 1 - :max, 30)))
            ELSE 0 END,
        attempt = CASE WHEN blocked_until > :now THEN attempt ELSE :attempt END,
        last_at = CASE WHEN blocked_until > :now THEN last_at ELSE :now END
    RETURNING blocked_until, attempt
    """
)


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class _Limit:
    key: str
    max_failures: int
    #: The wait once the limit is reached; it doubles with every further failure.
    first_delay: float


def _limits(name: str, ip: str) -> tuple[_Limit, _Limit]:
    config = current_app.config
    lockout = 60.0 * config["LOGIN_LOCKOUT_MINUTES"]
    return (
        _Limit(f"name:{ip}:{name}"[:300], config["LOGIN_MAX_FAILURES"], lockout),
        _Limit(
            f"address:{ip}"[:300],
            config["LOGIN_IP_MAX_FAILURES"],
            float(config["LOGIN_IP_FIRST_DELAY_SECONDS"]),
        ),
    )


def _reserve_attempt(limits: tuple[_Limit, _Limit], ceiling: float) -> float:
    """Count an attempt by address, then by name; returns seconds to wait (0: go on).

    The attempt that reaches a limit is still checked, and blocks the ones after
    it, in the same statement that counts it. An attempt refused by one limit is
    not counted by the other: a locked name hammered from a shared classroom
    address does not slow the whole class down.
    """
    by_name, by_address = limits
    wait = _reserve(by_address, ceiling)
    if not wait:
        wait = _reserve(by_name, ceiling)
        if wait:
            _uncount(by_address)
    db.session.commit()  # visible to parallel attempts before the slow hash check
    return wait


def _reserve(limit: _Limit, ceiling: float) -> float:
    now = _now()
    attempt = secrets.token_hex(8)
    blocked_until, counted = db.session.execute(
        _RESERVE,
        {
            "key": limit.key,
            "now": now,
            "expired": now - ceiling,
            "max": limit.max_failures,
            "first": limit.first_delay,
            "ceiling": ceiling,
            "attempt": attempt,
        },
    ).one()
    return 0.0 if counted == attempt else max(blocked_until - now, 1.0)


def _uncount(limit: _Limit) -> None:
    db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == limit.key, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )


def _record_success(limits: tuple[_Limit, _Limit]) -> None:
    by_name, by_address = limits
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == by_name.key))
    _uncount(by_address)  # counted in advance; it was no failure after all


def _dummy_hash() -> str:
    """A hash made like real ones, so an unknown name costs the same time to check."""
    cache = current_app.extensions.setdefault("sandbox.dummy_hash", {})
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in cache:
        cache[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return cache[method]


def _password_matches(user: User | None, password: str) -> bool:
    """Check the password with exactly one hash verification, user or not."""
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = check_password_hash(stored, password)
    return matches and user is not None


def authenticate(username: str, password: str, ip: str = "") -> LoginResult:
    """Check a login; too many failures from one address slow it down or lock it.

    Failures are counted per entered name whether or not such a user exists, and an
    unknown name costs a hash check too, so neither the answer nor its timing tells
    an attacker which names are real.
    """
    name = normalize_username(username)
    limits = _limits(name, ip)
    ceiling = 60.0 * current_app.config["LOGIN_LOCKOUT_MINUTES"]
    wait = _reserve_attempt(limits, ceiling)
    if wait:
        record_event(LOGIN_THROTTLED, target=name, ip=ip)
        db.session.commit()
        return LoginResult(throttled=True, retry_minutes=max(1, math.ceil(wait / 60)))
    user = get_user(name)
    matches = _password_matches(user, password)
    if not matches or not user.active:
        record_event(LOGIN_FAILED, target=name, ip=ip)
        db.session.commit()
        return LoginResult(deactivated=matches)
    _record_success(limits)
    user.last_login_at = utcnow()
    record_event(LOGIN_SUCCEEDED, actor=user, target=name, ip=ip)
    db.session.commit()
    return LoginResult(user=user)


PASSWORD_MIN_LENGTH = 8


def validate_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise UserError(f"a password has at least {PASSWORD_MIN_LENGTH} characters")
    if not password.strip():
        raise UserError("a password cannot be only spaces")


#: The longest display name and email the user table keeps.
DISPLAY_NAME_MAX, EMAIL_MAX = 120, 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_profile(display_name: str, email: str | None) -> None:
    if len(display_name) > DISPLAY_NAME_MAX:
        raise UserError(f"a name has at most {DISPLAY_NAME_MAX} characters")
    if email is not None and (len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email)):
        raise UserError(f"{email[:60]!r} is not an email address")


def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    email: str | None = None,
    language: str | None = None,
    allow_weak_password: bool = False,
    password_hash: str | None = None,
) -> User:
    """Add a user to the session (the caller commits).

    ``allow_weak_password`` is for demo accounts, whose password is meant to be known.
    ``password_hash`` is ``password`` already hashed (see :func:`hash_passwords`).
    """
    name = normalize_username(username)
    if (
        not name
        or len(name) > 64
        or not all(c.isalnum() or c in "._-" for c in name)
        or not any(c.isalnum() for c in name)
    ):
        raise UserError(
            "a username uses 1-64 letters, digits, '.', '_' or '-', and at least one "
            "letter or digit"
        )
    if get_user(name) is not None:
        raise UserError(f"the username {name!r} is taken")
    _check_profile(display_name, email)
    if not allow_weak_password:
        validate_password(password)
    user = User(
        username=name,
        display_name=display_name or name,
        email=email,
        role=role,
        preferred_language=language,
    )
    if password_hash is None:
        set_password(user, password)
    else:
        user.password_hash = password_hash
    db.session.add(user)
    return user


def hash_passwords(passwords: Sequence[str]) -> list[str]:
    """The hashes of ``passwords``, in order, computed side by side.

    The hash (scrypt) releases the interpreter lock, so a class list's passwords
    take half the time on two cores: 200 of them took 20 s one after the other.
    """
    method = current_app.config["PASSWORD_HASH_METHOD"]

    def hashed(password: str) -> str:
        return generate_password_hash(password, method=method)

    return _side_by_side(hashed, passwords)


def still_have_password(users: Sequence[User], password: str) -> list[bool]:
    """Whether each user's password is still ``password``, checked side by side
    (each check is a hash as slow as the one that set it)."""
    hashes = [user.password_hash for user in users]  # read here, not in a thread
    return _side_by_side(lambda stored: check_password_hash(stored, password), hashes)


def _side_by_side(work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``work`` done on each item, in order, on every core (the password hash
    releases the interpreter lock)."""
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))


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


@functools.cache
def _session_user_statement() -> sa.Select:
    """The user of a live session and, for a student, the latest CRM and its course.

    Every request runs it, so it is built once and takes its values as parameters.
    """
    latest_tenant = (
        sa.select(Tenant.id)
        .where(Tenant.student_id == User.id)
        .order_by(Tenant.created_at.desc(), Tenant.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )
    return (
        sa.select(User, Tenant, Course)
        .join(LoginSession, LoginSession.user_id == User.id)
        .outerjoin(Tenant, Tenant.id == latest_tenant)
        .outerjoin(Course, Course.id == Tenant.course_id)
        .where(
            User.id == sa.bindparam("user_id"),
            LoginSession.token_hash == sa.bindparam("token_hash"),
        )
    )


def session_user(user_id: int) -> User | None:
    """The user whose live session this request carries, else None."""
    token = session.get(SESSION_ID_KEY)
    if not isinstance(token, str):
        return None
    # A student's CRM is looked up in the same statement (every page a student
    # opens needs both); ``tenancy`` takes it from ``g``.
    row = db.session.execute(
        _session_user_statement(),
        {"user_id": user_id, "token_hash": _token_hash(token)},
    ).first()
    if row is None:
        return None
    user, tenant, course = row
    # The course travels along: the session's identity map holds objects weakly.
    g.student_tenant = (user.id, tenant, course)
    return user
