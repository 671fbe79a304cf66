"""URL converters."""

from werkzeug.routing import IntegerConverter

#: The largest value an SQLite INTEGER holds.
SQLITE_MAX_INT = 2**63 - 1


class RecordIdConverter(IntegerConverter):
    """A record id: a positive integer SQLite can hold; anything else is a 404."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=SQLITE_MAX_INT)
