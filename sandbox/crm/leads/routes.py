import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.accounts.service import similar_accounts
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label
from sandbox.crm.leads import MODULE, bp
from sandbox.crm.leads.forms import AssignForm, ConvertForm, LeadForm, UnqualifyForm
from sandbox.crm.leads.service import (
    Conversion,
    LeadError,
    NotConvertible,
    SimilarAccountsExist,
    assign_leads,
    convert_lead,
    create_lead,
    ensure_convertible,
    open_stages,
    qualify_lead,
    split_name,
    unqualify_lead,
    update_lead,
)
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import colleague_choices, delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import current_language
from sandbox.i18n import gettext as _
from sandbox.models.crm import Account
from sandbox.models.crm.leads import Lead
from sandbox.routing import local_url, record_ids

#: Days from today a converted lead's opportunity is expected to close, by default.
DEFAULT_CLOSE_DAYS = 30
#: The most leads one "assign selected" may change.
MAX_BULK = 100


def _view_filter() -> ListFilter:
    """The "my leads / unassigned / all" switch (all when nothing is asked for)."""
    me = my_colleague_id(db.session)
    mine = Lead.owner_id == me if me is not None else sa.false()
    return ListFilter(
        "view",
        sa.case((mine, "mine"), (Lead.owner_id.is_(None), "unassigned"), else_=""),
        _("Show"),
        choices=lambda: [("mine", _("My leads")), ("unassigned", _("Unassigned"))],
    )


@bp.route("/")
@login_required
def index():
    stmt = sa.select(Lead).outerjoin(Lead.owner).options(contains_eager(Lead.owner))
    listing = module_listing(
        MODULE,
        stmt,
        default_direction="desc",
        filters=(
            _view_filter(),
            ListFilter(
                "status",
                Lead.status,
                field_label(Lead, "status"),
                codes="lead_status",
            ),
            ListFilter(
                "rating", Lead.rating, field_label(Lead, "rating"), codes="lead_rating"
            ),
            ListFilter(
                "source", Lead.source, field_label(Lead, "source"), codes="lead_source"
            ),
            ListFilter(
                "owner",
                Lead.owner_id,
                field_label(Lead, "owner_id"),
                choices=colleague_choices,
            ),
        ),
    )
    return render_template(
        "leads/list.html",
        module=MODULE,
        listing=listing,
        assign_form=AssignForm(),
        search_hint=_("Name, company, email or phone"),
        new_label=_("New lead"),
        no_match=_("No leads match your search."),
        no_records=_("There are no leads yet."),
        first_label=_("Create the first lead"),
    )


# Action URLs also answer GET (reached again after logging in, say) by going back
# to the page the action is on.


@bp.route("/assign", methods=["GET", "POST"])
@login_required
@writes
def assign_selected():
    if request.method == "GET":
        return redirect(url_for("leads.index"))
    back = local_url(request.form.get("next"), "leads.index")
    if not back.startswith(MODULE.url_prefix + "/"):
        back = url_for("leads.index")
    form = AssignForm()
    ids = set(record_ids(request.form.getlist("lead_ids")[:MAX_BULK]))
    if not ids:
        flash(_("Tick the leads to assign first."), "warning")
        return redirect(back)
    if not form.validate_on_submit():
        flash(_("Choose a colleague to assign the leads to."), "danger")
        return redirect(back)
    leads = list(db.session.scalars(sa.select(Lead).where(Lead.id.in_(ids))))
    try:
        changed = assign_leads(db.session, leads, form.owner_id.data)
    except LeadError as error:
        flash(error.message, "danger")
    else:
        flash(
            _(
                "%(count)d of %(total)d leads assigned.",
                count=changed,
                total=len(leads),
            ),
            "success",
        )
    return redirect(back)


def _show_errors(form, error: LeadError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = LeadForm()
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
    if form.validate_on_submit():
        try:
            lead = create_lead(db.session, form.data)
        except LeadError as error:
            _show_errors(form, error)
        else:
            flash(_("Lead “%(name)s” created.", name=lead.name), "success")
            return redirect(MODULE.record_url(lead.id))
    return render_form(MODULE, form)


def _detail_page(lead: Lead, *, unqualify_form=None, assign_form=None, status=200):
    assign_form = assign_form or AssignForm(formdata=None)
    if assign_form.owner_id.data is None:
        assign_form.owner_id.data = lead.owner_id
    return render_template(
        "leads/detail.html",
        module=MODULE,
        lead=lead,
        history=timeline(db.session, lead),
        unqualify_form=unqualify_form or UnqualifyForm(formdata=None),
        assign_form=assign_form,
    ), status


@bp.route("/<id:lead_id>")
@login_required
def detail(lead_id: int):
    return _detail_page(db.get_or_404(Lead, lead_id))


@bp.route("/<id:lead_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(lead_id: int):
    lead = db.get_or_404(Lead, lead_id)
    if lead.status == "converted":
        flash(_("A converted lead cannot be changed."), "warning")
        return redirect(MODULE.record_url(lead.id))
    form = LeadForm(obj=lead)
    if form.validate_on_submit():
        try:
            update_lead(db.session, lead, form.data)
        except LeadError as error:
            _show_errors(form, error)
        else:
            flash(_("Lead “%(name)s” saved.", name=lead.name), "success")
            return redirect(MODULE.record_url(lead.id))
    return render_form(MODULE, form, lead)


@bp.route("/<id:lead_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(lead_id: int):
    return delete_page(MODULE, db.get_or_404(Lead, lead_id))


@bp.route("/<id:lead_id>/qualify", methods=["GET", "POST"])
@login_required
@writes
def qualify(lead_id: int):
    lead = db.get_or_404(Lead, lead_id)
    if request.method == "GET":
        return redirect(MODULE.record_url(lead.id))
    try:
        qualify_lead(db.session, lead)
    except LeadError as error:
        flash(error.message, "warning")
    else:
        flash(_("Lead “%(name)s” qualified.", name=lead.name), "success")
    return redirect(MODULE.record_url(lead.id))


@bp.route("/<id:lead_id>/unqualify", methods=["GET", "POST"])
@login_required
@writes
def unqualify(lead_id: int):
    lead = db.get_or_404(Lead, lead_id)
    if request.method == "GET":
        return redirect(MODULE.record_url(lead.id))
    form = UnqualifyForm()
    form.validate_on_submit()
    try:
        unqualify_lead(db.session, lead, form.unqualified_reason.data)
    except LeadError as error:
        _show_errors(form, error)
        return _detail_page(lead, unqualify_form=form, status=400)
    flash(_("Lead “%(name)s” marked unqualified.", name=lead.name), "success")
    return redirect(MODULE.record_url(lead.id))


@bp.route("/<id:lead_id>/assign", methods=["GET", "POST"])
@login_required
@writes
def assign(lead_id: int):
    lead = db.get_or_404(Lead, lead_id)
    if request.method == "GET":
        return redirect(MODULE.record_url(lead.id))
    form = AssignForm()
    if not form.validate_on_submit():
        return _detail_page(lead, assign_form=form, status=400)
    try:
        changed = assign_leads(db.session, [lead], form.owner_id.data)
    except LeadError as error:
        _show_errors(form, error)
        return _detail_page(lead, assign_form=form, status=400)
    if changed:
        flash(
            _(
                "Lead “%(name)s” assigned to %(owner)s.",
                name=lead.name,
                owner=lead.owner.name,
            ),
            "success",
        )
    elif lead.status == "converted":
        flash(_("A converted lead cannot be changed."), "warning")
    return redirect(MODULE.record_url(lead.id))


# ------------------------------------------------------------------ conversion


def _stage_choices() -> list[tuple[int, str]]:
    zh = current_language() == "zh"
    return [
        (stage.id, stage.name_zh if zh else stage.name)
        for stage in open_stages(db.session)
    ]


def _fill_defaults(form: ConvertForm, lead: Lead) -> None:
    form.account_name.data = lead.company or lead.name
    first, last = split_name(lead.name)
    form.first_name.data, form.last_name.data = first, last
    form.opportunity_name.data = lead.company or lead.name
    form.close_date.data = dt.date.today() + dt.timedelta(days=DEFAULT_CLOSE_DAYS)
    form.owner_id.data = lead.owner_id or my_colleague_id(db.session)
    if form.stage_id.choices:
        form.stage_id.data = form.stage_id.choices[0][0]


def _conversion(form: ConvertForm) -> Conversion:
    choice = form.account_choice.data
    if choice == "existing":
        account_id = form.account_id.data
        if account_id is None:
            raise LeadError(_("Choose the existing account."), "account_id")
    elif choice and choice.isdigit() and len(choice) < 19:
        account_id = int(choice)
    elif choice == "new":
        account_id = None
    else:
        raise LeadError(_("Choose an account option."), "account_choice")
    if form.contact_choice.data == "existing":
        if form.contact_id.data is None:
            raise LeadError(_("Choose the existing contact."), "contact_id")
        contact_id = form.contact_id.data
    else:
        contact_id = None
    with_opportunity = form.create_opportunity.data
    return Conversion(
        account_id=account_id,
        account_name=form.account_name.data if account_id is None else None,
        create_anyway=bool(form.create_anyway.data),
        contact_id=contact_id,
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        opportunity_name=(form.opportunity_name.data or "")
        if with_opportunity
        else None,
        amount=form.amount.data,
        close_date=form.close_date.data,
        stage_id=form.stage_id.data if with_opportunity else None,
        owner_id=form.owner_id.data,
    )


@bp.route("/<id:lead_id>/convert", methods=["GET", "POST"])
@login_required
@writes
def convert(lead_id: int):
    lead = db.get_or_404(Lead, lead_id)
    try:
        ensure_convertible(lead)
    except NotConvertible as error:
        flash(error.message, "danger")
        return redirect(MODULE.record_url(lead.id))
    form = ConvertForm()
    form.stage_id.choices = _stage_choices()
    if not form.is_submitted():
        _fill_defaults(form, lead)
    suggestions: list[Account] = similar_accounts(
        db.session, form.account_name.data or ""
    )
    if not form.is_submitted() and suggestions:
        # Most leads come from companies already known: offer the likeliest first.
        form.account_choice.data = str(suggestions[0].id)
    if form.validate_on_submit():
        try:
            result = convert_lead(db.session, lead, _conversion(form))
        except SimilarAccountsExist as error:
            suggestions = error.accounts
            _show_errors(form, error)
        except LeadError as error:
            _show_errors(form, error)
        else:
            flash(
                _(
                    "Lead “%(name)s” converted: account %(account)s, contact "
                    "%(contact)s.",
                    name=lead.name,
                    account=result.account.name,
                    contact=result.contact.full_name,
                ),
                "success",
            )
            return redirect(MODULE.record_url(lead.id))
    return render_template(
        "leads/convert.html",
        module=MODULE,
        lead=lead,
        form=form,
        suggestions=suggestions,
    ), (400 if form.errors else 200)
