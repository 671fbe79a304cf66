"""Database models: ``control`` (platform tables) and ``crm`` (tenant tables)."""

from datetime import date, datetime, timezone

#: The days the product works with (records, report periods, calendars, scenario
#: builds): a date picker offers up to 9999-12-31, past the last date Python adds
#: a day to, so every date a user can send is held to this range.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in every table."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
