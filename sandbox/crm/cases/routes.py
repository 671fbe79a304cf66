import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request
from markupsafe import Markup, escape
from sqlalchemy.orm import contains_eager, selectinload

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.cases import MODULE, bp
from sandbox.crm.cases.forms import CaseForm, action_form
from sandbox.crm.cases.service import (
    TRANSITIONS,
    VIEWS,
    CaseActionRefused,
    available_actions,
    case_search,
    create_case,
    perform,
    refusal,
    service_settings,
    sla_state,
    update_case,
    view_condition,
    view_counts,
)
from sandbox.crm.codes import code_list
from sandbox.crm.display import field_label, show_value
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import (
    action_page,
    delete_page,
    records_of,
    render_form,
    show_refusal,
)
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models import utcnow
from sandbox.models.crm.service import Case


@bp.route("/")
@login_required
def index():
    view = request.args.get("view", "all")
    if view not in VIEWS:
        view = "all"
    me = my_colleague_id(db.session)
    now = utcnow()
    stmt = (
        sa.select(Case)
        .outerjoin(Case.account)
        .outerjoin(Case.owner)
        .options(contains_eager(Case.account), contains_eager(Case.owner))
        .where(view_condition(view, me, now))
    )
    listing = module_listing(
        MODULE,
        stmt,
        search=case_search,
        default_direction="desc",
        filters=(
            ListFilter(
                "status", Case.status, field_label(Case, "status"), codes="case_status"
            ),
            ListFilter(
                "priority",
                Case.priority,
                field_label(Case, "priority"),
                codes="case_priority",
            ),
            ListFilter(
                "type",
                Case.case_type,
                field_label(Case, "case_type"),
                codes="case_type",
            ),
            ListFilter(
                "queue", Case.queue, field_label(Case, "queue"), codes="case_queue"
            ),
        ),
    )
    if view != "all":
        listing.extra_args["view"] = view
    return render_template(
        "cases/list.html",
        module=MODULE,
        listing=listing,
        view=view,
        views=VIEWS,
        counts=view_counts(db.session, me, now),
        search_hint=_("Case number (* for any text), subject, account or handler"),
        new_label=_("New case"),
        no_match=_("No cases match your search."),
        no_records=_("There are no cases yet."),
        first_label=_("Open the first case"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = CaseForm()
    if not form.is_submitted() and request.args.get("account_id", "").isdigit():
        form.account_id.data = int(request.args["account_id"])
    if form.validate_on_submit():
        try:
            case = create_case(db.session, form.data)
        except CaseActionRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Case %(number)s opened.", number=case.number), "success")
            return redirect(MODULE.record_url(case.id))
    return render_form(MODULE, form)


def _load(case_id: int) -> Case:
    case = db.session.scalar(
        sa.select(Case)
        .where(Case.id == case_id)
        .options(
            selectinload(Case.events),
            sa.orm.joinedload(Case.account),
            sa.orm.joinedload(Case.contact),
            sa.orm.joinedload(Case.owner),
            sa.orm.joinedload(Case.article),
        )
    )
    if case is None:
        abort(404)
    return case


@bp.route("/<id:case_id>")
@login_required
def detail(case_id: int):
    case = _load(case_id)
    settings = service_settings(db.session)
    duplicates = db.session.scalars(
        sa.select(Case).where(Case.merged_into_id == case.id).order_by(Case.number)
    ).all()
    return render_template(
        "cases/detail.html",
        module=MODULE,
        case=case,
        actions=available_actions(case, settings),
        sla=sla_state(case),
        settings=settings,
        duplicates=duplicates,
        history=timeline(db.session, case),
        show_status=lambda code: code_list("case_status").label_of(code),
    )


@bp.route("/<id:case_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(case_id: int):
    case = _load(case_id)
    form = CaseForm(obj=case)
    if form.validate_on_submit():
        try:
            update_case(db.session, case, form.data)
        except CaseActionRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Case %(number)s saved.", number=case.number), "success")
            return redirect(MODULE.record_url(case.id))
    return render_form(MODULE, form, case)


@bp.route("/<id:case_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(case_id: int):
    return delete_page(MODULE, db.get_or_404(Case, case_id))


@bp.route("/<id:case_id>/<action>", methods=["GET", "POST"])
@login_required
@writes
def act(case_id: int, action: str):
    """One lifecycle action: its form (or confirmation), then the change."""
    if action not in TRANSITIONS:
        abort(404)
    case = _load(case_id)
    transition = TRANSITIONS[action]
    form = action_form(action)
    if request.method == "POST":
        if form.validate_on_submit():
            data = {name: form[name].data for name in transition.fields}
            try:
                perform(db.session, case, action, data)
            except CaseActionRefused as error:
                db.session.rollback()
                case = _load(case_id)
                show_refusal(form, error)
                if error.field is None:
                    return redirect(MODULE.record_url(case.id))
            else:
                flash(
                    _(
                        "%(action)s: case %(number)s is now %(status)s.",
                        action=transition.label,
                        number=case.number,
                        status=_status(case.status),
                    ),
                    "success",
                )
                return redirect(MODULE.record_url(case.id))
    else:
        reason = refusal(case, action, service_settings(db.session))
        if reason is not None:
            flash(reason, "danger")
            return redirect(MODULE.record_url(case.id))
    status_badge = show_value(case, "status", badge=True)
    sentence = (
        _("Status: %(status)s. Fields marked * are required.")
        if transition.required
        else _("Status: %(status)s.")
    )
    intro = Markup(escape(sentence)) % {"status": status_badge}  # noqa: S704 - escaped
    return action_page(
        MODULE,
        case,
        form,
        transition.label,
        intro=intro,
        intro_class="text-muted",
        action_class="case-action",
        button_label=transition.label,
        button_class="btn-" + transition.style.replace("outline-", ""),
    )


def _status(code: str) -> str:
    return code_list("case_status").label_of(code)


@bp.app_template_global("account_cases")
def account_cases(account_id: int) -> tuple[list[Case], int]:
    """An account's service cases for its page, the newest first."""
    return records_of(Case, Case.account_id, account_id, Case.created_at.desc())


@bp.app_template_global("contact_cases")
def contact_cases(contact_id: int) -> tuple[list[Case], int]:
    """A contact's service cases for their page, the newest first."""
    return records_of(Case, Case.contact_id, contact_id, Case.created_at.desc())
