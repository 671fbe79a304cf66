"""Platform tables in the control database (``instance/sandbox.db``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from sandbox.extensions import db, login_manager
from sandbox.models import utcnow


class Role(str, enum.Enum):
    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


LANGUAGES = {"en": "English", "zh": "简体中文"}

course_instructors = sa.Table(
    "course_instructor",
    db.metadata,
    sa.Column(
        "course_id", sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    ),
)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(
        sa.Enum(
            Role,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    #: ``en`` or ``zh``; None follows the browser (or the language picked this session).
    preferred_language: Mapped[str | None] = mapped_column(sa.String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="student", cascade="all, delete-orphan"
    )
    teaching: Mapped[list[Course]] = relationship(
        secondary=course_instructors, back_populates="instructors"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_student(self) -> bool:
        return self.role is Role.STUDENT

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.INSTRUCTOR)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def teaches(self, course: Course) -> bool:
        return self.role is Role.ADMIN or course in self.teaching

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role.value})>"


class Course(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    scenario: Mapped[str] = mapped_column(sa.String(64), default="default")
    #: IANA time zone the course's students see times in (Asia/Shanghai, …).
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    #: The month (1–12) the course's fiscal year starts in; forecasts count from it.
    fiscal_year_start: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instructors: Mapped[list[User]] = relationship(
        secondary=course_instructors, back_populates="teaching"
    )
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )
    tenants: Mapped[list[Tenant]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Course {self.code}>"


class Enrollment(db.Model):
    __table_args__ = (sa.UniqueConstraint("course_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE")
    )
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="enrollments")
    student: Mapped[User] = relationship(back_populates="enrollments")


class Tenant(db.Model):
    """One student's CRM database in one course."""

    __table_args__ = (sa.UniqueConstraint("course_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE")
    )
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    scenario: Mapped[str] = mapped_column(sa.String(64))
    variant_seed: Mapped[int]
    # Paths are relative to the instance folder so a restored backup works anywhere.
    file_path: Mapped[str] = mapped_column(sa.String(400))
    seed_path: Mapped[str] = mapped_column(sa.String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reset_at: Mapped[datetime | None]
    reset_count: Mapped[int] = mapped_column(default=0)

    course: Mapped[Course] = relationship(back_populates="tenants")
    student: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Tenant {self.file_path}>"


class LoginSession(db.Model):
    """A live login: the session cookie carries its token, the table its hash.

    Deleting the row ends that session even for someone holding a copy of the
    cookie (logout), or every session of a user (a password change).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(db.Model):
    """Failed-login count for one key: a (name, client address) pair or an address."""

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    #: Seconds since the epoch of the last counted attempt, and of the block's end.
    last_at: Mapped[float] = mapped_column(default=0.0)
    blocked_until: Mapped[float] = mapped_column(default=0.0)
    #: A token of the last attempt counted (a blocked attempt is not counted).
    attempt: Mapped[str] = mapped_column(sa.String(32), default="")


class AuditEvent(db.Model):
    """A platform action: logins, resets, grading runs, backups."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    actor_name: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()


def record_event(
    action: str,
    *,
    actor: User | None = None,
    target: str = "",
    ip: str = "",
    **detail: Any,
) -> AuditEvent:
    """Add a platform audit event to the session (the caller commits)."""
    event = AuditEvent(
        action=action,
        actor=actor,
        actor_name=actor.username if actor else "system",
        target=target,
        ip=ip,
        detail=detail,
    )
    db.session.add(event)
    return event


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of this request's session, if that session is still live."""
    from sandbox.auth.service import session_user

    try:
        return session_user(int(user_id))
    except (TypeError, ValueError):
        return None


# The lab tables belong to the control database too; importing them here keeps the
# control metadata complete wherever the platform models are loaded.
from sandbox.models import labs as _labs  # noqa: E402,F401
