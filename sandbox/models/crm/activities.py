"""Activities (日程 / 任务): tasks, calls, meetings and events, and the work diary.

An activity may be linked to any CRM record through ``related_type`` (the module
key, such as ``accounts`` or ``cases``) and ``related_id``: one generic link rather
than a column per module, so a new module needs no change here.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, TenantModel, Timestamped
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.team import Colleague


class Activity(Timestamped, Audited):
    __table_args__ = (
        sa.Index("ix_activity_related", "related_type", "related_id"),
        # A colleague's tasks by due date and reminders by time (the workbench's
        # to-dos and reminders) are read in order, never sorted; with the status
        # beside them, counting the overdue ones never reads the table.
        sa.Index("ix_activity_owner_due", "owner_id", "due_date", "status"),
        sa.Index("ix_activity_owner_remind", "owner_id", "remind_at", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        sa.String(20),
        default="task",
        index=True,
        info={"label": _l("Activity type"), "codes": "activity_kind"},
    )
    subject: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Subject")}
    )
    #: Meetings, calls and events have a start (and an end); times are UTC.
    starts_at: Mapped[dt.datetime | None] = mapped_column(
        index=True, info={"label": _l("Starts")}
    )
    ends_at: Mapped[dt.datetime | None] = mapped_column(info={"label": _l("Ends")})
    all_day: Mapped[bool] = mapped_column(default=False, info={"label": _l("All day")})
    #: Tasks have a due date.
    due_date: Mapped[dt.date | None] = mapped_column(
        index=True, info={"label": _l("Due date")}
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="planned",
        index=True,
        info={"label": _l("Status"), "codes": "activity_status"},
    )
    priority: Mapped[str] = mapped_column(
        sa.String(10),
        default="normal",
        info={"label": _l("Priority"), "codes": "activity_priority"},
    )
    communication_type: Mapped[str | None] = mapped_column(
        sa.String(40),
        info={"label": _l("Communication type"), "codes": "communication_type"},
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        info={"label": _l("Assigned to")},
    )
    related_type: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Related to")}
    )
    related_id: Mapped[int | None] = mapped_column(info={"label": _l("Related record")})
    location: Mapped[str | None] = mapped_column(
        sa.String(200), info={"label": _l("Location")}
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )
    outcome: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Outcome"), "multiline": True}
    )
    remind_at: Mapped[dt.datetime | None] = mapped_column(
        index=True, info={"label": _l("Reminder")}
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Completed on")}
    )

    owner: Mapped[Colleague | None] = relationship()
    attendees: Mapped[list[ActivityAttendee]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def display_name(self) -> str:
        return self.subject or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.subject

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.kind} {self.subject!r}>"


class ActivityAttendee(TenantModel):
    """A colleague or a contact (exactly one) taking part in an activity."""

    __tablename__ = "activity_attendee"
    __table_args__ = (
        sa.CheckConstraint(
            "(colleague_id IS NULL) != (contact_id IS NULL)", name="one_attendee"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    colleague_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )

    activity: Mapped[Activity] = relationship(back_populates="attendees")
    colleague: Mapped[Colleague | None] = relationship()
    contact: Mapped[Contact | None] = relationship()


class DiaryEntry(Timestamped, Audited):
    """The work diary (工作日志): one entry per day with the student's notes.

    The day's activities are listed beside the notes when the diary is shown; they
    are not copied here.
    """

    __tablename__ = "diary_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(unique=True, info={"label": _l("Date")})
    notes: Mapped[str] = mapped_column(
        sa.Text, default="", info={"label": _l("Notes"), "multiline": True}
    )

    @property
    def display_name(self) -> str:
        return self.day.isoformat() if self.day else f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return sa.cast(cls.day, sa.String)

    def __repr__(self) -> str:
        return f"<DiaryEntry {self.day}>"
