"""Lab tables in the control database: assignments, step results and attempts.

A student's work is kept per tenant (one student in one course), so resetting a
student's CRM can keep or clear their lab record deliberately.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.extensions import db
from sandbox.models import utcnow
from sandbox.models.control import Course, Tenant


class LessonAssignment(db.Model):
    """A lesson a course's students are asked to do, with an optional due time."""

    __tablename__ = "lesson_assignment"
    __table_args__ = (sa.UniqueConstraint("course_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    lesson_id: Mapped[str] = mapped_column(sa.String(64))
    #: UTC; work checked after it is marked late, never refused.
    due_at: Mapped[datetime | None]
    position: Mapped[int] = mapped_column(default=0)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()


class StepResult(db.Model):
    """The latest Check of one step by one student (one tenant)."""

    __tablename__ = "step_result"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "lesson_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    lesson_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    step_id: Mapped[str] = mapped_column(sa.String(64))
    #: 0 to 1; the points awarded are ``score × step points``.
    score: Mapped[float] = mapped_column(default=0.0)
    points: Mapped[float] = mapped_column(default=0.0)
    passed: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    #: How many hints the student has unlocked.
    hints_shown: Mapped[int] = mapped_column(default=0)
    #: The student's message in both languages: ``{"en": …, "zh": …}``.
    message: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: What the instructor sees: per check, what was looked at and found.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The student's typed answer, for ``answer`` checks.
    answer: Mapped[str | None] = mapped_column(sa.String(200))
    first_passed_at: Mapped[datetime | None]
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    late: Mapped[bool] = mapped_column(default=False)

    tenant: Mapped[Tenant] = relationship()


class CheckAttempt(db.Model):
    """Every press of Check, for per-step statistics (attempts, common failures)."""

    __tablename__ = "check_attempt"
    __table_args__ = (sa.Index("ix_check_attempt_step", "lesson_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    lesson_id: Mapped[str] = mapped_column(sa.String(64))
    step_id: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[float] = mapped_column(default=0.0)
    passed: Mapped[bool] = mapped_column(default=False)
    #: The student's message in both languages as one text (``labs.messages.pack``):
    #: equal failures have equal texts, so they group.
    message: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SavePoint(db.Model):
    """A snapshot of a student's CRM they can rewind to (a few per student)."""

    __tablename__ = "save_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(80))
    #: The snapshot's name in :func:`sandbox.tenancy.snapshot`.
    snapshot: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship()
