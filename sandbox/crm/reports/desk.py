"""Service and team reports: cases by status and priority with SLA compliance, and
activities by colleague."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.cases.service import OPEN
from sandbox.crm.codes import code_list
from sandbox.crm.reports.framework import (
    Chart,
    Column,
    Filters,
    Section,
    Table,
    percent,
)
from sandbox.crm.reports.sales import totals_of
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm.activities import Activity
from sandbox.models.crm.service import Case
from sandbox.models.crm.team import Colleague


def _count(condition: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def sla_met() -> sa.ColumnElement:
    """Resolved no later than the resolution deadline."""
    return sa.and_(
        Case.resolved_at.is_not(None),
        Case.resolution_due_at.is_not(None),
        Case.resolved_at <= Case.resolution_due_at,
    )


def sla_late() -> sa.ColumnElement:
    return sa.and_(
        Case.resolved_at.is_not(None),
        Case.resolution_due_at.is_not(None),
        Case.resolved_at > Case.resolution_due_at,
    )


def cases_report(session: Session, filters: Filters) -> list[Section]:
    """Cases opened in the period: SLA compliance per priority, and each status
    split by priority (both from one query grouped by priority and status)."""
    now = utcnow()
    is_open = Case.status.in_(sorted(OPEN))
    overdue = sa.and_(is_open, Case.next_due_at.is_not(None), Case.next_due_at <= now)
    stmt = (
        sa.select(
            Case.priority,
            Case.status,
            sa.func.count(Case.id),
            _count(Case.resolved_at.is_not(None)),
            _count(sla_met()),
            _count(sla_late()),
            _count(overdue),
        )
        .where(*filters.on_moment(Case.opened_at), *filters.by_owner(Case.owner_id))
        .group_by(Case.priority, Case.status)
    )
    groups = session.execute(stmt).all()
    priorities = code_list("case_priority")
    statuses = code_list("case_status")
    by_priority: dict[str, list[int]] = {}
    by_status: dict[str, dict[str, int]] = {}
    for priority, status, total, resolved, met, late, overdue_n in groups:
        sums = by_priority.setdefault(priority, [0, 0, 0, 0, 0, 0])
        for i, value in enumerate(
            (total, total if status in OPEN else 0, resolved, met, late, overdue_n)
        ):
            sums[i] += value
        by_status.setdefault(status, {})[priority] = total

    rows = []
    for code in _ordered(priorities, by_priority):
        total, open_n, resolved, met, late, overdue_n = by_priority[code]
        rows.append(
            [
                priorities.label_of(code),
                total,
                open_n,
                resolved,
                met,
                late,
                overdue_n,
                percent(met, met + late),
            ]
        )
    columns = [
        Column("priority", _l("Priority")),
        Column("cases", _l("Cases"), "number"),
        Column("open", _l("Open"), "number"),
        Column("resolved", _l("Resolved"), "number"),
        Column("met", _l("Resolved within SLA"), "number"),
        Column("late", _l("Resolved late"), "number"),
        Column("overdue", _l("Open and overdue"), "number"),
        Column("compliance", _l("SLA compliance (%)"), "percent"),
    ]
    totals = totals_of(rows, [c.kind for c in columns])
    totals[7] = percent(totals[4], totals[4] + totals[5])
    sla_section = Section(
        "sla",
        _l("SLA compliance by priority"),
        Table(columns, rows, totals),
        Chart("bar", "priority", ("met", "late", "overdue"), stacked=True),
        note=_l(
            "SLA compliance = cases resolved within their resolution target ÷ all "
            "resolved cases with a target; targets count business hours and "
            "leave out time pending the customer."
        ),
    )

    codes = [c.code for c in priorities]
    status_rows = [
        [
            statuses.label_of(code),
            *(by_status[code].get(p, 0) for p in codes),
            sum(by_status[code].values()),
        ]
        for code in _ordered(statuses, by_status)
    ]
    status_columns = [
        Column("status", _l("Status")),
        *(Column(code, priorities.label_of(code), "number") for code in codes),
        Column("total", _l("Total"), "number"),
    ]
    status_section = Section(
        "status",
        _l("Cases by status and priority"),
        Table(
            status_columns,
            status_rows,
            totals_of(status_rows, [c.kind for c in status_columns]),
        ),
        Chart("bar", "status", tuple(codes), stacked=True, horizontal=True),
    )
    return [sla_section, status_section]


def _ordered(codes, found) -> list[str]:
    """The codes found, in their list's order; codes the list lacks last."""
    known = [c.code for c in codes]
    return [c for c in known if c in found] + sorted(set(found) - set(known))


def activities_by_colleague(session: Session, filters: Filters) -> list[Section]:
    """Each colleague's activities in the period: done, still open, overdue."""
    today = filters.today
    done = Activity.completed_at.is_not(None)
    cancelled = sa.and_(Activity.completed_at.is_(None), Activity.status == "cancelled")
    still_open = sa.and_(
        Activity.completed_at.is_(None), Activity.status != "cancelled"
    )
    overdue = sa.and_(
        still_open,
        Activity.due_date.is_not(None),
        Activity.due_date < today,
    )
    in_period = []
    if filters.start is not None or filters.end is not None:
        # Meetings and calls by their start, tasks by their due date.
        in_period.append(
            sa.or_(
                sa.and_(
                    Activity.starts_at.is_not(None),
                    *filters.on_moment(Activity.starts_at),
                ),
                sa.and_(
                    Activity.starts_at.is_(None),
                    Activity.due_date.is_not(None),
                    *filters.on_date(Activity.due_date),
                ),
            )
        )
    # Summed per owner first (ix_activity_report covers it), then named.
    per_owner = (
        sa.select(
            Activity.owner_id.label("owner_id"),
            sa.func.count().label("total"),
            _count(done).label("done"),
            _count(still_open).label("still_open"),
            _count(overdue).label("overdue"),
            _count(cancelled).label("cancelled"),
        )
        .where(*in_period, *filters.by_owner(Activity.owner_id))
        .group_by(Activity.owner_id)
        .subquery()
    )
    stmt = (
        sa.select(
            Colleague.name,
            per_owner.c.total,
            per_owner.c.done,
            per_owner.c.still_open,
            per_owner.c.overdue,
            per_owner.c.cancelled,
        )
        .select_from(per_owner)
        .outerjoin(Colleague, Colleague.id == per_owner.c.owner_id)
        .order_by(per_owner.c.total.desc(), Colleague.name)
    )
    rows = [
        [name or _("Unassigned"), total, done_n, open_n, overdue_n, cancelled_n]
        for name, total, done_n, open_n, overdue_n, cancelled_n in session.execute(stmt)
    ]
    columns = [
        Column("colleague", _l("Colleague")),
        Column("activities", _l("Activities"), "number"),
        Column("done", _l("Completed"), "number"),
        Column("open", _l("Not completed"), "number"),
        Column("overdue", _l("Overdue"), "number"),
        Column("cancelled", _l("Cancelled"), "number"),
    ]
    return [
        Section(
            "colleagues",
            _l("Activities by colleague"),
            Table(columns, rows, totals_of(rows, [c.kind for c in columns])),
            Chart("bar", "colleague", ("done", "open"), stacked=True),
            note=_l(
                "Meetings and calls count on the day they start, tasks on their "
                "due date; overdue = neither completed nor cancelled and past its "
                "due date."
            ),
        )
    ]
