"""The workbench's key figures: open pipeline, won this month, open cases and their
SLA, leads this month — each a number, a small chart and the table behind it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import Session

from sandbox.crm.cases.service import OPEN
from sandbox.crm.display import money
from sandbox.crm.reports.framework import (
    Filters,
    month_label,
    month_start,
    months_between,
)
from sandbox.crm.reports.sales import pipeline_by_stage, won_by_month
from sandbox.i18n import gettext as _
from sandbox.models import utcnow
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.service import Case

MONTHS = 6


@dataclass
class KeyFigure:
    key: str
    title: str
    value: str
    detail: str
    url: str
    labels: list[str]
    values: list[Any]
    value_label: str
    kind: str = "bar"

    def spec(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "title": self.title,
            "labels": self.labels,
            "datasets": [
                {"label": self.value_label, "data": [float(v) for v in self.values]}
            ],
            "mini": True,
        }

    def rows(self) -> list[tuple[str, Any]]:
        return list(zip(self.labels, self.values, strict=True))


def key_figures(session: Session, today: dt.date, zone: str) -> list[KeyFigure]:
    month = month_start(today)
    figures = []

    stages = pipeline_by_stage(session, Filters(zone=zone, today=today))[0].table
    total = stages.totals or [None, 0, 0, 0]
    figures.append(
        KeyFigure(
            "pipeline",
            _("Open pipeline"),
            money(total[2]),
            _("%(count)s open opportunities", count=total[1]),
            url_for("reports.show", report_key="pipeline"),
            [row[0] for row in stages.rows],
            [row[2] for row in stages.rows],
            _("Amount"),
        )
    )

    first = month_start(month, -(MONTHS - 1))
    won = won_by_month(
        session,
        Filters(
            period="custom",
            start=first,
            end=month_start(month, 1),
            zone=zone,
            today=today,
        ),
    )[0].table
    this_month = won.rows[-1] if won.rows else [None, 0, 0, None]
    figures.append(
        KeyFigure(
            "won",
            _("Won this month"),
            money(this_month[2]),
            _("%(count)s deals won", count=this_month[1]),
            url_for("reports.show", report_key="won-by-month"),
            [row[0] for row in won.rows],
            [row[2] for row in won.rows],
            _("Amount won"),
        )
    )

    now = utcnow()
    is_open = Case.status.in_(sorted(OPEN))
    overdue = sa.and_(is_open, Case.next_due_at.is_not(None), Case.next_due_at <= now)
    open_cases, overdue_cases = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((is_open, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((overdue, 1), else_=0)), 0),
        )
    ).one()
    figures.append(
        KeyFigure(
            "cases",
            _("Open cases"),
            str(open_cases),
            _("%(count)s past their SLA target", count=overdue_cases),
            url_for("reports.show", report_key="cases"),
            [_("Within SLA"), _("Overdue")],
            [open_cases - overdue_cases, overdue_cases],
            _("Open cases"),
            kind="doughnut",
        )
    )

    months = months_between(first, month)
    counts = []
    for year, number in months:
        start = dt.date(year, number, 1)
        bounds = Filters(start=start, end=month_start(start, 1), zone=zone)
        counts.append(
            sa.func.coalesce(
                sa.func.sum(
                    sa.case((sa.and_(*bounds.on_moment(Lead.created_at)), 1), else_=0)
                ),
                0,
            )
        )
    window = Filters(start=first, end=month_start(month, 1), zone=zone)
    per_month = list(
        session.execute(
            sa.select(*counts).where(*window.on_moment(Lead.created_at))
        ).one()
    )
    figures.append(
        KeyFigure(
            "leads",
            _("Leads this month"),
            str(per_month[-1]),
            _("%(count)s in the last six months", count=sum(per_month)),
            url_for("reports.show", report_key="lead-sources", period="this_month"),
            [month_label(y, m) for y, m in months],
            per_month,
            _("Leads"),
        )
    )
    return figures
