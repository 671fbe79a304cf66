"""Search, filters, sort and pagination for list pages, read from the query string."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from sandbox.extensions import db

PAGE_SIZES = (10, 20, 50, 100)


@dataclass
class Listing:
    """What the user asked a list page for, and the page of rows it got."""

    q: str = ""
    sort: str = ""
    direction: str = "asc"
    filters: dict[str, str] = field(default_factory=dict)
    page: Pagination | None = None

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments keeping this state except for ``changes``."""
        current: dict[str, Any] = {
            "q": self.q,
            "sort": self.sort,
            "dir": self.direction,
            "per_page": self.page.per_page if self.page else None,
            **self.filters,
        }
        current.update(changes)
        return {k: v for k, v in current.items() if v not in (None, "")}

    def sort_args(self, column: str) -> dict[str, Any]:
        direction = "desc" if self.sort == column and self.direction == "asc" else "asc"
        return self.args(sort=column, dir=direction, page=None)


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default


def list_records(
    stmt: sa.Select,
    *,
    search: Sequence[sa.ColumnElement],
    sorts: Mapping[str, sa.ColumnElement],
    default_sort: str,
    filters: Mapping[str, sa.ColumnElement] | None = None,
) -> Listing:
    """Apply the request's ``q``, filters, ``sort``/``dir``, ``page``/``per_page``."""
    listing = Listing(q=request.args.get("q", "").strip()[:200])
    if listing.q:
        # % and _ in what the user typed are text to find, not wildcards.
        escaped = re.sub(r"([\\%_])", r"\\\1", listing.q)
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            sa.or_(*(column.ilike(pattern, escape="\\") for column in search))
        )
    for name, column in (filters or {}).items():
        value = request.args.get(name, "").strip()
        if value:
            listing.filters[name] = value
            stmt = stmt.where(column == value)
    listing.sort = request.args.get("sort", default_sort)
    if listing.sort not in sorts:
        listing.sort = default_sort
    listing.direction = "desc" if request.args.get("dir") == "desc" else "asc"
    order = sorts[listing.sort]
    stmt = stmt.order_by(order.desc() if listing.direction == "desc" else order.asc())
    per_page = _int_arg("per_page", current_app.config["PAGE_SIZE"])
    if per_page not in PAGE_SIZES:
        per_page = current_app.config["PAGE_SIZE"]
    page = max(1, _int_arg("page", 1))
    listing.page = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if listing.page.pages and page > listing.page.pages:
        # A page past the end shows the last page rather than an empty one.
        listing.page = db.paginate(
            stmt, page=listing.page.pages, per_page=per_page, error_out=False
        )
    return listing
