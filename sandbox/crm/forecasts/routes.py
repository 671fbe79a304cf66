import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.codes import code_list
from sandbox.crm.display import field_label
from sandbox.crm.forecasts import MODULE, bp
from sandbox.crm.forecasts.forms import QuotaForm, SubmitForecastForm, parse_amount
from sandbox.crm.forecasts.service import (
    PERIOD_KINDS,
    ForecastError,
    Period,
    course_fiscal_start,
    course_today,
    fiscal_year_months,
    forecast_figures,
    period_containing,
    quota_grid,
    set_quotas,
    submissions_with_outcome,
    submit_forecast,
)
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Colleague
from sandbox.models.crm.forecasts import ForecastSubmission

TEAM = "team"


def _colleagues() -> list[tuple[int, str, bool]]:
    return list(
        db.session.execute(
            sa.select(Colleague.id, Colleague.name, Colleague.active).order_by(
                Colleague.name
            )
        )
    )


def _colleague_choices() -> list[tuple[str, str]]:
    return [(str(i), n) for i, n, _active in _colleagues()]


@bp.route("/")
@login_required
def index():
    stmt = (
        submissions_with_outcome(db.session)
        .outerjoin(ForecastSubmission.owner)
        .options(contains_eager(ForecastSubmission.owner))
    )
    listing = module_listing(
        MODULE,
        stmt,
        filters=(
            ListFilter(
                "kind",
                ForecastSubmission.period_kind,
                field_label(ForecastSubmission, "period_kind"),
                codes="forecast_period",
            ),
            ListFilter(
                "owner",
                ForecastSubmission.owner_id,
                field_label(ForecastSubmission, "owner_id"),
                choices=_colleague_choices,
            ),
        ),
        default_direction="desc",
    )
    return render_template(
        "forecasts/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Period (such as 2026-11 or FY2026 Q2) or comment"),
        new_label=_("Open the forecast"),
        no_match=_("No submitted forecasts match your search."),
        no_records=_(
            "No forecast has been submitted yet. Open the forecast of a period, "
            "check it and submit it: it is kept here to compare with what was won."
        ),
        first_label=_("Open the forecast"),
    )


def _period_from_request() -> Period:
    kind = request.args.get("kind", "quarter")
    if kind not in PERIOD_KINDS:
        kind = "quarter"
    day = course_today()
    raw = request.args.get("on", "")[:10]
    try:
        day = dt.date.fromisoformat(f"{raw}-01" if len(raw) == 7 else raw)
    except ValueError:
        pass
    if not 1900 <= day.year <= 2999:
        day = course_today()
    return period_containing(day, kind, course_fiscal_start())


def _owner_from_request() -> tuple[int | None, bool]:
    """The colleague whose forecast is shown (None: the team), and whether the
    request named one that exists."""
    raw = request.args.get("owner", "")
    if raw == TEAM:
        return None, True
    if raw.isdigit() and len(raw) <= 12:
        if db.session.get(Colleague, int(raw)) is not None:
            return int(raw), True
    return my_colleague_id(db.session), raw == ""


def _forecast_url(period: Period, owner_id: int | None, **changes) -> str:
    args = {
        "kind": period.kind,
        "on": period.token,
        "owner": TEAM if owner_id is None else owner_id,
        **changes,
    }
    return url_for("forecasts.create", **args)


@bp.route("/forecast")
@login_required
def create():
    """The live forecast of a period for a colleague or the team, and the form to
    submit it."""
    period = _period_from_request()
    owner_id, _known = _owner_from_request()
    return _render_forecast(period, owner_id, SubmitForecastForm(formdata=None))


@bp.route("/forecast/submit", methods=["POST"])
@login_required
@writes
def submit():
    """Submit the forecast shown: its figures are frozen in the submission."""
    period = _period_from_request()
    owner_id, _known = _owner_from_request()
    form = SubmitForecastForm()
    if form.validate_on_submit():
        try:
            submission = submit_forecast(
                db.session,
                period,
                owner_id,
                adjustment=form.adjustment.data,
                reason=form.reason.data,
                comment=form.comment.data,
            )
        except ForecastError as error:
            field = getattr(form, error.field or "", None)
            if field is not None:
                field.errors = [*field.errors, str(error)]
            else:
                flash(str(error), "danger")
        else:
            flash(
                _("Forecast for %(period)s submitted.", period=period.label), "success"
            )
            return redirect(MODULE.record_url(submission.id))
    return _render_forecast(period, owner_id, form), 400


def _dates(period: Period) -> str:
    return (
        f"{format_date(period.start, 'medium')} – {format_date(period.end, 'medium')}"
    )


def _render_forecast(period: Period, owner_id: int | None, form):
    figures = forecast_figures(db.session, period.start, period.end, owner_id)
    owner = db.session.get(Colleague, owner_id) if owner_id is not None else None
    earlier = list(
        db.session.scalars(
            submissions_with_outcome(db.session)
            .where(
                ForecastSubmission.period_kind == period.kind,
                ForecastSubmission.period_start == period.start,
                ForecastSubmission.owner_id.is_(None)
                if owner_id is None
                else ForecastSubmission.owner_id == owner_id,
            )
            .order_by(ForecastSubmission.submitted_at.desc())
            .limit(20)
        )
    )
    return render_template(
        "forecasts/forecast.html",
        module=MODULE,
        period=period,
        owner=owner,
        owner_id=owner_id,
        figures=figures,
        form=form,
        earlier=earlier,
        colleagues=_colleagues(),
        kinds=PERIOD_KINDS,
        kind_labels={k: code_list("forecast_period").label_of(k) for k in PERIOD_KINDS},
        period_dates=_dates(period),
        forecast_url=_forecast_url,
        today=course_today(),
    )


@bp.route("/<id:submission_id>")
@login_required
def detail(submission_id: int):
    submission = db.first_or_404(
        submissions_with_outcome(db.session).where(
            ForecastSubmission.id == submission_id
        )
    )
    period = Period(
        submission.period_kind, submission.period_start, course_fiscal_start()
    )
    return render_template(
        "forecasts/detail.html",
        module=MODULE,
        submission=submission,
        period=period,
        live=forecast_figures(
            db.session,
            submission.period_start,
            submission.period_end,
            submission.owner_id,
        ),
        finished=submission.period_end < course_today(),
        period_dates=_dates(period),
        forecast_url=_forecast_url(period, submission.owner_id),
        history=timeline(db.session, submission),
    )


# ----------------------------------------------------------------------- quotas


def _fiscal_year_from_request() -> int:
    start = course_fiscal_start()
    current = period_containing(course_today(), "quarter", start).fiscal_year
    raw = request.args.get("year", "")
    if raw.isdigit() and len(raw) == 4 and 1900 <= int(raw) <= 2999:
        return int(raw)
    return current


def _cell(colleague_id: int, kind: str, start: dt.date) -> str:
    return f"quota-{colleague_id}-{kind}-{start:%Y-%m}"


@bp.route("/quotas", methods=["GET", "POST"])
@login_required
@writes
def quotas():
    """Quotas per colleague per month and quarter of one fiscal year."""
    fiscal_start = course_fiscal_start()
    year = _fiscal_year_from_request()
    months = fiscal_year_months(year, fiscal_start)
    quarters = [Period("quarter", months[n], fiscal_start) for n in range(0, 12, 3)]
    grid = quota_grid(db.session, months)
    with_quota = {colleague for colleague, _k, _s in grid}
    colleagues = [
        (i, name) for i, name, active in _colleagues() if active or i in with_quota
    ]
    form = QuotaForm()
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if form.validate_on_submit():
        entries = []
        for colleague_id, _name in colleagues:
            for quarter in quarters:
                cells = [("month", m) for m in quarter.months]
                cells.append(("quarter", quarter.start))
                for kind, start in cells:
                    key = _cell(colleague_id, kind, start)
                    if key not in request.form:
                        continue
                    typed[key] = request.form[key][:40]
                    try:
                        amount = parse_amount(typed[key])
                    except ValueError as error:
                        errors[key] = str(error)
                        continue
                    entries.append((colleague_id, kind, start, amount))
        if not errors:
            try:
                changed = set_quotas(db.session, entries)
            except ForecastError as error:
                flash(str(error), "danger")
            else:
                flash(_("Quotas saved (%(count)d changed).", count=changed), "success")
                return redirect(url_for("forecasts.quotas", year=year))
        else:
            flash(_("Some quotas are not amounts; nothing was saved."), "danger")
    return render_template(
        "forecasts/quotas.html",
        module=MODULE,
        year=year,
        quarters=quarters,
        colleagues=colleagues,
        grid=grid,
        form=form,
        errors=errors,
        typed=typed,
        cell=_cell,
    ), (400 if errors else 200)
