"""Sales reports: pipeline by stage, won sales by month, win/loss by competitor,
leads by source and campaign ROI. Every figure is a SQL aggregate."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.campaigns.service import campaign_results, roi
from sandbox.crm.codes import code_list
from sandbox.crm.reports.framework import (
    MAX_MONTHS,
    TENTH,
    Chart,
    Column,
    Filters,
    Section,
    Table,
    cents,
    month_label,
    months_between,
    per,
    percent,
    raw,
    scaled,
    unindexed,
)
from sandbox.i18n import current_language
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.campaigns import Campaign
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage

ZERO = Decimal("0.00")


def stage_name(name: str, name_zh: str | None) -> str:
    return name_zh if name_zh and current_language() == "zh" else name


def won_on() -> sa.ColumnElement:
    """The day a deal was won: when it was closed, else its close date."""
    return sa.func.coalesce(Opportunity.closed_on, Opportunity.close_date)


def totals_of(rows: list[list], kinds: list[str]) -> list:
    """Sum each number or money column of ``rows`` (the groups SQL returned)."""
    out: list = []
    for index, kind in enumerate(kinds):
        if kind in ("number", "money"):
            out.append(sum((row[index] or 0) for row in rows))
        else:
            out.append(None)
    return out


# ------------------------------------------------------------------ pipeline


def pipeline_by_stage(session: Session, filters: Filters) -> list[Section]:
    """Open deals per stage: how many, their amount and the weighted amount
    (Σ amount × probability)."""
    stage_of = unindexed(Opportunity.stage_id)
    per_stage = (
        sa.select(
            stage_of.label("stage_id"),
            sa.func.count(Opportunity.id).label("count"),
            sa.func.sum(raw(Opportunity.amount)).label("amount"),
            sa.func.sum(raw(Opportunity.amount) * Opportunity.probability).label(
                "weighted"
            ),
        )
        .where(
            *filters.on_date(Opportunity.close_date),
            *filters.by_owner(Opportunity.owner_id),
        )
        .group_by(stage_of)
        .subquery()
    )
    stmt = (
        sa.select(
            Stage.name,
            Stage.name_zh,
            sa.func.coalesce(per_stage.c.count, 0),
            sa.func.coalesce(per_stage.c.amount, 0),
            sa.func.coalesce(per_stage.c.weighted, 0),
        )
        .outerjoin(per_stage, per_stage.c.stage_id == Stage.id)
        .where(Stage.is_closed.is_(False))
        .order_by(Stage.position)
    )
    found = session.execute(stmt).all()
    rows = [
        [stage_name(name, zh), count, cents(amount), scaled(weighted, 10000)]
        for name, zh, count, amount, weighted in found
    ]
    columns = [
        Column("stage", _l("Stage")),
        Column("count", _l("Opportunities"), "number"),
        Column("amount", _l("Amount"), "money"),
        Column("weighted", _l("Weighted amount"), "money"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    # Rounded once over the exact sum, not as the sum of rounded stages.
    totals[3] = scaled(sum(int(row[4]) for row in found), 10000)
    table = Table(columns, rows, totals)
    return [
        Section(
            "stages",
            _l("Open pipeline by stage"),
            table,
            Chart("bar", "stage", ("amount", "weighted")),
        )
    ]


# ------------------------------------------------------------------ won by month


def won_by_month(session: Session, filters: Filters) -> list[Section]:
    """Deals won per calendar month: how many, the amount, the average deal."""
    day = won_on()
    year, month = sa.extract("year", day), sa.extract("month", day)
    stmt = (
        sa.select(
            year,
            month,
            sa.func.count(Opportunity.id),
            sa.func.coalesce(sa.func.sum(raw(Opportunity.amount)), 0),
        )
        .join(Stage, Opportunity.stage_id == Stage.id)
        .where(
            Stage.is_won.is_(True),
            *filters.on_date(day),
            *filters.by_owner(Opportunity.owner_id),
        )
        .group_by(year, month)
        .order_by(year, month)
    )
    found = {(int(y), int(m)): (n, s) for y, m, n, s in session.execute(stmt)}
    note = None
    keys = sorted(found)
    try:
        if filters.start is not None and filters.end is not None:
            months = months_between(filters.start, filters.last_day)
        elif keys:
            months = months_between(dt.date(*keys[0], 1), dt.date(*keys[-1], 1))
        else:
            months = []
    except ValueError:
        # Too many months to list each one: the months with a win still add up
        # to the total.
        months = keys
        note = _l(
            "Only the months with a won deal are listed: the period is longer than "
            "%(years)d years.",
            years=MAX_MONTHS // 12,
        )
    rows = []
    for key in months:
        count, amount = found.get(key, (0, 0))
        total = cents(amount)
        average = per(total, count)
        rows.append([month_label(*key), count, total, average])
    columns = [
        Column("month", _l("Month")),
        Column("count", _l("Deals won"), "number"),
        Column("amount", _l("Amount won"), "money"),
        Column("average", _l("Average deal"), "money"),
    ]
    totals = totals_of(rows, ["text", "number", "money", "text"])
    if totals[1]:
        totals[3] = per(totals[2], totals[1])
    return [
        Section(
            "months",
            _l("Won sales by month"),
            Table(columns, rows, totals),
            Chart("bar", "month", ("amount",)),
            note=note,
        )
    ]


# ------------------------------------------------------------------ competitors


def win_loss_by_competitor(session: Session, filters: Filters) -> list[Section]:
    """Closed deals each competitor took part in (named on the deal, or the one it
    was lost to): won, lost, the win rate and the amounts."""
    # Each (deal, competitor) pair once: named on the deal, or the one it was lost to.
    pairs = sa.union(
        sa.select(
            OpportunityCompetitor.opportunity_id.label("opportunity_id"),
            OpportunityCompetitor.competitor_id.label("competitor_id"),
        ),
        sa.select(Opportunity.id, Opportunity.lost_to_id).where(
            Opportunity.lost_to_id.is_not(None)
        ),
    ).subquery()
    won = Stage.is_won.is_(True)
    amount = raw(Opportunity.amount)
    stmt = (
        sa.select(
            Competitor.name,
            sa.func.count(Opportunity.id),
            sa.func.coalesce(sa.func.sum(sa.case((won, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((won, 0), else_=1)), 0),
            sa.func.coalesce(
                sa.func.sum(
                    sa.case((Opportunity.lost_to_id == Competitor.id, 1), else_=0)
                ),
                0,
            ),
            sa.func.coalesce(sa.func.sum(sa.case((won, amount), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((won, 0), else_=amount)), 0),
        )
        .select_from(pairs)
        .join(Competitor, Competitor.id == pairs.c.competitor_id)
        .join(Opportunity, Opportunity.id == pairs.c.opportunity_id)
        .join(Stage, Opportunity.stage_id == Stage.id)
        .where(
            Stage.is_closed.is_(True),
            *filters.on_date(won_on()),
            *filters.by_owner(Opportunity.owner_id),
        )
        .group_by(Competitor.id)
        .order_by(Competitor.name)
    )
    rows = [
        [name, deals, won_n, lost_n, percent(won_n, deals), lost_to, cents(a), cents(b)]
        for name, deals, won_n, lost_n, lost_to, a, b in session.execute(stmt)
    ]
    columns = [
        Column("competitor", _l("Competitor")),
        Column("deals", _l("Closed deals"), "number"),
        Column("won", _l("Won"), "number"),
        Column("lost", _l("Lost"), "number"),
        Column("win_rate", _l("Win rate (%)"), "percent"),
        Column("lost_to", _l("Lost to them"), "number"),
        Column("won_amount", _l("Amount won"), "money"),
        Column("lost_amount", _l("Amount lost"), "money"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    totals[4] = percent(totals[2], totals[1])
    return [
        Section(
            "competitors",
            _l("Win/loss by competitor"),
            Table(columns, rows, totals),
            Chart("bar", "competitor", ("won", "lost"), stacked=True),
            note=_l(
                "A deal counts for every competitor named on it; a deal with "
                "several competitors appears on several rows."
            ),
        )
    ]


# ------------------------------------------------------------------ leads


def converted_lead() -> sa.ColumnElement:
    return sa.or_(Lead.converted_at.is_not(None), Lead.status == "converted")


def lead_source_rows(session: Session, filters: Filters, segment=None) -> list[list]:
    """Leads per source: how many, qualified, converted, the conversion rate."""
    source = sa.func.coalesce(Lead.source, "")
    converted = converted_lead()
    qualified = sa.or_(converted, Lead.status == "qualified")
    stmt = (
        sa.select(
            source,
            sa.func.count(Lead.id),
            sa.func.coalesce(sa.func.sum(sa.case((qualified, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((converted, 1), else_=0)), 0),
        )
        .where(*filters.on_moment(Lead.created_at), *filters.by_owner(Lead.owner_id))
        .group_by(source)
        .order_by(sa.func.count(Lead.id).desc(), source)
    )
    sources = code_list("lead_source")
    return [
        [
            sources.label_of(code) if code else _("Not specified"),
            leads,
            qualified_n,
            converted_n,
            percent(converted_n, leads),
        ]
        for code, leads, qualified_n, converted_n in session.execute(stmt)
    ]


LEAD_COLUMNS = [
    Column("source", _l("Lead source")),
    Column("leads", _l("Leads"), "number"),
    Column("qualified", _l("Qualified or converted"), "number"),
    Column("converted", _l("Converted"), "number"),
    Column("rate", _l("Conversion rate (%)"), "percent"),
]


def leads_by_source(session: Session, filters: Filters) -> list[Section]:
    rows = lead_source_rows(session, filters)
    totals = totals_of(rows, [c.kind for c in LEAD_COLUMNS])
    totals[4] = percent(totals[3], totals[1])
    return [
        Section(
            "sources",
            _l("Leads by source"),
            Table(LEAD_COLUMNS, rows, totals),
            Chart("bar", "source", ("leads", "converted")),
        )
    ]


# ------------------------------------------------------------------ campaigns


def campaign_roi(session: Session, filters: Filters) -> list[Section]:
    """Each campaign's cost (counted once), the leads and deals it brought, the
    amount won and ROI = (won − actual cost) / actual cost, as the campaign
    module computes them (:func:`campaign_results`)."""
    conditions = [
        *filters.on_date(Campaign.start_date),
        *filters.by_owner(Campaign.owner_id),
    ]
    campaigns = session.execute(
        sa.select(Campaign.id, Campaign.name)
        .where(*conditions)
        .order_by(Campaign.start_date.desc(), Campaign.name)
    ).all()
    results = campaign_results(
        session, [cid for cid, _name in campaigns] if conditions else None
    )
    rows = []
    for cid, name in campaigns:
        result = results[cid]
        rows.append(
            [
                name,
                result.actual_cost or ZERO,
                result.leads,
                result.opportunities,
                result.won_count,
                result.won_amount,
                as_percent(result.roi),
            ]
        )
    columns = [
        Column("campaign", _l("Campaign")),
        Column("cost", _l("Actual cost"), "money"),
        Column("leads", _l("Leads"), "number"),
        Column("deals", _l("Opportunities"), "number"),
        Column("won", _l("Deals won"), "number"),
        Column("won_amount", _l("Amount won"), "money"),
        Column("roi", _l("ROI (%)"), "percent"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    totals[6] = as_percent(roi(totals[5], totals[1]))
    return [
        Section(
            "campaigns",
            _l("Campaign ROI"),
            Table(columns, rows, totals),
            Chart("bar", "campaign", ("cost", "won_amount")),
            note=_l(
                "ROI = (amount won − actual cost) ÷ actual cost. Each campaign's "
                "cost counts once, however many members or deals it has."
            ),
        )
    ]


def as_percent(ratio: Decimal | None) -> Decimal | None:
    """A ratio (0.25) as the percentage the reports show (25.0)."""
    if ratio is None:
        return None
    return (ratio * 100).quantize(TENTH, rounding=ROUND_HALF_UP)
