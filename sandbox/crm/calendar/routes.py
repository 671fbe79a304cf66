import datetime as dt

import sqlalchemy as sa
from babel.dates import format_skeleton
from babel.dates import format_time as format_babel_time
from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, get_locale
from markupsafe import Markup, escape
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from sandbox.auth.decorators import login_required
from sandbox.crm.activities import service as activities
from sandbox.crm.calendar import MODULE, bp
from sandbox.crm.calendar import service as svc
from sandbox.crm.codes import code_list
from sandbox.crm.display import labelled
from sandbox.crm.forms import RecordForm, label_for
from sandbox.crm.listing import module_listing
from sandbox.crm.registry import writes
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import FIRST_DAY, LAST_DAY
from sandbox.models.crm import Colleague
from sandbox.models.crm.activities import Activity, DiaryEntry
from sandbox.tenancy import current_engine, current_handle

#: How many activities a month cell lists before "N more".
CELL_ITEMS = 4
VIEW_LABELS = {
    "month": _l("Month"),
    "week": _l("Week"),
    "day": _l("Day"),
    "list": _l("List"),
}


class DiaryForm(RecordForm):
    notes = TextAreaField(
        label_for(DiaryEntry, "notes"), validators=[Optional(), Length(max=20000)]
    )
    submit = SubmitField(_l("Save notes"))


def _day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


def _owner_arg():
    raw = request.args.get("owner", "me")
    if raw == "all":
        return "all"
    if raw.isdigit() and len(raw) < 19:
        return int(raw)
    return "me"


def _first_weekday() -> int:
    return get_locale().first_week_day


def url_maker(endpoint: str, arg: str):
    """``url_for(endpoint, arg=id)`` for many ids, the URL built once."""
    marker = 987654321
    sample = url_for(endpoint, **{arg: marker})
    return lambda record_id: sample.replace(str(marker), str(record_id))


class Chips:
    """Calendar items as markup: URLs, labels and times worked out once a page (a
    busy month shows hundreds)."""

    def __init__(self, writable: bool) -> None:
        self.writable = writable
        self.detail = url_maker("activities.detail", "activity_id")
        self.move = url_maker("calendar.move", "activity_id")
        self.kinds = code_list("activity_kind")
        self.statuses = code_list("activity_status")
        self._times: dict[dt.time, str] = {}

    def time_label(self, item) -> str:
        entry = item.activity
        if item.start is None or entry.all_day:
            return ""
        if item.continues:
            return "…"
        moment = item.start.time()
        label = self._times.get(moment)
        if label is None:
            label = self._times[moment] = format_babel_time(
                moment, "short", locale=get_locale()
            )
        return label

    def badge(self, codes, value: str) -> Markup:
        item = codes.get(value)
        return Markup('<span class="badge text-bg-{}">{}</span>').format(
            item.color if item and item.color else "secondary",
            item.label if item else value,
        )

    def status_badge(self, entry) -> Markup:
        return self.badge(self.statuses, entry.status)

    def kind_badge(self, entry) -> Markup:
        return self.badge(self.kinds, entry.kind)

    def __call__(self, item, full: bool = False) -> Markup:
        entry = item.activity
        classes = (
            f"calendar-item kind-{escape(entry.kind)} status-{escape(entry.status)}"
        )
        if not entry.open:
            classes += " finished"
        attrs = f'class="{classes}" href="{self.detail(entry.id)}" data-id="{entry.id}"'
        if self.writable and entry.open and not item.continues:
            attrs += f' draggable="true" data-move-url="{self.move(entry.id)}"'
        time = self.time_label(item)
        time = f'<span class="calendar-time">{escape(time)}</span> ' if time else ""
        subject = labelled(
            self.kinds.label_of(entry.kind),
            entry.subject,
            label_class="visually-hidden",
        )
        owner = ""
        if full and entry.owner_name:
            owner = (
                f' <span class="text-muted small">· {escape(entry.owner_name)}</span>'
            )
        return Markup(  # noqa: S704 - built from escaped parts
            f"<a {attrs}>{time}{subject}{owner}</a>"
        )


@bp.route("/")
@login_required
def index():
    current_engine()
    tz = activities.course_zone()
    today = activities.local_today(tz)
    view = request.args.get("view", "month")
    if view not in svc.VIEWS:
        view = "month"
    day = _day(request.args.get("day")) or today
    if not FIRST_DAY <= day <= LAST_DAY:
        day = today
    owner = _owner_arg()
    shown = svc.period(view, day, _first_weekday())
    items = activities.in_range(db.session, shown.first, shown.last, tz, owner=owner)
    colleagues = db.session.execute(
        sa.select(Colleague.id, Colleague.name).order_by(Colleague.name)
    ).all()
    locale = get_locale()
    weekdays = [
        locale.days["format"]["abbreviated"][(_first_weekday() + n) % 7]
        for n in range(7)
    ]
    return render_template(
        "calendar/index.html",
        module=MODULE,
        view=view,
        view_labels=VIEW_LABELS,
        shown=shown,
        items=items,
        today=today,
        owner=owner,
        colleagues=colleagues,
        weekdays=weekdays,
        cell_items=CELL_ITEMS,
        chips=Chips(not current_handle().readonly),
        day_url=_day_url_maker(owner),
        title=_title(shown),
        timezone=tz.key,
        format_date=format_date,
        skeleton=skeleton,
    )


def skeleton(pattern: str, day: dt.date) -> str:
    """``day`` in the current language's own form of ``pattern`` ("March 2026",
    "2026年3月")."""
    return format_skeleton(pattern, day, locale=get_locale())


def _day_url_maker(owner):
    """The day view's URL for any day, built once."""
    marker = "1999-09-09"
    sample = url_for(
        "calendar.index",
        view="day",
        day=marker,
        owner=None if owner == "me" else owner,
    )
    return lambda day: sample.replace(marker, day.isoformat())


def _title(shown: svc.Period) -> str:
    if shown.view in ("month", "list"):
        return skeleton("yMMMM", shown.day)
    if shown.view == "week":
        first, last = (format_date(d, "medium") for d in (shown.first, shown.last))
        return f"{first} – {last}"
    return format_date(shown.day, "full")


@bp.route("/activities/<id:activity_id>/move", methods=["POST"])
@login_required
@writes
def move(activity_id: int):
    """Move an activity to another day (the calendar's drag and drop), with the
    rules of the activity form; JSON in, JSON out."""
    activity = db.get_or_404(Activity, activity_id)
    payload = request.get_json(silent=True) if request.is_json else None
    raw = payload.get("day") if isinstance(payload, dict) else request.form.get("day")
    day = _day(raw if isinstance(raw, str) else None)
    if day is None:
        return jsonify(error=_("Choose a day.")), 400
    try:
        activities.reschedule(db.session, activity, day, activities.course_zone())
    except activities.ActivityError as error:
        return jsonify(error=str(error.message), field=error.field), 422
    return jsonify(
        ok=True,
        day=day.isoformat(),
        message=_(
            "“%(subject)s” moved to %(day)s.",
            subject=activity.subject,
            day=format_date(day, "medium"),
        ),
    )


@bp.route("/export.ics")
@login_required
def export_ics():
    """The student's calendar as an iCalendar file, for Outlook, Google or Apple."""
    current_engine()
    handle = current_handle()
    body = svc.ics_calendar(
        db.session,
        activities.course_zone(),
        name=_("CRM Sandbox calendar"),
        uid_domain=f"tenant-{handle.tenant_id}.crm-sandbox",
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="crm-calendar.ics"'},
    )


# ------------------------------------------------------------------ work diary


@bp.route("/diary/")
@login_required
def diary():
    listing = module_listing(MODULE, default_direction="desc")
    return render_template(
        "calendar/diary_list.html",
        module=MODULE,
        listing=listing,
        today=activities.local_today(),
    )


@bp.route("/diary/<day>", methods=["GET", "POST"])
@login_required
def diary_day(day: str):
    when = _day(day)
    if when is None:
        abort(404)
    tz = activities.course_zone()
    entry = svc.diary_entry(db.session, when)
    form = DiaryForm(obj=entry)
    if form.validate_on_submit():
        svc.save_diary(db.session, when, form.notes.data or "")
        flash(_("Diary notes saved."), "success")
        return redirect(url_for("calendar.diary_day", day=when.isoformat()))
    one = dt.timedelta(days=1)
    return render_template(
        "calendar/diary_day.html",
        module=MODULE,
        day=when,
        entry=entry,
        form=form,
        items=svc.day_activities(db.session, when, tz),
        chips=Chips(False),
        previous=when - one,
        next=when + one,
        today=activities.local_today(tz),
    )


@bp.route("/<id:entry_id>")
@login_required
def detail(entry_id: int):
    entry = db.get_or_404(DiaryEntry, entry_id)
    return redirect(url_for("calendar.diary_day", day=entry.day.isoformat()))
