"""Activity rules: what a task, call, meeting or event needs, linking to records,
completing and rescheduling, and the queries the calendar and workbench use.

Times are stored in UTC (naive); people enter and see them in the course's time
zone. A task has a due date (a plain day, no time zone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.codes import code_list
from sandbox.crm.registry import Module, get_module, modules
from sandbox.crm.service import apply_changes, commit, my_colleague_id
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Colleague, Contact
from sandbox.models.crm.activities import Activity, ActivityAttendee
from sandbox.routing import record_id

#: Kinds that happen at a time (a start, maybe an end); a task has a due date.
TIMED_KINDS = frozenset({"call", "meeting", "event", "email"})
OPEN_STATUSES = ("planned", "in_progress")
#: No activity lasts longer: the calendar looks back this far for ones still going.
MAX_SPAN = dt.timedelta(days=31)
#: Module groups whose records activities can be linked to.
LINKABLE_GROUPS = ("sales", "marketing", "service")
#: Catalogue records, not parties one calls or meets, and this package's own.
NOT_LINKABLE = frozenset(
    {
        "activities",
        "calendar",
        "mailbox",
        "mail_templates",
        "products",
        "product_categories",
        "knowledge",
    }
)

FIELDS = (
    "kind",
    "subject",
    "starts_at",
    "ends_at",
    "all_day",
    "due_date",
    "status",
    "priority",
    "communication_type",
    "owner_id",
    "location",
    "description",
    "outcome",
    "remind_at",
)

LINK_ACTIONS = {
    "task": "add_task",
    "call": "log_call",
    "meeting": "add_meeting",
    "event": "add_event",
    "email": "log_email",
}
define_action("add_task", _l("Added task “%(subject)s” to %(entity)s %(record)s"))
define_action("log_call", _l("Logged call “%(subject)s” with %(entity)s %(record)s"))
define_action(
    "add_meeting", _l("Planned meeting “%(subject)s” with %(entity)s %(record)s")
)
define_action("add_event", _l("Added event “%(subject)s” to %(entity)s %(record)s"))
define_action("log_email", _l("Emailed “%(subject)s” to %(entity)s %(record)s"))
define_action("complete", _l("Completed %(entity)s %(record)s"), entity="activity")
define_action(
    "reschedule",
    _l("Moved %(entity)s %(record)s to %(day)s"),
    entity="activity",
)


class ActivityError(ValueError):
    """An activity breaks a rule; ``field`` names the form field to show it by."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


# ------------------------------------------------------------------ time zones


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def course_zone() -> ZoneInfo:
    """The time zone of the course whose CRM is open (UTC outside a request)."""
    from flask import has_request_context

    from sandbox.tenancy import current_handle

    handle = current_handle() if has_request_context() else None
    return zone(handle.timezone if handle is not None else None)


def to_utc(local: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """A wall-clock time in ``tz`` as naive UTC (how times are stored)."""
    if local is None:
        return None
    aware = local.replace(tzinfo=tz) if local.tzinfo is None else local
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)


def to_local(utc: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """A stored (naive UTC) time as wall-clock time in ``tz`` (naive)."""
    if utc is None:
        return None
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None)


def local_today(tz: ZoneInfo | None = None) -> dt.date:
    return to_local(utcnow(), tz or course_zone()).date()


def day_start_utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC moment the local day ``day`` begins."""
    return to_utc(dt.datetime.combine(day, dt.time()), tz)


def local_days(
    activity: Any,
    tz: ZoneInfo,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[dt.date]:
    """The local days an activity falls on: a task's due day; every day from an
    activity's start to its end (``start`` and ``end``: its local times, when the
    caller has them already)."""
    if activity.starts_at is None:
        return [activity.due_date] if activity.due_date else []
    first = (start or to_local(activity.starts_at, tz)).date()
    if activity.ends_at is None or activity.ends_at <= activity.starts_at:
        return [first]
    last = end or to_local(activity.ends_at, tz)
    # An end at midnight closes the day before (a meeting until 00:00).
    last_day = last.date()
    if last.time() == dt.time():
        last_day -= dt.timedelta(days=1)
    last_day = max(first, last_day)
    return [first + dt.timedelta(days=n) for n in range((last_day - first).days + 1)]


# ---------------------------------------------------------------- linked records


def linkable_modules() -> list[Module]:
    return [
        m for m in modules() if m.group in LINKABLE_GROUPS and m.key not in NOT_LINKABLE
    ]


def link_of(record: Any) -> tuple[Module, int] | None:
    """The module of ``record`` if activities can be linked to it."""
    table = sa.inspect(record).mapper.local_table.name
    for module in linkable_modules():
        if module.entity == table and isinstance(record, module.model):
            return module, record.id
    return None


def related_record(session: Session, related_type: str | None, related_id: Any):
    """The record an activity is linked to, or None when the link is broken."""
    if not related_type or related_id is None:
        return None
    if related_type not in {m.key for m in linkable_modules()}:
        return None
    found = record_id(related_id)
    if found is None:
        return None
    return session.get(get_module(related_type).model, found)


# --------------------------------------------------------------------- the rules


def check_activity(session: Session, activity: Activity) -> None:
    """The rules every save obeys, from the form, the calendar's drag or a service.

    :raise ActivityError: with the field it concerns.
    """
    if activity.kind not in {c.code for c in code_list("activity_kind")}:
        raise ActivityError(_l("Choose an activity type from the list."), "kind")
    if not (activity.subject or "").strip():
        raise ActivityError(_l("Give the activity a subject."), "subject")
    if activity.kind in TIMED_KINDS:
        if activity.starts_at is None:
            raise ActivityError(_l("Say when it starts."), "starts_at")
        if activity.ends_at is not None:
            if activity.ends_at < activity.starts_at:
                raise ActivityError(
                    _l("The end must not be before the start."), "ends_at"
                )
            if activity.ends_at - activity.starts_at > MAX_SPAN:
                raise ActivityError(
                    _l("An activity lasts at most 31 days; split longer ones."),
                    "ends_at",
                )
    elif activity.starts_at is not None or activity.ends_at is not None:
        activity.starts_at = activity.ends_at = None
    if activity.remind_at is not None:
        deadline = activity.starts_at or (
            dt.datetime.combine(activity.due_date, dt.time.max)
            if activity.due_date
            else None
        )
        if deadline is not None and activity.remind_at > deadline:
            raise ActivityError(
                _l("The reminder must come before the activity, not after it."),
                "remind_at",
            )
    if activity.status == "done":
        if activity.completed_at is None:
            activity.completed_at = utcnow()
    else:
        activity.completed_at = None


def _set_attendees(
    session: Session,
    activity: Activity,
    colleague_ids: Iterable[int] | None,
    contact_ids: Iterable[int] | None,
) -> None:
    """Set who takes part; a list left as None keeps its current people (a form
    that does not offer contacts leaves the contacts alone)."""
    if colleague_ids is None and contact_ids is None:
        return
    if colleague_ids is None:
        colleague_ids = [a.colleague_id for a in activity.attendees if a.colleague_id]
    if contact_ids is None:
        contact_ids = [a.contact_id for a in activity.attendees if a.contact_id]
    colleague_ids = set(colleague_ids)
    contact_ids = set(contact_ids)
    found_colleagues = set(
        session.scalars(sa.select(Colleague.id).where(Colleague.id.in_(colleague_ids)))
    )
    found_contacts = set(
        session.scalars(sa.select(Contact.id).where(Contact.id.in_(contact_ids)))
    )
    if found_colleagues != colleague_ids or found_contacts != contact_ids:
        raise ActivityError(_l("A chosen attendee no longer exists."), "attendees")
    keep = []
    for attendee in activity.attendees:
        if attendee.colleague_id in colleague_ids:
            colleague_ids.discard(attendee.colleague_id)
            keep.append(attendee)
        elif attendee.contact_id in contact_ids:
            contact_ids.discard(attendee.contact_id)
            keep.append(attendee)
    keep += [ActivityAttendee(colleague_id=i) for i in sorted(colleague_ids)]
    keep += [ActivityAttendee(contact_id=i) for i in sorted(contact_ids)]
    activity.attendees = keep


def create_activity(
    session: Session,
    data: dict[str, Any],
    *,
    related_type: str | None = None,
    related_id: int | None = None,
    colleague_ids: Iterable[int] | None = None,
    contact_ids: Iterable[int] | None = None,
    commit_now: bool = True,
) -> Activity:
    """Create an activity (times in UTC), linked to a record if given; the linked
    record's timeline says so. Nothing is written when a rule refuses it."""
    activity = Activity(status="planned", priority="normal", kind="task")
    apply_changes(activity, data, tuple(f for f in FIELDS if f in data))
    activity.all_day = bool(data.get("all_day"))
    if activity.owner_id is None and "owner_id" not in data:
        activity.owner_id = my_colleague_id(session)
    activity.related_type = related_type or None
    activity.related_id = related_id if related_type else None
    try:
        related = related_record(session, related_type, related_id)
        if related_type and related is None:
            raise ActivityError(_l("The linked record no longer exists."))
        with session.no_autoflush:
            check_activity(session, activity)
            _set_attendees(session, activity, colleague_ids, contact_ids)
        session.add(activity)
        if related is not None:
            record_action(
                related,
                LINK_ACTIONS.get(activity.kind, "add_task"),
                {"subject": activity.subject},
                session=session,
            )
    except Exception:
        session.rollback()
        raise
    if commit_now:
        commit(session)
    return activity


def update_activity(
    session: Session,
    activity: Activity,
    data: dict[str, Any],
    *,
    colleague_ids: Iterable[int] | None = None,
    contact_ids: Iterable[int] | None = None,
) -> Activity:
    apply_changes(activity, data, tuple(f for f in FIELDS if f in data))
    if "all_day" in data:
        activity.all_day = bool(data["all_day"])
    try:
        with session.no_autoflush:
            check_activity(session, activity)
            _set_attendees(session, activity, colleague_ids, contact_ids)
    except Exception:
        session.rollback()
        raise
    commit(session)
    return activity


def complete_activity(
    session: Session, activity: Activity, outcome: str | None = None
) -> Activity:
    if activity.status == "done":
        raise ActivityError(_l("This activity is already done."))
    if activity.status == "cancelled":
        raise ActivityError(_l("A cancelled activity cannot be completed."))
    activity.status = "done"
    if outcome and outcome.strip():
        activity.outcome = outcome.strip()
    try:
        check_activity(session, activity)
    except ActivityError:
        session.rollback()
        raise
    record_action(activity, "complete")
    commit(session)
    return activity


def reschedule(
    session: Session, activity: Activity, day: dt.date, tz: ZoneInfo
) -> Activity:
    """Move an activity to another local day, keeping its time of day and length
    (the calendar's drag and drop). The form's rules apply; a finished activity
    keeps its date."""
    if activity.status in ("done", "cancelled"):
        raise ActivityError(
            _l("A finished or cancelled activity keeps its date; reopen it first.")
        )
    if activity.starts_at is not None:
        start = to_local(activity.starts_at, tz)
        shift = to_utc(dt.datetime.combine(day, start.time()), tz) - activity.starts_at
        activity.starts_at += shift
        if activity.ends_at is not None:
            activity.ends_at += shift
        if activity.remind_at is not None:
            activity.remind_at += shift
    elif activity.due_date is not None:
        shift = day - activity.due_date
        activity.due_date = day
        if activity.remind_at is not None:
            activity.remind_at += shift
    else:
        activity.due_date = day
    try:
        check_activity(session, activity)
    except ActivityError:
        session.rollback()
        raise
    record_action(activity, "reschedule", {"day": day.isoformat()})
    commit(session)
    return activity


# ----------------------------------------------------------------------- queries


def activities_of(
    session: Session, related_type: str, related_id: int, *, limit: int = 10
) -> tuple[list[Activity], list[Activity]]:
    """A record's open activities (soonest first) and its latest finished ones."""
    base = (
        sa.select(Activity)
        .options(selectinload(Activity.owner))
        .where(Activity.related_type == related_type, Activity.related_id == related_id)
    )
    when = sa.func.coalesce(Activity.starts_at, Activity.due_date)
    upcoming = session.scalars(
        base.where(Activity.status.in_(OPEN_STATUSES))
        .order_by(when.is_(None), when, Activity.id)
        .limit(limit)
    ).all()
    past = session.scalars(
        base.where(Activity.status.not_in(OPEN_STATUSES))
        .order_by(
            sa.func.coalesce(Activity.completed_at, when).desc(), Activity.id.desc()
        )
        .limit(limit)
    ).all()
    return list(upcoming), list(past)


def mine(session: Session) -> sa.ColumnElement:
    """Activities of the colleague the student plays: owned or attended.

    The owner test is written so that no index can serve it: a date range is far
    more selective than "mine", and the planner would otherwise read every one of
    the student's activities through the owner index.
    """
    me = my_colleague_id(session)
    attending = sa.select(ActivityAttendee.activity_id).where(
        ActivityAttendee.colleague_id == me
    )
    return sa.or_(
        sa.func.coalesce(Activity.owner_id, 0) == (me or 0),
        Activity.id.in_(attending),
    )


def open_tasks_due(
    session: Session, today: dt.date, *, limit: int
) -> tuple[list[Activity], int]:
    """The student's open activities due today or before (oldest first), and how
    many there are."""
    where = (
        Activity.due_date <= today,
        Activity.status.in_(OPEN_STATUSES),
        Activity.owner_id == my_colleague_id(session),
    )
    total = session.scalar(sa.select(sa.func.count()).where(*where))
    tasks = session.scalars(
        sa.select(Activity)
        .where(*where)
        .order_by(Activity.due_date, Activity.id)
        .limit(limit)
    ).all()
    return list(tasks), total or 0


def reminders_due(session: Session, now: dt.datetime, *, limit: int) -> list[Activity]:
    """The student's open activities whose reminder time has come, while the
    activity is not long past (a day for timed ones; the due day for tasks)."""
    yesterday = now - dt.timedelta(days=1)
    return list(
        session.scalars(
            sa.select(Activity)
            .where(
                Activity.remind_at <= now,
                Activity.status.in_(OPEN_STATUSES),
                Activity.owner_id == my_colleague_id(session),
                sa.or_(
                    Activity.starts_at >= yesterday,
                    sa.and_(
                        Activity.starts_at.is_(None),
                        sa.or_(
                            Activity.due_date.is_(None),
                            Activity.due_date >= yesterday.date(),
                        ),
                    ),
                ),
            )
            .order_by(Activity.remind_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Entry:
    """What the calendar shows of an activity (read as plain columns: a month of a
    busy tenant holds hundreds)."""

    id: int
    kind: str
    subject: str
    status: str
    priority: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    all_day: bool
    due_date: dt.date | None
    outcome: str | None
    owner_name: str | None

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES


ENTRY_COLUMNS = (
    Activity.id,
    Activity.kind,
    Activity.subject,
    Activity.status,
    Activity.priority,
    Activity.starts_at,
    Activity.ends_at,
    Activity.all_day,
    Activity.due_date,
    Activity.outcome,
    Colleague.name,
)


@dataclass(frozen=True)
class CalendarItem:
    """One activity as the calendar shows it on one local day."""

    activity: Entry
    day: dt.date
    start: dt.datetime | None  # local wall-clock time, None for tasks
    end: dt.datetime | None
    continues: bool  # a later day of an activity that started before

    @property
    def sort_key(self) -> tuple:
        timed = self.start is not None and not self.activity.all_day
        return (timed, self.start or dt.datetime.min, self.activity.id)


def in_range(
    session: Session,
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    *,
    owner: str | int | None = "me",
) -> dict[dt.date, list[CalendarItem]]:
    """The activities on each local day from ``first`` to ``last``: only the
    visible range is read (the indexes on ``starts_at`` and ``due_date``)."""
    start_utc = day_start_utc(first, tz)
    end_utc = day_start_utc(last + dt.timedelta(days=1), tz)
    timed = sa.and_(
        Activity.starts_at >= start_utc - MAX_SPAN,
        Activity.starts_at < end_utc,
        sa.func.coalesce(Activity.ends_at, Activity.starts_at) >= start_utc,
    )
    # Only the due day's index: "starts_at IS NULL" would tempt the planner into
    # the start index (every task); timed activities are dropped below instead.
    due = sa.and_(Activity.due_date >= first, Activity.due_date <= last)
    stmt = sa.select(*ENTRY_COLUMNS).outerjoin(
        Colleague, Colleague.id == Activity.owner_id
    )
    if owner == "me":
        stmt = stmt.where(mine(session))
    elif isinstance(owner, int):
        stmt = stmt.where(Activity.owner_id == owner)
    # Two indexed range reads rather than one OR the planner cannot index.
    rows = [
        *session.execute(stmt.where(timed)),
        *(row for row in session.execute(stmt.where(due)) if row.starts_at is None),
    ]
    days: dict[dt.date, list[CalendarItem]] = {}
    utc = dt.timezone.utc
    for row in rows:
        entry = Entry(*row)
        start = end = None
        if entry.starts_at is not None:
            start = entry.starts_at.replace(tzinfo=utc).astimezone(tz)
            start = start.replace(tzinfo=None)
            if entry.ends_at is not None:
                end = entry.ends_at.replace(tzinfo=utc).astimezone(tz)
                end = end.replace(tzinfo=None)
        for n, day in enumerate(local_days(entry, tz, start, end)):
            if first <= day <= last:
                days.setdefault(day, []).append(
                    CalendarItem(entry, day, start, end, n > 0)
                )
    for items in days.values():
        items.sort(key=lambda item: item.sort_key)
    return days


def for_calendar_export(session: Session) -> list[Activity]:
    """Every activity of the student (owned or attended), for the .ics file."""
    return list(
        session.scalars(
            sa.select(Activity)
            .where(mine(session))
            .where(
                sa.or_(Activity.starts_at.is_not(None), Activity.due_date.is_not(None))
            )
            .order_by(Activity.id)
        )
    )
