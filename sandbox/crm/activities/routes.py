import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.activities import MODULE, bp
from sandbox.crm.activities import service as svc
from sandbox.crm.activities.forms import (
    USUAL_COMMUNICATION,
    ActivityForm,
    CompleteForm,
)
from sandbox.crm.audit import timeline
from sandbox.crm.codes import code_list
from sandbox.crm.display import field_label
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import get_module, writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import colleague_choices, delete_page
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Contact
from sandbox.models.crm.activities import Activity
from sandbox.routing import local_url

HEADINGS = {
    "task": _l("New task"),
    "call": _l("Log a call"),
    "meeting": _l("New meeting"),
    "event": _l("New event"),
}
DUE_FILTERS = {
    "overdue_today": _l("Overdue and due today"),
    "overdue": _l("Overdue"),
    "today": _l("Due today"),
    "open": _l("All open"),
}


def _due_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in DUE_FILTERS.items()]


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Activity)
        .outerjoin(Activity.owner)
        .options(contains_eager(Activity.owner))
    )
    due = request.args.get("due", "")
    if due in DUE_FILTERS:
        today = svc.local_today()
        stmt = stmt.where(Activity.status.in_(svc.OPEN_STATUSES))
        if due == "overdue_today":
            stmt = stmt.where(Activity.due_date <= today)
        elif due == "overdue":
            stmt = stmt.where(Activity.due_date < today)
        elif due == "today":
            stmt = stmt.where(Activity.due_date == today)
    if request.args.get("mine") == "1":
        stmt = stmt.where(svc.mine(db.session))
    listing = module_listing(
        MODULE,
        stmt,
        filters=(
            ListFilter(
                "kind",
                Activity.kind,
                field_label(Activity, "kind"),
                codes="activity_kind",
            ),
            ListFilter(
                "status",
                Activity.status,
                field_label(Activity, "status"),
                codes="activity_status",
            ),
            ListFilter(
                "priority",
                Activity.priority,
                field_label(Activity, "priority"),
                codes="activity_priority",
            ),
            ListFilter(
                "owner",
                Activity.owner_id,
                field_label(Activity, "owner_id"),
                choices=colleague_choices,
            ),
        ),
        default_direction="desc",
    )
    if due in DUE_FILTERS:
        listing.extra_args["due"] = due
    if request.args.get("mine") == "1":
        listing.extra_args["mine"] = "1"
    return render_template(
        "activities/list.html",
        module=MODULE,
        listing=listing,
        due=due,
        due_choices=_due_choices(),
        search_hint=_("Subject or location"),
        new_label=_("New task"),
        no_match=_("No activities match your search."),
        no_records=_("There are no activities yet."),
        first_label=_("Create the first task"),
    )


def _context_ids(record) -> tuple[int | None, int | None]:
    """The account and contact an activity about ``record`` concerns."""
    if record is None:
        return None, None
    if isinstance(record, Account):
        return record.id, None
    if isinstance(record, Contact):
        return record.account_id, record.id
    return getattr(record, "account_id", None), getattr(record, "contact_id", None)


def _show_error(form, error: svc.ActivityError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and error.field in form:
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "danger")


def _form_data(form: ActivityForm) -> dict:
    """The form's values with times turned from the course's time zone to UTC."""
    tz = svc.course_zone()
    data = {
        name: form[name].data
        for name in svc.FIELDS
        if name in form and name not in ("kind",)
    }
    if data.get("all_day") and data.get("starts_at"):
        start = data["starts_at"].replace(hour=0, minute=0, second=0)
        end = data.get("ends_at") or start
        data["starts_at"] = start
        data["ends_at"] = dt.datetime.combine(
            end.date() + dt.timedelta(days=1), dt.time()
        )
    for name in ("starts_at", "ends_at", "remind_at"):
        if name in data:
            data[name] = svc.to_utc(data[name], tz)
    return data


def _attendees(form: ActivityForm) -> dict:
    return {
        "colleague_ids": form.colleague_ids.data if "colleague_ids" in form else None,
        "contact_ids": form.contact_ids.data if "contact_ids" in form else None,
    }


def _back_url(default: str) -> str:
    raw = request.values.get("next")
    return local_url(raw) if raw else default


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    kind = request.args.get("kind", "task")
    if kind not in HEADINGS:
        kind = "task"
    related_type = request.args.get("related_type") or None
    related_id = request.args.get("related_id", type=int)
    related = svc.related_record(db.session, related_type, related_id)
    if related_type and related is None:
        abort(404)
    form = ActivityForm()
    form.for_kind(kind, *_context_ids(related))
    tz = svc.course_zone()
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
        if "communication_type" in form:
            form.communication_type.data = USUAL_COMMUNICATION.get(kind)
        now = svc.to_local(svc.utcnow(), tz).replace(second=0, microsecond=0)
        if kind == "task":
            form.due_date.data = _day_arg() or now.date()
        elif kind == "call":
            form.starts_at.data = now
            form.status.data = "done"
        else:
            day = _day_arg()
            start = now.replace(minute=0) + dt.timedelta(hours=1)
            if day is not None:
                start = dt.datetime.combine(day, dt.time(9, 0))
            form.starts_at.data = start
            form.ends_at.data = start + dt.timedelta(hours=1)
    if form.validate_on_submit():
        data = {**_form_data(form), "kind": kind}
        try:
            activity = svc.create_activity(
                db.session,
                data,
                related_type=related_type if related is not None else None,
                related_id=related.id if related is not None else None,
                **_attendees(form),
            )
        except svc.ActivityError as error:
            _show_error(form, error)
        else:
            flash(_("“%(subject)s” saved.", subject=activity.subject), "success")
            return redirect(_back_url(MODULE.record_url(activity.id)))
    return render_template(
        "activities/form.html",
        module=MODULE,
        form=form,
        heading=HEADINGS[kind],
        related=related,
        related_module=get_module(related_type) if related is not None else None,
        cancel_url=_back_url(url_for("activities.index")),
    )


def _day_arg() -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return None


@bp.route("/<id:activity_id>")
@login_required
def detail(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    related = svc.related_record(db.session, activity.related_type, activity.related_id)
    return render_template(
        "activities/detail.html",
        module=MODULE,
        activity=activity,
        related=related,
        related_module=get_module(activity.related_type)
        if related is not None
        else None,
        complete_form=CompleteForm(formdata=None),
        history=timeline(db.session, activity),
    )


@bp.route("/<id:activity_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    related = svc.related_record(db.session, activity.related_type, activity.related_id)
    tz = svc.course_zone()
    form = ActivityForm(
        obj=activity,
        colleague_ids=[a.colleague_id for a in activity.attendees if a.colleague_id],
        contact_ids=[a.contact_id for a in activity.attendees if a.contact_id],
    )
    form.for_kind(activity.kind, *_context_ids(related))
    if not form.is_submitted():
        for name in ("starts_at", "ends_at", "remind_at"):
            if name in form:
                form[name].data = svc.to_local(getattr(activity, name), tz)
        if activity.all_day and "ends_at" in form and form.ends_at.data:
            form.ends_at.data -= dt.timedelta(days=1)
    if form.validate_on_submit():
        try:
            svc.update_activity(
                db.session, activity, _form_data(form), **_attendees(form)
            )
        except svc.ActivityError as error:
            _show_error(form, error)
        else:
            flash(_("“%(subject)s” saved.", subject=activity.subject), "success")
            return redirect(_back_url(MODULE.record_url(activity.id)))
    return render_template(
        "activities/form.html",
        module=MODULE,
        form=form,
        record=activity,
        heading=_(
            "Edit %(entity)s", entity=code_list("activity_kind").label_of(activity.kind)
        ),
        related=related,
        related_module=get_module(activity.related_type)
        if related is not None
        else None,
        cancel_url=_back_url(MODULE.record_url(activity.id)),
    )


@bp.route("/<id:activity_id>/complete", methods=["POST"])
@login_required
@writes
def complete(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    form = CompleteForm()
    if form.validate_on_submit():
        try:
            svc.complete_activity(db.session, activity, form.outcome.data)
        except svc.ActivityError as error:
            flash(str(error.message), "warning")
        else:
            flash(_("“%(subject)s” is done.", subject=activity.subject), "success")
    return redirect(_back_url(MODULE.record_url(activity.id)))


@bp.route("/<id:activity_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(activity_id: int):
    return delete_page(MODULE, db.get_or_404(Activity, activity_id))
