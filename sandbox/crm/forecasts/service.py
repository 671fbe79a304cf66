"""Forecast rules: fiscal periods, the live figures computed from opportunities,
quotas, and submitting a forecast (its figures frozen)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import has_request_context
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.service import commit
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Colleague, Money
from sandbox.models.crm.forecasts import ForecastSubmission, Quota
from sandbox.models.crm.sales import Opportunity, Stage
from sandbox.text import is_blank

PERIOD_KINDS = ("month", "quarter")
CENT = Decimal("0.01")
#: Adjustments beyond this are typing mistakes, not forecasts.
MAX_ADJUSTMENT = Decimal(10**12)

define_action(
    "submit_forecast",
    _l(
        "Submitted forecast %(record)s: %(forecast)s "
        "(commit %(commit)s, adjustment %(adjustment)s)"
    ),
)


def message_text(message: object) -> str:
    """A (lazy) message as text: translated in a request, else in English."""
    if has_request_context() or not isinstance(message, LazyString):
        return str(message)
    text, kwargs = message._args[0], message._kwargs
    return text % kwargs if kwargs else text


class ForecastError(ValueError):
    """A forecast rule refused the change; ``field`` names the form field."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return message_text(self.message)


# ---------------------------------------------------------------------- periods


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A month, or a quarter of the fiscal year; ``end`` is its last day."""

    kind: str
    start: dt.date
    fiscal_start: int = 1

    @property
    def end(self) -> dt.date:
        months = 3 if self.kind == "quarter" else 1
        return _add_months(self.start, months) - dt.timedelta(days=1)

    @property
    def fiscal_year(self) -> int:
        """Fiscal years are named after the calendar year they start in."""
        offset = (self.start.month - self.fiscal_start) % 12
        return _add_months(self.start, -offset).year

    @property
    def quarter(self) -> int:
        return (self.start.month - self.fiscal_start) % 12 // 3 + 1

    @property
    def label(self) -> str:
        """``2026-11`` for a month, ``FY2026 Q2`` for a quarter (any language)."""
        if self.kind == "quarter":
            return f"FY{self.fiscal_year} Q{self.quarter}"
        return f"{self.start:%Y-%m}"

    @property
    def months(self) -> list[dt.date]:
        count = 3 if self.kind == "quarter" else 1
        return [_add_months(self.start, n) for n in range(count)]

    def shifted(self, steps: int) -> Period:
        months = steps * (3 if self.kind == "quarter" else 1)
        return Period(self.kind, _add_months(self.start, months), self.fiscal_start)

    @property
    def token(self) -> str:
        """How the period is named in a URL (``?on=``)."""
        return f"{self.start:%Y-%m}"


def period_containing(day: dt.date, kind: str, fiscal_start: int = 1) -> Period:
    """The month, or the fiscal quarter, that ``day`` falls in.

    :raise ValueError: an unknown kind or a fiscal start outside 1–12.
    """
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    if not 1 <= fiscal_start <= 12:
        raise ValueError(f"a fiscal year cannot start in month {fiscal_start}")
    first = day.replace(day=1)
    if kind == "month":
        return Period("month", first, fiscal_start)
    offset = (day.month - fiscal_start) % 3
    return Period("quarter", _add_months(first, -offset), fiscal_start)


def fiscal_year_months(year: int, fiscal_start: int = 1) -> list[dt.date]:
    """The first day of each month of fiscal year ``year``."""
    return [_add_months(dt.date(year, fiscal_start, 1), n) for n in range(12)]


def course_fiscal_start() -> int:
    """The month the course's fiscal year starts in (1 outside a request)."""
    from sandbox.tenancy import current_handle

    handle = current_handle() if has_request_context() else None
    month = handle.fiscal_year_start if handle is not None else 1
    return month if month and 1 <= month <= 12 else 1


def course_today() -> dt.date:
    """Today in the course's time zone."""
    from sandbox.tenancy import current_handle

    handle = current_handle() if has_request_context() else None
    zone = handle.timezone if handle is not None else "UTC"
    return dt.datetime.now(ZoneInfo(zone)).date()


# ---------------------------------------------------------------------- figures


@dataclass(frozen=True)
class ForecastFigures:
    """A period's forecast for one colleague or the whole team.

    Categories are cumulative: ``commit`` includes ``closed`` and ``best_case``
    includes ``commit``. ``pipeline`` is the open deals of the pipeline category
    alone.
    """

    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted_pipeline: Decimal
    quota: Decimal | None

    @property
    def attainment(self) -> Decimal | None:
        """Closed ÷ quota, to four decimals (None without a quota)."""
        if not self.quota:
            return None
        return (self.closed / self.quota).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    @property
    def gap(self) -> Decimal | None:
        """Quota − closed: what is still to win (negative once exceeded)."""
        return None if self.quota is None else self.quota - self.closed


def _cents(column: sa.ColumnElement) -> sa.ColumnElement:
    return sa.type_coerce(column, sa.BigInteger)


def _money(cents: int | Decimal | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def forecast_figures(
    session: Session,
    period_start: dt.date,
    period_end: dt.date,
    owner_id: int | None = None,
) -> ForecastFigures:
    """The live forecast of deals owned by ``owner_id`` (everyone's when None)
    between ``period_start`` and ``period_end``, both days included.

    * closed: won deals whose ``closed_on`` falls in the period;
    * commit = closed + open deals of the commit category closing in the period;
    * best case = commit + open deals of the best-case category;
    * pipeline: open deals of the pipeline category;
    * weighted pipeline: Σ amount × probability / 100 over the open deals closing
      in the period, except those the owner omitted from the forecast;
    * quota: see :func:`quota_for`.

    One query for the deals, one for the quota.
    """
    amount = sa.func.coalesce(_cents(Opportunity.amount), 0)
    won = sa.and_(Stage.is_won, Opportunity.closed_on.between(period_start, period_end))
    open_in = sa.and_(
        sa.not_(Stage.is_closed),
        Opportunity.close_date.between(period_start, period_end),
    )

    def total(condition: sa.ColumnElement, value=amount) -> sa.ColumnElement:
        return sa.func.coalesce(sa.func.sum(value).filter(condition), 0)

    def category(code: str) -> sa.ColumnElement:
        return total(sa.and_(open_in, Opportunity.forecast_category == code))

    stmt = (
        sa.select(
            total(won),
            category("commit"),
            category("best_case"),
            category("pipeline"),
            total(
                sa.and_(open_in, Opportunity.forecast_category != "omitted"),
                amount * Opportunity.probability,
            ),
        )
        .select_from(Opportunity)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(sa.or_(won, open_in))
    )
    if owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == owner_id)
    closed, commit_only, best_only, pipeline, weighted = session.execute(stmt).one()
    closed_amount = _money(closed)
    commit_amount = closed_amount + _money(commit_only)
    return ForecastFigures(
        closed=closed_amount,
        commit=commit_amount,
        best_case=commit_amount + _money(best_only),
        pipeline=_money(pipeline),
        weighted_pipeline=_money(Decimal(weighted) / 100),
        quota=quota_for(session, period_start, period_end, owner_id),
    )


def quota_for(
    session: Session,
    period_start: dt.date,
    period_end: dt.date,
    owner_id: int | None = None,
) -> Decimal | None:
    """The quota of ``owner_id`` (the whole team's when None) for the period.

    The rule: each quarter quota lying wholly inside the period counts, and each
    month quota inside it counts unless a quarter quota of the same colleague
    covers that month. So a quarter without its own quota has the sum of its
    months' quotas, and a quarter quota, once set, wins over its months. The
    team's quota is the sum of its colleagues'. None when no quota applies.
    """
    stmt = sa.select(Quota).where(Quota.start.between(period_start, period_end))
    if owner_id is not None:
        stmt = stmt.where(Quota.colleague_id == owner_id)
    rows = list(session.scalars(stmt))
    if not rows:
        return None
    covered = set()
    total = Decimal("0")
    counted = False
    for row in rows:
        if row.period_kind != "quarter":
            continue
        months = Period("quarter", row.start).months
        if _add_months(row.start, 3) - dt.timedelta(days=1) > period_end:
            continue
        covered.update((row.colleague_id, m) for m in months)
        total += row.amount
        counted = True
    for row in rows:
        if row.period_kind == "month" and (row.colleague_id, row.start) not in covered:
            total += row.amount
            counted = True
    return total if counted else None


# ----------------------------------------------------------------------- quotas


def quota_grid(
    session: Session, months: list[dt.date]
) -> dict[tuple[int, str, dt.date], Decimal]:
    """The quotas set between the first and last of ``months``:
    ``(colleague id, kind, start) -> amount``."""
    rows = session.scalars(
        sa.select(Quota).where(Quota.start.between(months[0], months[-1]))
    )
    return {(q.colleague_id, q.period_kind, q.start): q.amount for q in rows}


def set_quotas(
    session: Session,
    entries: Iterable[tuple[int, str, dt.date, Decimal | None]],
) -> int:
    """Save quotas: each entry is ``(colleague id, kind, start, amount)``; an
    amount of None removes that quota. Each change is audited. Returns how many
    quotas changed.

    :raise ForecastError: an unknown colleague or period kind, or a negative
        amount; nothing is written.
    """
    entries = list(entries)
    if not entries:
        return 0
    colleagues = set(session.scalars(sa.select(Colleague.id)))
    existing = {
        (q.colleague_id, q.period_kind, q.start): q
        for q in session.scalars(
            sa.select(Quota).where(
                Quota.start.in_({start for _, _, start, _ in entries})
            )
        )
    }
    changed = 0
    try:
        for colleague_id, kind, start, amount in entries:
            if colleague_id not in colleagues:
                raise ForecastError(_l("The chosen colleague no longer exists."))
            if kind not in PERIOD_KINDS:
                raise ForecastError(_l("Choose a month or a quarter."))
            if amount is not None and amount < 0:
                raise ForecastError(_l("A quota cannot be negative."))
            row = existing.get((colleague_id, kind, start))
            if amount is None:
                if row is not None:
                    session.delete(row)
                    changed += 1
            elif row is None:
                session.add(
                    Quota(
                        colleague_id=colleague_id,
                        period_kind=kind,
                        start=start,
                        amount=amount,
                    )
                )
                changed += 1
            elif row.amount != amount:
                row.amount = amount
                changed += 1
    except Exception:
        session.rollback()
        raise
    commit(session)
    return changed


# ------------------------------------------------------------------ submissions


def submit_forecast(
    session: Session,
    period: Period,
    owner_id: int | None,
    *,
    adjustment: Decimal | None = None,
    reason: str | None = None,
    comment: str | None = None,
) -> ForecastSubmission:
    """Submit the period's forecast for ``owner_id`` (the team when None): the
    live figures are copied into the submission, so later changes to deals leave
    it as it was. The forecast stood behind is commit + adjustment.

    :raise ForecastError: an adjustment without a reason, an adjustment too large
        or taking the forecast below 0, or an unknown colleague; nothing is written.
    """
    adjustment = (adjustment or Decimal("0")).quantize(CENT)
    if abs(adjustment) >= MAX_ADJUSTMENT:
        raise ForecastError(_l("The adjustment is too large."), "adjustment")
    reason = None if is_blank(reason) else reason.strip()
    if adjustment and reason is None:
        raise ForecastError(
            _l("Say why you adjust the forecast (required when it is not 0)."),
            "reason",
        )
    if owner_id is not None and session.get(Colleague, owner_id) is None:
        raise ForecastError(_l("The chosen colleague no longer exists."), "owner")
    figures = forecast_figures(session, period.start, period.end, owner_id)
    if figures.commit + adjustment < 0:
        raise ForecastError(
            _l(
                "The forecast cannot be below 0: with Commit at %(commit)s, lower it "
                "by at most %(commit)s.",
                commit=f"{figures.commit:,.2f}",
            ),
            "adjustment",
        )
    submission = ForecastSubmission(
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        period_label=period.label,
        owner_id=owner_id,
        closed=figures.closed,
        commit_amount=figures.commit,
        best_case=figures.best_case,
        pipeline=figures.pipeline,
        weighted_pipeline=figures.weighted_pipeline,
        quota=figures.quota,
        adjustment=adjustment,
        forecast=figures.commit + adjustment,
        reason=reason,
        comment=None if is_blank(comment) else comment.strip(),
        submitted_at=utcnow(),
    )
    session.add(submission)
    try:
        record_action(
            submission,
            "submit_forecast",
            {
                "forecast": f"{submission.forecast:,.2f}",
                "commit": f"{figures.commit:,.2f}",
                "adjustment": f"{adjustment:+,.2f}",
                "period": period.label,
                "owner_id": owner_id,
                "reason": reason or "",
            },
        )
    except Exception:
        session.rollback()
        raise
    commit(session)
    return submission


def outcome_expression() -> sa.ColumnElement:
    """What was actually won in a submission's period by its owner (the team's
    when it has none), as SQL correlated to each ``forecast_submission`` row."""
    sub = ForecastSubmission
    won = (
        sa.select(sa.func.coalesce(sa.func.sum(_cents(Opportunity.amount)), 0))
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(
            Stage.is_won,
            Opportunity.closed_on.between(sub.period_start, sub.period_end),
            sa.or_(sub.owner_id.is_(None), Opportunity.owner_id == sub.owner_id),
        )
        .correlate(sub)
        .scalar_subquery()
    )
    return sa.type_coerce(won, Money)


def submissions_with_outcome(session: Session) -> sa.Select:
    """Submissions, each with its ``outcome`` loaded in the same query."""
    return sa.select(ForecastSubmission).options(
        sa.orm.with_expression(ForecastSubmission.outcome, outcome_expression())
    )
