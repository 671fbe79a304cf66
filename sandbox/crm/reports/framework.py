"""The report framework: filters, tables, charts and the registry of reports.

A report declares its title, the filters it offers and a ``build(session, filters)``
function returning :class:`Section` items: a table computed in SQL (GROUP BY, never
a loop over records) and the chart drawn from that table. The page shows each chart
with its table as the chart's description; the table is what CSV and XLSX export.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from sandbox.i18n import lazy_gettext as _l
from sandbox.models import FIRST_DAY, LAST_DAY

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


# ------------------------------------------------------------------ numbers


def cents(value: Any) -> Decimal:
    """Whole cents from SQL (an integer sum) as an exact amount."""
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def scaled(value: Any, divisor: int) -> Decimal:
    """An integer SQL sum divided exactly, rounded half up to the cent."""
    return (Decimal(int(value or 0)) / divisor).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Any, whole: Any) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (one decimal), None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(
        TENTH, rounding=ROUND_HALF_UP
    )


def per(amount: Decimal, count: int) -> Decimal | None:
    """``amount`` shared over ``count`` (an average), to the cent; None for 0."""
    if not count:
        return None
    return (Decimal(amount) / count).quantize(CENT, rounding=ROUND_HALF_UP)


def unindexed(column: Any) -> sa.ColumnElement:
    """``column`` for GROUP BY without its index (``column + 0``).

    Grouping by an indexed column makes SQLite walk the index and fetch every row
    at random, and a tenant's page cache is kept small (hundreds of tenants share a
    server): reading the table in order and sorting the groups is several times
    faster. NULL stays NULL, so the NULL group is kept.
    """
    return column + 0


def raw(column: Any) -> sa.ColumnElement:
    """A money column as the integer cents it stores, for SQL arithmetic."""
    return sa.type_coerce(column, sa.BigInteger)


# ------------------------------------------------------------------ tables, charts


@dataclass(frozen=True)
class Column:
    """A table column: ``kind`` is ``text``, ``number``, ``money`` or ``percent``."""

    key: str
    label: object
    kind: str = "text"

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass
class Table:
    columns: Sequence[Column]
    rows: list[list[Any]]
    #: The totals row (None where a column has no total), or None for no totals.
    totals: list[Any] | None = None

    def column_values(self, key: str) -> list[Any]:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass
class Chart:
    """What Chart.js draws: ``kind`` bar, line, doughnut or pie; each dataset names
    the table column its numbers come from."""

    kind: str
    #: The column naming each bar (or several, joined with " · ").
    label_column: str | tuple[str, ...]
    series: Sequence[str]
    stacked: bool = False
    horizontal: bool = False

    def spec(self, table: Table, title: str) -> dict[str, Any]:
        names = {c.key: c for c in table.columns}
        keys = (
            (self.label_column,)
            if isinstance(self.label_column, str)
            else tuple(self.label_column)
        )
        parts = [table.column_values(key) for key in keys]
        labels = [
            " · ".join(str(v) for v in values) for values in zip(*parts, strict=True)
        ]
        datasets = []
        for key in self.series:
            column = names[key]
            data = [
                float(v) if v is not None else None for v in table.column_values(key)
            ]
            datasets.append({"label": str(column.label), "data": data})
        return {
            "type": self.kind,
            "title": title,
            "labels": labels,
            "datasets": datasets,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "money": any(names[k].kind == "money" for k in self.series),
            "percent": all(names[k].kind == "percent" for k in self.series),
        }


@dataclass
class Section:
    """One chart and the table behind it."""

    key: str
    title: object
    table: Table
    chart: Chart | None = None
    note: object | None = None

    def chart_spec(self) -> dict[str, Any] | None:
        if self.chart is None or not self.table.rows:
            return None
        return self.chart.spec(self.table, str(self.title))


# ------------------------------------------------------------------ filters

PERIODS = {
    "all": _l("All time"),
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "this_quarter": _l("This quarter"),
    "last_quarter": _l("Last quarter"),
    "next_quarter": _l("Next quarter"),
    "this_year": _l("This year"),
    "last_year": _l("Last year"),
    "last_12_months": _l("Last 12 months"),
    "custom": _l("Custom dates"),
}

#: The longest custom period, in months: a report by month shows each month of
#: it, and a longer period would be a table nobody reads.
MAX_MONTHS = 1200

#: The period of a report on fiscal periods (``?kind=&on=``) rather than dates.
FISCAL = "fiscal"
FISCAL_KINDS = {"quarter": _l("Quarter"), "month": _l("Month")}


def month_start(day: dt.date, months: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_bounds(period: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first day and the day after the last day of a named period."""
    month = month_start(today)
    quarter = month_start(dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1))
    year = dt.date(today.year, 1, 1)
    bounds = {
        "this_month": (month, month_start(month, 1)),
        "last_month": (month_start(month, -1), month),
        "this_quarter": (quarter, month_start(quarter, 3)),
        "last_quarter": (month_start(quarter, -3), quarter),
        "next_quarter": (month_start(quarter, 3), month_start(quarter, 6)),
        "this_year": (year, dt.date(today.year + 1, 1, 1)),
        "last_year": (dt.date(today.year - 1, 1, 1), year),
        "last_12_months": (month_start(month, -11), month_start(month, 1)),
    }
    return bounds.get(period, (None, None))


@dataclass(frozen=True)
class Filters:
    """The filters of one report request, already checked.

    ``start`` is the first day and ``end`` the day after the last (either may be
    None: open); ``errors`` maps a field to the message shown beside it.
    """

    period: str = "all"
    start: dt.date | None = None
    end: dt.date | None = None
    owner_id: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    zone: str = "UTC"
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def last_day(self) -> dt.date | None:
        return self.end - dt.timedelta(days=1) if self.end is not None else None

    def on_date(self, column: Any) -> list[sa.ColumnElement]:
        """Conditions keeping a DATE column inside the period."""
        out = []
        if self.start is not None:
            out.append(column >= self.start)
        if self.end is not None:
            out.append(column < self.end)
        return out

    def on_moment(self, column: Any) -> list[sa.ColumnElement]:
        """Conditions keeping a UTC DATETIME column inside the period's local days."""
        from sandbox.crm.cases.sla import to_utc

        out = []
        if self.start is not None:
            out.append(
                column >= to_utc(dt.datetime.combine(self.start, dt.time()), self.zone)
            )
        if self.end is not None:
            out.append(
                column < to_utc(dt.datetime.combine(self.end, dt.time()), self.zone)
            )
        return out

    def by_owner(self, column: Any) -> list[sa.ColumnElement]:
        return [column == self.owner_id] if self.owner_id is not None else []

    def query_args(self) -> dict[str, str]:
        """The filters as URL arguments (for export links)."""
        args = {"period": self.period, **self.extra}
        if self.period == "custom":
            args["from"] = self.start.isoformat() if self.start else ""
            args["to"] = self.last_day.isoformat() if self.last_day else ""
        if self.owner_id is not None:
            args["owner"] = str(self.owner_id)
        return args


def _parse_day(text: str) -> dt.date:
    return dt.date.fromisoformat(text.strip())


def parse_filters(
    args: Mapping[str, str],
    *,
    default_period: str,
    owners: Sequence[int],
    choices: Mapping[str, Sequence[str]],
    today: dt.date,
    zone: str,
    fiscal_start: int | None = None,
) -> Filters:
    """Read the filters from URL arguments; junk falls back to the defaults, and a
    date that cannot be read is named in ``errors`` instead of failing the page.

    With ``fiscal_start`` (the month the course's fiscal year starts in) the period
    is a month or a fiscal quarter: ``kind`` and ``on`` (any month inside it)."""
    from sandbox.i18n import gettext as _

    errors: dict[str, str] = {}
    extra: dict[str, str] = {}
    period = args.get("period", default_period)
    if period not in PERIODS:
        period = default_period
    start, end = period_bounds(period, today)
    if fiscal_start is not None:
        period = FISCAL
        start, end, extra = _fiscal_period(args, today, fiscal_start, errors)
    elif period == "custom":
        start = end = None
        for name in ("from", "to"):
            text = (args.get(name) or "").strip()
            if not text:
                continue
            try:
                day = _parse_day(text)
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
                continue
            if not FIRST_DAY <= day <= LAST_DAY:
                errors[name] = _(
                    "Enter a date from %(first)s to %(last)s.",
                    first=FIRST_DAY.isoformat(),
                    last=LAST_DAY.isoformat(),
                )
                continue
            if name == "from":
                start = day
            else:
                end = day + dt.timedelta(days=1)
        if start is not None and end is not None and end <= start:
            errors["to"] = _("The end date must not be before the start date.")
            end = None
        elif (
            start is not None
            and end is not None
            and month_span(start, end) > (MAX_MONTHS)
        ):
            errors["to"] = _(
                "Choose a period of at most %(years)d years (%(months)s months), or "
                "All time.",
                years=MAX_MONTHS // 12,
                months=f"{MAX_MONTHS:,}",
            )
            end = None
    owner_id = None
    owner_text = (args.get("owner") or "").strip()
    if owner_text.isdigit() and int(owner_text) in owners:
        owner_id = int(owner_text)
    for name, allowed in choices.items():
        value = args.get(name, allowed[0])
        extra[name] = value if value in allowed else allowed[0]
    return Filters(period, start, end, owner_id, extra, errors, zone, today)


def _fiscal_period(
    args: Mapping[str, str], today: dt.date, fiscal_start: int, errors: dict
) -> tuple[dt.date, dt.date, dict[str, str]]:
    """The month or fiscal quarter named by ``kind`` and ``on`` (``YYYY-MM``);
    the current one when ``on`` is empty or cannot be read."""
    from sandbox.crm.forecasts.service import period_containing
    from sandbox.i18n import gettext as _

    kind = args.get("kind", "quarter")
    if kind not in FISCAL_KINDS:
        kind = "quarter"
    day = today
    text = (args.get("on") or "").strip()[:10]
    if text:
        try:
            day = dt.date.fromisoformat(f"{text[:7]}-01")
            if not 1900 <= day.year <= 9000:
                raise ValueError(text)
        except ValueError:
            day = today
            errors["on"] = _("Enter a month as YYYY-MM.")
    found = period_containing(day, kind, fiscal_start)
    end = found.end + dt.timedelta(days=1)
    return found.start, end, {"kind": kind, "on": found.token}


# ------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class Choice:
    """An extra filter with a fixed set of options (the 7P page's segment)."""

    name: str
    label: object
    options: Sequence[tuple[str, object]]
    #: Shown as tabs above the report (links keeping the other filters) rather
    #: than as a list in the filter form.
    tabs: bool = False


@dataclass(frozen=True)
class Report:
    """A report: its title, what its period applies to, and how it is built."""

    key: str
    title: object
    description: object
    build: Callable[[Any, Filters], list[Section]]
    #: Which date the period filters on ("Close date", "Created on" …).
    period_field: object
    default_period: str = "all"
    owner_filter: bool = True
    choices: Sequence[Choice] = ()
    #: The period is a month or a fiscal quarter (forecasts), not a date range.
    fiscal_periods: bool = False
    group: object = None
    icon: str = "bar-chart"


REPORTS: dict[str, Report] = {}


def define_report(report: Report) -> Report:
    if report.key in REPORTS:
        raise ValueError(f"report {report.key!r} is defined twice")
    REPORTS[report.key] = report
    return report


def get_report(key: str) -> Report:
    """:raise KeyError: no such report; the message lists the known ones."""
    try:
        return REPORTS[key]
    except KeyError:
        known = ", ".join(sorted(REPORTS))
        raise KeyError(f"unknown report {key!r}; known reports: {known}") from None


def month_span(first: dt.date, end: dt.date) -> int:
    """How many calendar months the days from ``first`` to before ``end`` touch."""
    last = end - dt.timedelta(days=1)
    return (last.year - first.year) * 12 + last.month - first.month + 1


def months_between(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """(year, month) pairs from ``first``'s month to ``last``'s, inclusive.

    :raise ValueError: more than :data:`MAX_MONTHS` months (the caller decides
        what to show instead; a table must not end early without saying so).
    """
    index, stop = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    if stop - index + 1 > MAX_MONTHS:
        raise ValueError(f"{first} to {last} is more than {MAX_MONTHS} months")
    return [(i // 12, i % 12 + 1) for i in range(index, stop + 1)]


def month_label(year: int, month: int) -> str:
    from sandbox.i18n import current_language

    if current_language() == "zh":
        return f"{year}年{month}月"
    return f"{calendar.month_abbr[month]} {year}"
