"""List pages: search, filters, sort and pagination read from the query string.

A list page runs a fixed number of queries whatever its size: one count, one page of
rows (related records joined or loaded in one more query), never one per row. Cells
are rendered here, once per row, so the template does no per-cell work.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, g, request
from markupsafe import Markup, escape

from sandbox.crm.codes import code_list
from sandbox.crm.display import money
from sandbox.crm.registry import ListColumn, Module, get_module
from sandbox.extensions import db

PAGE_SIZES = (10, 20, 50, 100)
NUMERIC = frozenset({"money", "number"})
#: No list has more pages than this; a larger ``?page=`` is the last page.
MAX_PAGE = 10**9
MAX_QUERY_LENGTH = 200


def int_arg(name: str, default: int, *, low: int = 1, high: int = MAX_PAGE) -> int:
    """An integer query parameter clamped to ``[low, high]``; junk gives ``default``."""
    raw = request.args.get(name, "")
    try:
        value = (
            int(raw) if len(raw) <= 20 else (high if raw.strip().isdigit() else default)
        )
    except ValueError:
        return default
    return min(max(value, low), high)


@dataclass(frozen=True)
class ListFilter:
    """A select above the list: ``?<name>=<code>`` keeps rows whose column equals it."""

    name: str
    column: Any
    label: object
    codes: str | None = None
    choices: Callable[[], list[tuple[str, str]]] | None = None

    def options(self) -> list[tuple[str, str]]:
        if self.codes:
            return code_list(self.codes).choices()
        return self.choices() if self.choices else []


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class Listing:
    """What the user asked a list page for, and the page of rows it got."""

    endpoint: str = ""
    path: str = ""
    q: str = ""
    sort: str = ""
    direction: str = "asc"
    filters: dict[str, str] = field(default_factory=dict)
    filter_specs: Sequence[ListFilter] = ()
    columns: Sequence[ListColumn] = ()
    page: Page | None = None
    rows: list[tuple[Any, Markup]] = field(default_factory=list)
    extra_args: dict[str, str] = field(default_factory=dict)

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments keeping this state except for ``changes``."""
        current: dict[str, Any] = {
            "q": self.q,
            "sort": self.sort,
            "dir": self.direction,
            "per_page": self.page.per_page if self.page else None,
            **self.filters,
            **self.extra_args,
        }
        current.update(changes)
        return {k: v for k, v in current.items() if v not in (None, "")}

    def sort_args(self, column: str) -> dict[str, Any]:
        direction = "desc" if self.sort == column and self.direction == "asc" else "asc"
        return self.args(sort=column, dir=direction, page=None)

    def url(self, **changes: Any) -> str:
        """This list's URL with ``changes`` to its state (built without the URL map:
        a list page has a few dozen such links)."""
        query = urlencode(self.args(**changes))
        return f"{self.path}?{query}" if query else self.path

    def sort_url(self, column: str) -> str:
        return self.url(**self.sort_args(column))

    @property
    def searching(self) -> bool:
        return bool(self.q or self.filters)


class ListStatement(Exception):  # noqa: N818 - a result, not an error
    """Raised by :func:`list_records` when the request asked only for its statement.

    An export calls a module's own list view after :func:`want_list_statement`: the
    view builds its joins and filters as usual, and the first list it asks for stops
    here with the filtered, sorted statement instead of a page of rows.
    """

    def __init__(self, statement: sa.Select) -> None:
        super().__init__("the list's statement")
        self.statement = statement


def want_list_statement() -> None:
    """Make this request's next :func:`list_records` raise :class:`ListStatement`."""
    g.want_list_statement = True


def search_condition(q: str, search: Sequence[sa.ColumnElement]) -> sa.ColumnElement:
    """Rows where any of ``search`` contains ``q`` (``%`` and ``_`` are plain text)."""
    escaped = re.sub(r"([\\%_])", r"\\\1", q)
    pattern = f"%{escaped}%"
    return sa.or_(*(column.ilike(pattern, escape="\\") for column in search))


def list_records(
    stmt: sa.Select,
    *,
    search: Sequence[sa.ColumnElement] | Callable[[str], sa.ColumnElement],
    sorts: Mapping[str, sa.ColumnElement],
    default_sort: str,
    filters: Sequence[ListFilter] = (),
    tiebreak: sa.ColumnElement | None = None,
    default_direction: str = "asc",
) -> Listing:
    """Apply the request's ``q``, filters, ``sort``/``dir``, ``page``/``per_page``.

    ``search`` is the columns ``q`` is looked for in, or a function of ``q``
    returning the condition (for searches that are not "contains").
    """
    listing = Listing(
        endpoint=request.endpoint or "",
        path=request.script_root + request.path,
        q=request.args.get("q", "").strip()[:MAX_QUERY_LENGTH],
        filter_specs=filters,
    )
    if listing.q:
        stmt = stmt.where(
            search(listing.q)
            if callable(search)
            else search_condition(listing.q, search)
        )
    for spec in filters:
        value = request.args.get(spec.name, "").strip()[:MAX_QUERY_LENGTH]
        if value:
            listing.filters[spec.name] = value
            stmt = stmt.where(spec.column == value)
    listing.sort = request.args.get("sort", default_sort)
    if listing.sort not in sorts:
        listing.sort = default_sort
    direction = request.args.get("dir", default_direction)
    listing.direction = "desc" if direction == "desc" else "asc"
    order = sorts[listing.sort]
    ordered = order.desc() if listing.direction == "desc" else order.asc()
    if g.pop("want_list_statement", False):
        raise ListStatement(
            stmt.order_by(ordered, *(() if tiebreak is None else (tiebreak,)))
        )
    per_page = int_arg(
        "per_page", current_app.config["PAGE_SIZE"], high=max(PAGE_SIZES)
    )
    if per_page not in PAGE_SIZES:
        per_page = current_app.config["PAGE_SIZE"]
    stmt = stmt.order_by(ordered, *(() if tiebreak is None else (tiebreak,)))

    def page_of(number: int) -> list[Any]:
        offset = (number - 1) * per_page
        return list(db.session.scalars(stmt.limit(per_page).offset(offset)).unique())

    page_number = int_arg("page", 1)
    items = page_of(page_number)
    if page_number == 1 and len(items) < per_page:
        total = len(items)  # a first page that is not full holds everything
    else:
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
        )
        last = max(1, math.ceil(total / per_page))
        if page_number > last:  # past the end: show the last page
            page_number = last
            items = page_of(page_number)
    listing.page = Page(list(items), total, page_number, per_page)
    return listing


def module_listing(
    module: Module,
    stmt: sa.Select | None = None,
    *,
    filters: Sequence[ListFilter] = (),
    search: Sequence[sa.ColumnElement]
    | Callable[[str], sa.ColumnElement]
    | None = None,
    default_direction: str = "asc",
) -> Listing:
    """A module's list page: its columns, each sortable, its search, ``filters``."""
    listing = list_records(
        sa.select(module.model) if stmt is None else stmt,
        search=module.search if search is None else search,
        sorts={c.key: c.sort for c in module.columns},
        default_sort=module.default_sort,
        filters=filters,
        tiebreak=module.model.id,
        default_direction=default_direction,
    )
    listing.columns = module.columns
    listing.rows = render_rows(module, listing.page.items)
    return listing


def render_rows(module: Module, records: Sequence[Any]) -> list[tuple[Any, Markup]]:
    """Each record with its table cells (``<td>`` … ``</td>``) as one piece of markup,
    in the order of ``module.columns``.

    Cells are built as plain strings from escaped values and wrapped once per row:
    this is the hottest loop of every list page.
    """
    renderers = [_cell_renderer(module, c) for c in module.columns]
    opening = [
        '<td class="text-end">' if c.kind in NUMERIC else "<td>" for c in module.columns
    ]
    rows = []
    for record in records:
        cells = "".join(
            f"{start}{render(record)}</td>"
            for start, render in zip(opening, renderers, strict=True)
        )
        rows.append((record, Markup(cells)))  # noqa: S704 - built from escaped parts
    return rows


def _text(value: Any) -> str:
    return "" if value is None else str(escape(value))


def _cell_renderer(module: Module, col: ListColumn) -> Callable[[Any], str]:
    """A function giving a column's cell content for a record, as escaped HTML."""
    read = col.read
    if col.kind == "link":
        url = module.record_url_maker()
        return lambda r: f'<a href="{url(r.id)}">{_text(read(r)) or "—"}</a>'
    if col.kind == "ref":
        target = get_module(col.ref) if col.ref else None
        url = target.record_url_maker() if target else None

        def ref(record: Any) -> str:
            other = read(record)
            if other is None:
                return ""
            name = _text(other.display_name)
            return name if url is None else f'<a href="{url(other.id)}">{name}</a>'

        return ref
    if col.kind == "code":
        codes = code_list(col.codes) if col.codes else None

        def code(record: Any) -> str:
            value = read(record)
            item = codes.get(value) if codes else None
            if item is None:
                return _text(value)
            label = _text(item.label)
            if item.color:
                return f'<span class="badge text-bg-{item.color}">{label}</span>'
            return label

        return code
    if col.kind == "money":
        return lambda r: _text(money(read(r)))
    if col.kind in ("date", "datetime", "number"):
        from flask_babel import format_date, format_datetime, format_decimal

        fmt = {"date": format_date, "datetime": format_datetime}.get(
            col.kind, format_decimal
        )
        return lambda r: _text(fmt(v) if (v := read(r)) is not None else None)
    return lambda r: _text(read(r))
