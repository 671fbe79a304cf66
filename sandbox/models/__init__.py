"""Database models: ``control`` (platform tables) and ``crm`` (tenant tables)."""

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in every table."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
