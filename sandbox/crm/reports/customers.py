"""Customer analyses (浙科 客户分析): accounts by industry, by region and by source,
and the customer segments the 7P page shares."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.codes import code_list
from sandbox.crm.reports.framework import (
    Chart,
    Column,
    Filters,
    Section,
    Table,
    cents,
    percent,
    raw,
)
from sandbox.crm.reports.sales import totals_of
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.sales import Opportunity, Stage

#: Company sizes by employees: (code, fewer than, label).
SIZE_BANDS = (
    ("small", 50, _l("Small (1–49 employees)")),
    ("medium", 250, _l("Medium (50–249)")),
    ("large", 1000, _l("Large (250–999)")),
    ("enterprise", None, _l("Enterprise (1,000 or more)")),
)
SEGMENTS = {
    "industry": _l("Industry"),
    "size": _l("Company size"),
    "region": _l("Region (city)"),
    "source": _l("Account source"),
}


def segment_expression(
    kind: str, *, industry=None, employees=None, city=None, source=None
) -> sa.ColumnElement:
    """The SQL naming the segment of a row; '' where it is not known."""
    if kind == "industry":
        return sa.func.coalesce(industry, "")
    if kind == "region":
        return sa.func.coalesce(sa.func.trim(city), "")
    if kind == "source":
        return sa.func.coalesce(source, "")
    if kind == "size":
        if employees is None:
            return sa.literal("")
        whens = [(employees.is_(None), "")]
        whens += [(employees < limit, code) for code, limit, _ in SIZE_BANDS if limit]
        return sa.case(*whens, else_=SIZE_BANDS[-1][0])
    raise KeyError(kind)


def account_segment(kind: str) -> sa.ColumnElement:
    return segment_expression(
        kind,
        industry=Account.industry,
        employees=Account.employees,
        city=Account.city,
        source=Account.source,
    )


def segment_label(kind: str, code: str) -> str:
    if not code:
        return _("Not specified")
    if kind == "industry":
        return code_list("industry").label_of(code)
    if kind == "source":
        return code_list("account_source").label_of(code)
    if kind == "size":
        return next((str(label) for c, _n, label in SIZE_BANDS if c == code), code)
    return code


def segment_order(kind: str, codes) -> list[str]:
    """Segments in a reading order: size bands smallest first, '' last."""
    codes = list(codes)
    if kind == "size":
        known = [c for c, _n, _l2 in SIZE_BANDS]
        return sorted(codes, key=lambda c: known.index(c) if c in known else 99)
    return sorted(codes, key=lambda c: (c == "", segment_label(kind, c)))


CUSTOMER_COLUMNS = (
    ("accounts", _l("Accounts"), "number"),
    ("share", _l("Share (%)"), "percent"),
    ("customers", _l("With a won deal"), "number"),
    ("won", _l("Deals won"), "number"),
    ("won_amount", _l("Amount won"), "money"),
    ("pipeline", _l("Open pipeline"), "money"),
)


def customer_segments(session: Session, filters: Filters, kind: str) -> Table:
    """Accounts created in the period per segment, with what they bought: one
    query counts the accounts, one sums their deals, both grouped by segment."""
    segment = account_segment(kind)
    accounts_of = [
        *filters.on_moment(Account.created_at),
        *filters.by_owner(Account.owner_id),
    ]
    counted = dict(
        session.execute(
            sa.select(segment, sa.func.count(Account.id))
            .where(*accounts_of)
            .group_by(segment)
        ).all()
    )
    won = Stage.is_won.is_(True)
    amount = raw(Opportunity.amount)
    deals = {
        row[0]: row[1:]
        for row in session.execute(
            sa.select(
                segment,
                sa.func.count(sa.distinct(sa.case((won, Opportunity.account_id)))),
                sa.func.sum(sa.case((won, 1), else_=0)),
                sa.func.sum(sa.case((won, amount), else_=0)),
                sa.func.sum(sa.case((Stage.is_closed.is_(False), amount), else_=0)),
            )
            .select_from(Opportunity)
            .join(Stage, Opportunity.stage_id == Stage.id)
            .join(Account, Opportunity.account_id == Account.id)
            .where(*accounts_of)
            .group_by(segment)
        )
    }
    everyone = sum(counted.values())
    rows = []
    for code in segment_order(kind, counted):
        customers, won_n, won_amount, pipeline = deals.get(code, (0, 0, 0, 0))
        rows.append(
            [
                segment_label(kind, code),
                counted[code],
                percent(counted[code], everyone),
                customers,
                won_n,
                cents(won_amount),
                cents(pipeline),
            ]
        )
    columns = [Column("segment", SEGMENTS[kind])] + [
        Column(*spec) for spec in CUSTOMER_COLUMNS
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    totals[2] = percent(totals[1], everyone) if rows else None
    return Table(columns, rows, totals)


def _customer_report(kind: str, title):
    def build(session: Session, filters: Filters) -> list[Section]:
        return [
            Section(
                kind,
                title,
                customer_segments(session, filters, kind),
                Chart("bar", "segment", ("accounts", "customers")),
                note=_l(
                    "Accounts created in the period; their deals are counted "
                    "whenever they closed."
                ),
            )
        ]

    return build


customers_by_industry = _customer_report("industry", _l("Customers by industry"))
customers_by_region = _customer_report("region", _l("Customers by region"))
customers_by_source = _customer_report("source", _l("Customers by source"))
