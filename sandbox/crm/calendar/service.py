"""Calendar pages' data, the iCalendar export and the work diary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.activities import service as activities
from sandbox.crm.service import commit
from sandbox.models.crm.activities import DiaryEntry

VIEWS = ("month", "week", "day", "list")
ICS_STATUS = {"planned": "CONFIRMED", "in_progress": "CONFIRMED", "done": "CONFIRMED"}
TODO_STATUS = {
    "planned": "NEEDS-ACTION",
    "in_progress": "IN-PROCESS",
    "done": "COMPLETED",
    "cancelled": "CANCELLED",
}
ICS_PRIORITY = {"high": 1, "normal": 5, "low": 9}


@dataclass(frozen=True)
class Period:
    """The days a calendar view shows, and where its arrows lead."""

    view: str
    day: dt.date  # the day the user asked for
    first: dt.date
    last: dt.date
    previous: dt.date
    next: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [
            self.first + dt.timedelta(days=n)
            for n in range((self.last - self.first).days + 1)
        ]

    @property
    def weeks(self) -> list[list[dt.date]]:
        days = self.days
        return [days[i : i + 7] for i in range(0, len(days), 7)]


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    return dt.date(year, month % 12 + 1, 1)


def period(view: str, day: dt.date, first_weekday: int = 0) -> Period:
    """The days of ``view`` around ``day``; weeks start on ``first_weekday``
    (0 = Monday, as in China; 6 = Sunday, as in the United States)."""
    if view not in VIEWS:
        view = "month"

    def week_start(d: dt.date) -> dt.date:
        return d - dt.timedelta(days=(d.weekday() - first_weekday) % 7)

    if view == "day":
        one = dt.timedelta(days=1)
        return Period(view, day, day, day, day - one, day + one)
    if view == "week":
        first = week_start(day)
        week = dt.timedelta(days=7)
        return Period(
            view, day, first, first + dt.timedelta(days=6), day - week, day + week
        )
    month_first = day.replace(day=1)
    month_last = _add_months(day, 1) - dt.timedelta(days=1)
    if view == "list":
        return Period(
            view,
            day,
            month_first,
            month_last,
            _add_months(day, -1),
            _add_months(day, 1),
        )
    first = week_start(month_first)
    last = week_start(month_last) + dt.timedelta(days=6)
    return Period(view, day, first, last, _add_months(day, -1), _add_months(day, 1))


# --------------------------------------------------------------------- iCalendar


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc)


def ics_calendar(
    session: Session, tz: ZoneInfo, *, name: str, uid_domain: str
) -> bytes:
    """The student's activities as an iCalendar file: meetings, calls and events
    as VEVENTs (all-day ones as dates), tasks as VTODOs with their due day."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//CRM Sandbox//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(tz.key))
    for activity in activities.for_calendar_export(session):
        stamp = _utc(activity.updated_at or activity.created_at)
        if activity.starts_at is not None:
            item = icalendar.Event()
            if activity.all_day:
                days = activities.local_days(activity, tz)
                item.add("dtstart", days[0])
                item.add("dtend", days[-1] + dt.timedelta(days=1))
            else:
                item.add("dtstart", _utc(activity.starts_at))
                item.add("dtend", _utc(activity.ends_at or activity.starts_at))
            item.add(
                "status",
                "CANCELLED"
                if activity.status == "cancelled"
                else ICS_STATUS.get(activity.status, "CONFIRMED"),
            )
        else:
            item = icalendar.Todo()
            item.add("due", activity.due_date)
            item.add("status", TODO_STATUS.get(activity.status, "NEEDS-ACTION"))
            if activity.completed_at:
                item.add("completed", _utc(activity.completed_at))
        item.add("uid", f"activity-{activity.id}@{uid_domain}")
        item.add("dtstamp", stamp)
        item.add("summary", activity.subject)
        item.add("categories", [activity.kind])
        item.add("priority", ICS_PRIORITY.get(activity.priority, 5))
        if activity.location:
            item.add("location", activity.location)
        if activity.description:
            item.add("description", activity.description)
        if activity.remind_at is not None:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", activity.subject)
            alarm.add("trigger", _utc(activity.remind_at))
            item.add_component(alarm)
        cal.add_component(item)
    return cal.to_ical()


# ------------------------------------------------------------------- work diary


def diary_entry(session: Session, day: dt.date) -> DiaryEntry | None:
    return session.scalar(sa.select(DiaryEntry).where(DiaryEntry.day == day))


def save_diary(session: Session, day: dt.date, notes: str) -> DiaryEntry | None:
    """Keep the student's notes for ``day`` (one entry a day; the day's activities
    are listed beside them, not copied). Blank notes on a day without an entry
    write nothing."""
    notes = (notes or "").strip()
    entry = diary_entry(session, day)
    if entry is None:
        if not notes:
            return None
        entry = DiaryEntry(day=day, notes=notes)
        session.add(entry)
    elif entry.notes == notes:
        return entry
    else:
        entry.notes = notes
    commit(session)
    return entry


def day_activities(session: Session, day: dt.date, tz: ZoneInfo) -> list:
    """The student's activities on local day ``day``, in time order."""
    return activities.in_range(session, day, day, tz).get(day, [])
