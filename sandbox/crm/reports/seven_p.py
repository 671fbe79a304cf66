"""The 7P customer analysis (TurboCRM, M6): Profiling, Persistence, Profitability,
Performance, Prospecting, Product and Promotion, each a chart and its table.

The segment filter (industry, company size or region) applies to every analysis
"per segment"; the period applies to the day deals were won, and to the day
accounts, leads and campaign members were created.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.reports.customers import (
    SEGMENTS,
    account_segment,
    customer_segments,
    segment_expression,
    segment_label,
    segment_order,
)
from sandbox.crm.reports.framework import (
    Chart,
    Column,
    Filters,
    Section,
    Table,
    cents,
    per,
    percent,
    raw,
    scaled,
    unindexed,
)
from sandbox.crm.reports.sales import (
    LEAD_COLUMNS,
    lead_source_rows,
    totals_of,
    won_on,
)
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.products import Product, ProductCategory
from sandbox.models.crm.sales import LineItem, Opportunity, Stage
from sandbox.models.crm.team import Colleague

SEGMENT_CHOICES = ("industry", "size", "region")
TOP_CUSTOMERS = 10


def _won_deals(filters: Filters) -> list[sa.ColumnElement]:
    return [
        Stage.is_won.is_(True),
        *filters.on_date(won_on()),
        *filters.by_owner(Opportunity.owner_id),
    ]


def _segment(filters: Filters) -> str:
    return filters.extra.get("segment", "industry")


# ------------------------------------------------------------------ Profiling


def profiling(session: Session, filters: Filters) -> Section:
    kind = _segment(filters)
    return Section(
        "profiling",
        _l("Profiling: customer segments"),
        customer_segments(session, filters, kind),
        Chart("doughnut", "segment", ("accounts",)),
        note=_l("Who the customers are: accounts per segment and what they bought."),
    )


# ------------------------------------------------------------------ Persistence


def quarter_of(day: sa.ColumnElement) -> sa.ColumnElement:
    """A number naming a day's calendar quarter (year × 10 + quarter)."""
    month = sa.extract("month", day)
    return sa.extract("year", day) * 10 + (month + 2) // 3


def persistence(session: Session, filters: Filters) -> Section:
    """Accounts by the number of quarters they bought in: more than one is repeat
    business."""
    per_account = (
        sa.select(
            unindexed(Opportunity.account_id).label("account_id"),
            sa.func.count(sa.distinct(quarter_of(won_on()))).label("quarters"),
            sa.func.count(Opportunity.id).label("deals"),
            sa.func.sum(raw(Opportunity.amount)).label("amount"),
        )
        .join(Stage, Opportunity.stage_id == Stage.id)
        .where(*_won_deals(filters))
        .group_by(unindexed(Opportunity.account_id))
        .subquery()
    )
    stmt = (
        sa.select(
            per_account.c.quarters,
            sa.func.count(per_account.c.account_id),
            sa.func.sum(per_account.c.deals),
            sa.func.coalesce(sa.func.sum(per_account.c.amount), 0),
        )
        .group_by(per_account.c.quarters)
        .order_by(per_account.c.quarters)
    )
    found = session.execute(stmt).all()
    customers = sum(row[1] for row in found)
    rows = [
        [
            _("Bought in %(n)s quarter(s)", n=quarters),
            accounts,
            percent(accounts, customers),
            deals,
            cents(amount),
        ]
        for quarters, accounts, deals, amount in found
    ]
    repeat = sum(row[1] for row in found if row[0] > 1)
    columns = [
        Column("quarters", _l("Quarters with a won deal")),
        Column("accounts", _l("Customers"), "number"),
        Column("share", _l("Share (%)"), "percent"),
        Column("deals", _l("Deals won"), "number"),
        Column("amount", _l("Amount won"), "money"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    totals[2] = percent(repeat, customers)
    return Section(
        "persistence",
        _l("Persistence: repeat business"),
        Table(columns, rows, totals),
        Chart("bar", "quarters", ("accounts",)),
        note=_l(
            "Customers with won deals in more than one quarter are repeat customers; "
            "the total's share is the repeat rate."
        ),
    )


# ------------------------------------------------------------------ Profitability


def _costed_lines(filters: Filters) -> sa.Subquery:
    """Per won deal: its line revenue where the product has a cost, and that cost
    (quantity × cost, in cents × 100)."""
    costed = Product.cost.is_not(None)
    return (
        sa.select(
            LineItem.opportunity_id.label("opportunity_id"),
            sa.func.sum(sa.case((costed, raw(LineItem.total)), else_=0)).label(
                "revenue"
            ),
            sa.func.sum(
                sa.case((costed, raw(LineItem.quantity) * raw(Product.cost)), else_=0)
            ).label("cost"),
        )
        .join(Product, LineItem.product_id == Product.id)
        # Grouped by the indexed column: the join below then finds each deal's
        # lines by that key rather than scanning the grouped rows.
        .group_by(LineItem.opportunity_id)
        .subquery()
    )


def profitability(session: Session, filters: Filters) -> list[Section]:
    kind = _segment(filters)
    segment = account_segment(kind)
    lines = _costed_lines(filters)
    stmt = (
        sa.select(
            segment,
            sa.func.count(sa.distinct(Opportunity.account_id)),
            sa.func.coalesce(sa.func.sum(raw(Opportunity.amount)), 0),
            sa.func.coalesce(sa.func.sum(lines.c.revenue), 0),
            sa.func.coalesce(sa.func.sum(lines.c.cost), 0),
        )
        .select_from(Opportunity)
        .join(Stage, Opportunity.stage_id == Stage.id)
        .join(Account, Opportunity.account_id == Account.id)
        .outerjoin(lines, lines.c.opportunity_id == Opportunity.id)
        .where(*_won_deals(filters))
        .group_by(segment)
    )
    found = {row[0]: row[1:] for row in session.execute(stmt)}
    rows = []
    for code in segment_order(kind, found):
        customers, amount, revenue, cost = found[code]
        rows.append(
            _profit_row(segment_label(kind, code), customers, amount, revenue, cost)
        )
    columns = _profit_columns(Column("segment", SEGMENTS[kind]), _l("Customers"))
    totals = _profit_totals(rows, sum(int(v[3]) for v in found.values()))

    top = (
        sa.select(
            Account.name,
            sa.func.count(Opportunity.id),
            sa.func.coalesce(sa.func.sum(raw(Opportunity.amount)), 0),
            sa.func.coalesce(sa.func.sum(lines.c.revenue), 0),
            sa.func.coalesce(sa.func.sum(lines.c.cost), 0),
        )
        .select_from(Opportunity)
        .join(Stage, Opportunity.stage_id == Stage.id)
        .join(Account, Opportunity.account_id == Account.id)
        .outerjoin(lines, lines.c.opportunity_id == Opportunity.id)
        .where(*_won_deals(filters))
        .group_by(unindexed(Opportunity.account_id), Account.name)
        .order_by(sa.func.sum(raw(Opportunity.amount)).desc(), Account.name)
        .limit(TOP_CUSTOMERS)
    )
    top_rows = [
        _profit_row(name, deals, amount, revenue, cost)
        for name, deals, amount, revenue, cost in session.execute(top)
    ]
    top_columns = _profit_columns(Column("account", _l("Account")), _l("Deals won"))
    return [
        Section(
            "profitability",
            _l("Profitability: revenue and margin per segment"),
            Table(columns, rows, totals),
            Chart("bar", "segment", ("amount", "margin")),
            note=_l(
                "Revenue is the amount of won deals. Margin = line totals − "
                "quantity × product cost, over the lines whose product has a cost."
            ),
        ),
        Section(
            "top_customers",
            _l("Profitability: top customers"),
            Table(top_columns, top_rows, None),
            Chart("bar", "account", ("amount",), horizontal=True),
        ),
    ]


def _profit_row(label, count, amount, revenue, cost_units) -> list:
    amount_d = cents(amount)
    revenue_d = cents(revenue)
    cost_d = scaled(cost_units, 10000)
    margin = revenue_d - cost_d
    return [
        label,
        count,
        amount_d,
        per(amount_d, count),
        revenue_d,
        cost_d,
        margin,
        percent(margin, revenue_d),
    ]


def _profit_columns(first: Column, count_label) -> list[Column]:
    return [
        first,
        Column("count", count_label, "number"),
        Column("amount", _l("Revenue (won)"), "money"),
        Column("per_count", _l("Revenue each"), "money"),
        Column("line_revenue", _l("Line revenue with a cost"), "money"),
        Column("cost", _l("Cost"), "money"),
        Column("margin", _l("Margin"), "money"),
        Column("margin_rate", _l("Margin (%)"), "percent"),
    ]


def _profit_totals(rows: list[list], cost_units: int) -> list:
    """Totals of the profit columns; the cost is rounded once over the exact sum."""
    totals = totals_of(
        rows, ["text", "number", "money", "text", "money", "money", "money", "text"]
    )
    totals[3] = per(totals[2], totals[1]) if rows else None
    totals[5] = scaled(cost_units, 10000)
    totals[6] = totals[4] - totals[5]
    totals[7] = percent(totals[6], totals[4]) if rows else None
    return totals


# ------------------------------------------------------------------ Performance


def cycle_days() -> sa.ColumnElement:
    """Days from a deal's creation to the day it was won (never negative)."""
    days = sa.func.julianday(won_on()) - sa.func.julianday(
        sa.func.date(Opportunity.created_at)
    )
    return sa.case((days < 0, 0), else_=days)


def performance(session: Session, filters: Filters) -> Section:
    """Per colleague: closed deals, win rate, amount won, average sales cycle."""
    won = Stage.is_won.is_(True)
    stmt = (
        sa.select(
            Colleague.name,
            sa.func.count(Opportunity.id),
            sa.func.sum(sa.case((won, 1), else_=0)),
            sa.func.coalesce(
                sa.func.sum(sa.case((won, raw(Opportunity.amount)), else_=0)), 0
            ),
            sa.func.sum(sa.case((won, cycle_days()), else_=None)),
        )
        .select_from(Opportunity)
        .join(Stage, Opportunity.stage_id == Stage.id)
        .outerjoin(Colleague, Opportunity.owner_id == Colleague.id)
        .where(
            Stage.is_closed.is_(True),
            *filters.on_date(won_on()),
            *filters.by_owner(Opportunity.owner_id),
        )
        .group_by(unindexed(Opportunity.owner_id), Colleague.name)
        .order_by(Colleague.name)
    )
    rows = []
    all_days, all_won = 0.0, 0
    for name, closed, won_n, amount, days in session.execute(stmt):
        all_days += days or 0
        all_won += won_n if days is not None else 0
        rows.append(
            [
                name or _("Unassigned"),
                closed,
                won_n,
                closed - won_n,
                percent(won_n, closed),
                cents(amount),
                _days(days / won_n if days is not None and won_n else None),
            ]
        )
    columns = [
        Column("colleague", _l("Colleague")),
        Column("closed", _l("Closed deals"), "number"),
        Column("won", _l("Won"), "number"),
        Column("lost", _l("Lost"), "number"),
        Column("win_rate", _l("Win rate (%)"), "percent"),
        Column("amount", _l("Amount won"), "money"),
        Column("cycle", _l("Average sales cycle (days)"), "number"),
    ]
    totals = totals_of(
        rows, ["text", "number", "number", "number", "text", "money", "text"]
    )
    totals[4] = percent(totals[2], totals[1]) if rows else None
    # The average over every won deal, from the per-colleague sums.
    totals[6] = _days(all_days / all_won if all_won else None)
    return Section(
        "performance",
        _l("Performance: win rate and sales cycle"),
        Table(columns, rows, totals),
        Chart("bar", "colleague", ("win_rate",)),
        note=_l(
            "Win rate = won ÷ closed deals. The sales cycle runs from the day a deal "
            "was created to the day it was won."
        ),
    )


def _days(value) -> object:
    from decimal import ROUND_HALF_UP, Decimal

    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------ Prospecting


def prospecting(session: Session, filters: Filters) -> Section:
    rows = lead_source_rows(session, filters)
    totals = totals_of(rows, [c.kind for c in LEAD_COLUMNS])
    totals[4] = percent(totals[3], totals[1])
    return Section(
        "prospecting",
        _l("Prospecting: lead sources and conversion"),
        Table(LEAD_COLUMNS, rows, totals),
        Chart("bar", "source", ("rate",)),
        note=_l("Where new customers come from, and how many leads become customers."),
    )


# ------------------------------------------------------------------ Product


def product_mix(session: Session, filters: Filters) -> Section:
    """Won line revenue per segment and product category."""
    kind = _segment(filters)
    segment = account_segment(kind)
    category = sa.func.coalesce(ProductCategory.name, "")
    stmt = (
        sa.select(
            segment,
            category,
            sa.func.sum(raw(LineItem.quantity)),
            sa.func.sum(raw(LineItem.total)),
        )
        .select_from(LineItem)
        .join(Opportunity, LineItem.opportunity_id == Opportunity.id)
        .join(Stage, Opportunity.stage_id == Stage.id)
        .join(Account, Opportunity.account_id == Account.id)
        .join(Product, LineItem.product_id == Product.id)
        .outerjoin(ProductCategory, Product.category_id == ProductCategory.id)
        .where(*_won_deals(filters))
        .group_by(segment, category)
    )
    found = session.execute(stmt).all()
    segment_totals: dict[str, int] = {}
    for code, _cat, _qty, total in found:
        segment_totals[code] = segment_totals.get(code, 0) + int(total or 0)
    order = {code: i for i, code in enumerate(segment_order(kind, segment_totals))}
    rows = [
        [
            segment_label(kind, code),
            cat or _("No category"),
            cents(qty),
            cents(total),
            percent(total, segment_totals[code]),
        ]
        for code, cat, qty, total in sorted(
            found, key=lambda r: (order[r[0]], -int(r[3] or 0), r[1])
        )
    ]
    columns = [
        Column("segment", SEGMENTS[kind]),
        Column("category", _l("Product category")),
        Column("quantity", _l("Quantity"), "number"),
        Column("revenue", _l("Line revenue"), "money"),
        Column("share", _l("Share of the segment (%)"), "percent"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    return Section(
        "product",
        _l("Product: product mix per segment"),
        Table(columns, rows, totals),
        Chart("bar", ("segment", "category"), ("revenue",), horizontal=True),
        note=_l("Line items of won deals, by the customer's segment."),
    )


# ------------------------------------------------------------------ Promotion


def promotion(session: Session, filters: Filters) -> Section:
    """Campaign members per segment: reached, responded, converted."""
    kind = _segment(filters)
    # A contact's segment is its account's; a lead's comes from the lead itself
    # (its industry and city; a lead has no company size).
    segment = segment_expression(
        kind,
        industry=sa.func.coalesce(Account.industry, Lead.industry),
        employees=Account.employees if kind == "size" else None,
        city=sa.func.coalesce(Account.city, Lead.city),
    )
    responded = CampaignMember.status.in_(("responded", "converted"))
    stmt = (
        sa.select(
            segment,
            sa.func.count(CampaignMember.id),
            sa.func.sum(sa.case((responded, 1), else_=0)),
            sa.func.sum(sa.case((CampaignMember.status == "converted", 1), else_=0)),
        )
        .select_from(CampaignMember)
        .join(Campaign, CampaignMember.campaign_id == Campaign.id)
        .outerjoin(Contact, CampaignMember.contact_id == Contact.id)
        .outerjoin(Account, Contact.account_id == Account.id)
        .outerjoin(Lead, CampaignMember.lead_id == Lead.id)
        .where(
            *filters.on_moment(CampaignMember.created_at),
            *filters.by_owner(Campaign.owner_id),
        )
        .group_by(segment)
    )
    found = {row[0]: row[1:] for row in session.execute(stmt)}
    rows = [
        [
            segment_label(kind, code),
            members,
            responded_n,
            percent(responded_n, members),
            converted_n,
        ]
        for code in segment_order(kind, found)
        for members, responded_n, converted_n in [found[code]]
    ]
    columns = [
        Column("segment", SEGMENTS[kind]),
        Column("members", _l("Campaign members"), "number"),
        Column("responded", _l("Responded"), "number"),
        Column("rate", _l("Response rate (%)"), "percent"),
        Column("converted", _l("Converted"), "number"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    totals[3] = percent(totals[2], totals[1]) if rows else None
    return Section(
        "promotion",
        _l("Promotion: campaign response per segment"),
        Table(columns, rows, totals),
        Chart("bar", "segment", ("members", "responded")),
        note=_l(
            "Members who responded or converted count as responses. A contact "
            "belongs to its account's segment, a lead to its own industry and city."
        ),
    )


#: The seven analyses, each its own tab; "all" shows them on one page.
ANALYSES = {
    "profiling": (_l("Profiling"), lambda s, f: [profiling(s, f)]),
    "persistence": (_l("Persistence"), lambda s, f: [persistence(s, f)]),
    "profitability": (_l("Profitability"), profitability),
    "performance": (_l("Performance"), lambda s, f: [performance(s, f)]),
    "prospecting": (_l("Prospecting"), lambda s, f: [prospecting(s, f)]),
    "product": (_l("Product mix"), lambda s, f: [product_mix(s, f)]),
    "promotion": (_l("Promotion"), lambda s, f: [promotion(s, f)]),
}
ALL = "all"


def seven_p(session: Session, filters: Filters) -> list[Section]:
    """The analysis the ``p`` tab names, or all seven."""
    chosen = filters.extra.get("p", "profiling")
    keys = list(ANALYSES) if chosen == ALL else [chosen]
    return [section for key in keys for section in ANALYSES[key][1](session, filters)]
