"""Forecast vs quota: each colleague's quota against the live forecast of a month
or fiscal quarter, as the forecasts module computes it (:func:`forecast_figures`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.forecasts.service import (
    ForecastFigures,
    Period,
    course_fiscal_start,
    forecast_figures,
)
from sandbox.crm.reports.framework import TENTH, Chart, Column, Filters, Section, Table
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.sales import Opportunity
from sandbox.models.crm.team import Colleague

COLUMNS = [
    Column("colleague", _l("Colleague")),
    Column("quota", _l("Quota"), "money"),
    Column("closed", _l("Closed"), "money"),
    Column("commit", _l("Commit"), "money"),
    Column("best_case", _l("Best case"), "money"),
    Column("pipeline", _l("Pipeline"), "money"),
    Column("weighted", _l("Weighted pipeline"), "money"),
    Column("attainment", _l("Attainment (%)"), "percent"),
    Column("gap", _l("Gap to quota"), "money"),
]
AMOUNTS = ("closed", "commit", "best_case", "pipeline", "weighted_pipeline")


def figures_row(label: str, figures: ForecastFigures) -> list:
    attainment = figures.attainment
    return [
        label,
        figures.quota,
        figures.closed,
        figures.commit,
        figures.best_case,
        figures.pipeline,
        figures.weighted_pipeline,
        None
        if attainment is None
        else (attainment * 100).quantize(TENTH, rounding=ROUND_HALF_UP),
        figures.gap,
    ]


def _is_empty(figures: ForecastFigures) -> bool:
    return figures.quota is None and not any(getattr(figures, a) for a in AMOUNTS)


def _has_unowned_deals(session: Session, start, last) -> bool:
    """Whether a deal nobody owns closes (or was won) in the period."""
    in_period = sa.or_(
        Opportunity.close_date.between(start, last),
        Opportunity.closed_on.between(start, last),
    )
    return session.scalar(
        sa.select(sa.exists().where(Opportunity.owner_id.is_(None), in_period))
    )


def forecast_vs_quota(session: Session, filters: Filters) -> list[Section]:
    """One row per colleague (active ones, and former ones with figures in the
    period), the team's figures as the totals; deals without an owner, if any,
    get a row of their own (the team's figures less the colleagues') so the rows
    add up to the totals."""
    start, last = filters.start, filters.last_day
    colleagues = session.execute(
        sa.select(Colleague.id, Colleague.name, Colleague.active)
        .where(*filters.by_owner(Colleague.id))
        .order_by(Colleague.name)
    ).all()
    rows = []
    listed = []
    for colleague_id, name, active in colleagues:
        figures = forecast_figures(session, start, last, colleague_id)
        if active or not _is_empty(figures) or filters.owner_id is not None:
            rows.append(figures_row(name, figures))
        listed.append(figures)
    if filters.owner_id is not None:
        team = listed[0]
    else:
        team = forecast_figures(session, start, last)
    if filters.owner_id is None and _has_unowned_deals(session, start, last):
        unowned = ForecastFigures(
            **{
                a: getattr(team, a) - sum((getattr(f, a) for f in listed), Decimal())
                for a in AMOUNTS
            },
            quota=None,
        )
        rows.append(figures_row(_("No owner"), unowned))
    period = Period(filters.extra.get("kind", "quarter"), start, course_fiscal_start())
    return [
        Section(
            "forecast",
            _("Forecast vs quota, %(period)s", period=period.label),
            Table(COLUMNS, rows, figures_row("", team)),
            Chart("bar", "colleague", ("quota", "closed", "commit")),
            note=_l(
                "Commit includes closed and best case includes commit; pipeline is "
                "the open deals of the pipeline category alone. Attainment = "
                "closed ÷ quota; gap = quota − closed."
            ),
        )
    ]
