from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.cases.service import current_zone
from sandbox.crm.cases.sla import to_local
from sandbox.crm.forecasts.service import course_fiscal_start
from sandbox.crm.reports import MODULE, bp
from sandbox.crm.reports.dashboard import key_figures
from sandbox.crm.reports.framework import (
    FISCAL_KINDS,
    PERIODS,
    REPORTS,
    Filters,
    Report,
    Section,
    get_report,
    parse_filters,
)
from sandbox.crm.transfer.export import to_csv, to_xlsx
from sandbox.extensions import db
from sandbox.models import utcnow
from sandbox.models.crm.team import Colleague
from sandbox.tenancy import current_engine

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def local_today() -> dt.date:
    """Today in the course's time zone."""
    return to_local(utcnow(), current_zone()).date()


def _owners() -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            sa.select(Colleague.id, Colleague.name).order_by(Colleague.name)
        )
    )


def _filters(report: Report, owners: list[tuple[int, str]]) -> Filters:
    return parse_filters(
        request.args,
        default_period=report.default_period,
        owners=[owner_id for owner_id, _name in owners],
        choices={c.name: [key for key, _label in c.options] for c in report.choices},
        today=local_today(),
        zone=current_zone(),
        fiscal_start=course_fiscal_start() if report.fiscal_periods else None,
    )


def _report(key: str) -> Report:
    current_engine()  # no workspace, no report
    try:
        return get_report(key)
    except KeyError:
        abort(404)


@bp.route("/")
@login_required
def index():
    """Every report, grouped."""
    current_engine()
    groups: OrderedDict[str, list[Report]] = OrderedDict()
    for report in REPORTS.values():
        groups.setdefault(str(report.group), []).append(report)
    return render_template("reports/index.html", module=MODULE, groups=groups)


@bp.route("/<report_key>")
@login_required
def show(report_key: str):
    report = _report(report_key)
    owners = _owners()
    filters = _filters(report, owners)
    # A filter that cannot be read leaves nothing to show but its message.
    sections = [] if filters.errors else report.build(db.session, filters)
    return render_template(
        "reports/report.html",
        module=MODULE,
        report=report,
        filters=filters,
        sections=sections,
        owners=owners,
        periods=PERIODS,
        fiscal_kinds=FISCAL_KINDS,
        export_args=filters.query_args(),
    )


@bp.route("/<report_key>/export.<fmt>")
@login_required
def export(report_key: str, fmt: str):
    """One section's table, with the page's filters, as CSV or XLSX."""
    if fmt not in MIMETYPES:
        abort(404)
    report = _report(report_key)
    filters = _filters(report, _owners())
    if filters.errors:
        # Not a table of other filters than asked for: the page says what is wrong.
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "section"]
        page = url_for("reports.show", report_key=report.key)
        return redirect(f"{page}?{urlencode(args)}")
    sections = report.build(db.session, filters)
    wanted = request.args.get("section", "")
    section = next((s for s in sections if s.key == wanted), sections[0])
    header, rows = export_table(section)
    if fmt == "csv":
        data = to_csv(header, rows)
    else:
        money = [i for i, c in enumerate(section.table.columns) if c.kind == "money"]
        data = to_xlsx(header, rows, title=str(section.title), money_columns=money)
    name = f"{report.key}-{section.key}-{local_today().isoformat()}"
    response = Response(data, content_type=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def export_table(section: Section) -> tuple[list[str], list[list]]:
    """The section's header and rows as the page shows them, totals last."""
    from sandbox.i18n import gettext as _

    table = section.table
    header = [str(c.label) for c in table.columns]
    rows = [list(row) for row in table.rows]
    if table.totals is not None and table.rows:
        totals = list(table.totals)
        totals[0] = _("Total")
        rows.append(totals)
    return header, rows


@bp.app_template_global()
def reports_key_figures():
    """The workbench's four key figures (None outside a student's CRM)."""
    from sandbox.tenancy import current_handle

    if current_handle() is None:
        return None
    return key_figures(db.session, local_today(), current_zone())
