"""URL converters and redirect targets."""

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import request, url_for
from werkzeug.routing import IntegerConverter

#: The largest value an SQLite INTEGER holds.
SQLITE_MAX_INT = 2**63 - 1


def record_id(raw: object) -> int | None:
    """``raw`` as a record id, or None for anything no row can have (junk, zero,
    negatives, numbers past SQLite's INTEGER)."""
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    return value if 1 <= value <= SQLITE_MAX_INT else None


def record_ids(values: Iterable[object]) -> list[int]:
    """The record ids among ``values``, in order; anything else is left out."""
    return [found for found in map(record_id, values) if found is not None]


def record_id_arg(name: str) -> int | None:
    """A record id from the query string; junk or an id no record can have is None."""
    return record_id(request.args.get(name))


class RecordIdConverter(IntegerConverter):
    """A record id: a positive integer SQLite can hold; anything else is a 404."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=SQLITE_MAX_INT)


def local_url(target: str | None, endpoint: str = "main.home") -> str:
    """``target`` if it is a path on this site, else ``endpoint``'s URL (no open
    redirects through ``?next=``, no header injection through control characters)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and target.isprintable()
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for(endpoint)
