"""Business hours: adding and counting working time on a company calendar.

Everything here works on naive *local* datetimes (the course's time zone); callers
convert from and to the UTC stored in the database at the edges
(:func:`to_local`, :func:`to_utc`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DAY = dt.timedelta(days=1)
#: No business-hours sum looks further ahead than this (a calendar with no
#: working day at all would otherwise never end).
MAX_DAYS = 3660


@dataclass(frozen=True)
class WorkCalendar:
    """The company's working time: weekdays (Monday = 0), daily hours, holidays."""

    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: dt.time = dt.time(9)
    end: dt.time = dt.time(18)
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The working hours of ``day``, or None on a day off."""
        if not self.is_working_day(day):
            return None
        return dt.datetime.combine(day, self.start), dt.datetime.combine(day, self.end)


def add_business_hours(
    start: dt.datetime, hours: float, calendar: WorkCalendar
) -> dt.datetime:
    """The moment ``hours`` working hours after ``start``.

    Time outside working hours does not count: a case opened on Friday at 17:30 with
    four hours to go is due on Monday at 12:30.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = dt.timedelta(hours=hours)
    if not remaining:
        return start
    day = start.date()
    for _ in range(MAX_DAYS):
        window = calendar.window(day)
        if window is not None:
            begin = max(window[0], start)
            if begin < window[1]:
                available = window[1] - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += DAY
    raise ValueError("the calendar has no working time in the next ten years")


def business_hours_between(
    a: dt.datetime, b: dt.datetime, calendar: WorkCalendar
) -> float:
    """The working hours from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
    if b <= a:
        return 0.0
    total = dt.timedelta(0)
    day = a.date()
    while day <= b.date():
        window = calendar.window(day)
        if window is not None:
            begin, end = max(window[0], a), min(window[1], b)
            if end > begin:
                total += end - begin
        day += DAY
    return total.total_seconds() / 3600


def due_at(
    start: dt.datetime,
    hours: float,
    calendar: WorkCalendar,
    pauses: Iterable[tuple[dt.datetime, dt.datetime | None]] = (),
) -> dt.datetime | None:
    """When ``hours`` working hours after ``start`` are used up, not counting the
    ``pauses`` (start, end) — time pending the customer. None while a pause that
    began before the deadline is still open (the clock is stopped)."""
    due = add_business_hours(start, hours, calendar)
    for begin, end in sorted(pauses, key=lambda p: p[0]):
        if begin >= due:
            break
        if end is None:
            return None
        paused = business_hours_between(begin, end, calendar)
        due = add_business_hours(due, paused, calendar)
    return due


def to_local(moment: dt.datetime, zone: str) -> dt.datetime:
    """A naive UTC datetime as naive local time in ``zone``."""
    aware = moment.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(zone))
    return aware.replace(tzinfo=None)


def to_utc(moment: dt.datetime, zone: str) -> dt.datetime:
    """A naive local time in ``zone`` as naive UTC."""
    aware = moment.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.timezone.utc)
    return aware.replace(tzinfo=None)
