"""List pages: search, filters, sort and pagination read from the query string.

A list page runs a fixed number of queries whatever its size: one count, one page of
rows (related records joined or loaded in one more query), never one per row. Cells
are rendered here, once per row, so the template does no per-cell work.
"""

from __future__ import annotations

import datetime as dt
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
    #: The module-wide filters asked for (``mine``, ``created``, ``changed``).
    presets: dict[str, str] = field(default_factory=dict)
    #: The column keys chosen with ``?cols=`` (empty: every column).
    chosen_columns: tuple[str, ...] = ()
    all_columns: Sequence[ListColumn] = ()

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments keeping this state except for ``changes``."""
        current: dict[str, Any] = {
            "q": self.q,
            "sort": self.sort,
            "dir": self.direction,
            "per_page": self.page.per_page if self.page else None,
            **self.filters,
            **self.extra_args,
            **self.presets,
            "cols": ",".join(self.chosen_columns),
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
        return bool(self.q or self.filters or self.presets)

    def kept_args(self) -> dict[str, str]:
        """What a new search keeps of this list: its presets and chosen columns."""
        kept = dict(self.presets)
        if self.chosen_columns:
            kept["cols"] = ",".join(self.chosen_columns)
        return kept


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


#: A search looks for at most this many words; the rest of the query is ignored.
MAX_SEARCH_WORDS = 8


def search_words(q: str) -> list[str]:
    """The words of a search, each looked for on its own (at most
    :data:`MAX_SEARCH_WORDS`, repeats dropped)."""
    return list(dict.fromkeys(q.split()))[:MAX_SEARCH_WORDS]


def contains_pattern(word: str) -> str:
    """A LIKE pattern (escape ``\\``) for text containing ``word``: ``%`` and ``_``
    in it are plain text."""
    escaped = re.sub(r"([\\%_])", r"\\\1", word)
    return f"%{escaped}%"


def search_condition(q: str, search: Sequence[sa.ColumnElement]) -> sa.ColumnElement:
    """Rows where each word of ``q`` is in one of ``search``: "Boyd Shanghai" finds
    Boyd PLC in Shanghai, as "Boyd" alone does."""
    return sa.and_(
        *(
            sa.or_(*(c.ilike(contains_pattern(word), escape="\\") for c in search))
            for word in search_words(q)
        )
    )


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
    """A module's list page: its columns, each sortable, its search, ``filters``,
    the presets every module offers (see :func:`preset_conditions`) and the
    columns chosen with ``?cols=``."""
    presets, conditions = preset_conditions(module)
    stmt = sa.select(module.model) if stmt is None else stmt
    if conditions:
        stmt = stmt.where(*conditions)
    sorts = {c.key: c.sort for c in module.columns}
    for key, attr in (("created", "created_at"), ("updated", "updated_at")):
        if hasattr(module.model, attr):
            sorts.setdefault(key, getattr(module.model, attr))
    listing = list_records(
        stmt,
        search=module.search if search is None else search,
        sorts=sorts,
        default_sort=module.default_sort,
        filters=filters,
        tiebreak=module.model.id,
        default_direction=default_direction,
    )
    listing.presets = presets
    listing.all_columns = module.columns
    listing.chosen_columns = chosen_columns(module)
    listing.columns = [
        c
        for c in module.columns
        if not listing.chosen_columns or c.key in listing.chosen_columns
    ]
    listing.rows = render_rows(module, listing.page.items, listing.columns)
    return listing


#: ``?created=`` and ``?changed=`` periods.
PERIODS = ("today", "week", "month", "7d", "30d")


def period_start(period: str) -> dt.datetime:
    """The UTC moment a period began, counted in the course's time zone."""
    from flask_babel import get_timezone

    zone = get_timezone() or dt.UTC
    now = dt.datetime.now(zone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = {
        "today": midnight,
        "week": midnight - dt.timedelta(days=now.weekday()),
        "month": midnight.replace(day=1),
        "7d": now - dt.timedelta(days=7),
        "30d": now - dt.timedelta(days=30),
    }[period]
    return start.astimezone(dt.UTC).replace(tzinfo=None)


def mine_condition(module: Module) -> sa.ColumnElement:
    """The student's records: those they own, or (without owners) created."""
    from sandbox.crm.service import my_colleague_id
    from sandbox.models.crm import AuditLog, current_actor

    model = module.model
    if hasattr(model, "owner_id"):
        me = my_colleague_id(db.session)
        return model.owner_id == me if me is not None else sa.false()
    created = sa.select(AuditLog.entity_id).where(
        AuditLog.entity == module.entity,
        AuditLog.action == "create",
        AuditLog.actor == current_actor(),
    )
    return model.id.in_(created)


def preset_conditions(module: Module) -> tuple[dict[str, str], list]:
    """The filters every module's list offers: ``?mine=1`` (my records),
    ``?created=<period>`` and ``?changed=<period>`` (see :data:`PERIODS`)."""
    model = module.model
    presets: dict[str, str] = {}
    conditions = []
    if request.args.get("mine") == "1":
        presets["mine"] = "1"
        conditions.append(mine_condition(module))
    for name, attr in (("created", "created_at"), ("changed", "updated_at")):
        period = request.args.get(name, "")
        if period in PERIODS and hasattr(model, attr):
            presets[name] = period
            conditions.append(getattr(model, attr) >= period_start(period))
    return presets, conditions


def chosen_columns(module: Module) -> tuple[str, ...]:
    """The column keys ``?cols=`` asks for, in the module's order (all if none)."""
    asked = {
        key.strip()
        for value in request.args.getlist("cols")[:50]
        for key in value[:MAX_QUERY_LENGTH].split(",")
    }
    keys = tuple(c.key for c in module.columns if c.key in asked)
    return () if len(keys) == len(module.columns) else keys


def render_rows(
    module: Module,
    records: Sequence[Any],
    columns: Sequence[ListColumn] | None = None,
) -> list[tuple[Any, Markup]]:
    """Each record with its table cells (``<td>`` … ``</td>``) as one piece of markup,
    in the order of ``columns`` (default: ``module.columns``).

    Cells are built as plain strings from escaped values and wrapped once per row:
    this is the hottest loop of every list page.
    """
    columns = module.columns if columns is None else columns
    renderers = [_cell_renderer(module, c) for c in columns]
    opening = [_cell_opening(c) for c in columns]
    rows = []
    for record in records:
        cells = "".join(
            f"{start}{render(record)}</td>"
            for start, render in zip(opening, renderers, strict=True)
        )
        rows.append((record, Markup(cells)))  # noqa: S704 - built from escaped parts
    return rows


def _cell_opening(col: ListColumn) -> str:
    """Numbers align right; numbers, dates, times and ``nowrap`` columns never
    break over two lines."""
    if col.kind in NUMERIC:
        return '<td class="text-end text-nowrap">'
    if col.nowrap or col.kind in ("date", "datetime"):
        return '<td class="text-nowrap">'
    return "<td>"


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
