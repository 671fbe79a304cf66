from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import contains_eager, selectinload

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label, money, tenant_info
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.lines import line_views
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.opportunities import (
    MODULE,
    bp,
    request_stale_days,
    warning_badges,
)
from sandbox.crm.opportunities import service as svc
from sandbox.crm.opportunities.forms import (
    CloseLostForm,
    ContactRoleForm,
    DealCompetitorForm,
    LineItemForm,
    MoveForm,
    OpportunityForm,
    ReopenForm,
)
from sandbox.crm.opportunities.kanban import CardRenderer
from sandbox.crm.registry import writes
from sandbox.crm.service import commit, customer_facing_name, my_colleague_id
from sandbox.crm.views import records_of
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Account, Colleague, Contact
from sandbox.models.crm.competitors import OpportunityCompetitor
from sandbox.models.crm.sales import (
    ContactRole,
    LineItem,
    Opportunity,
    Quote,
    Stage,
    StageHistory,
)
from sandbox.routing import record_id
from sandbox.tenancy import current_handle


def day(value) -> str:
    return format_date(value, "medium") if value else ""


WARNING_FILTERS = ("open", "any", "overdue", "stale", "won", "lost")


def _warning_condition(name: str):
    on, now = svc.today(), utcnow()
    if name == "open":
        return sa.not_(Stage.is_closed)
    if name == "won":
        return sa.and_(Stage.is_closed, Stage.is_won)
    if name == "lost":
        return sa.and_(Stage.is_closed, sa.not_(Stage.is_won))
    if name == "overdue":
        return svc.overdue_condition(on)
    days = request_stale_days()
    if name == "stale":
        return svc.stale_condition(now, days)
    return sa.or_(svc.overdue_condition(on), svc.stale_condition(now, days))


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Opportunity)
        .join(Opportunity.account)
        .join(Opportunity.stage)
        .outerjoin(Opportunity.owner)
        .options(
            contains_eager(Opportunity.account),
            contains_eager(Opportunity.stage),
            contains_eager(Opportunity.owner),
        )
    )
    warning = request.args.get("warning", "")
    if warning in WARNING_FILTERS:
        stmt = stmt.where(_warning_condition(warning))
    else:
        warning = ""
    listing = module_listing(
        MODULE,
        stmt,
        search=(*MODULE.search, Account.name),
        filters=(
            ListFilter(
                "stage",
                Opportunity.stage_id,
                field_label(Opportunity, "stage_id"),
                choices=lambda: [
                    (str(s.id), svc.stage_label(s)) for s in svc.stages(db.session)
                ],
            ),
            ListFilter(
                "forecast",
                Opportunity.forecast_category,
                field_label(Opportunity, "forecast_category"),
                codes="forecast_category",
            ),
            ListFilter(
                "owner",
                Opportunity.owner_id,
                field_label(Opportunity, "owner_id"),
                choices=lambda: [(str(i), n) for i, n in svc.owners(db.session)],
            ),
        ),
    )
    if warning:
        listing.extra_args["warning"] = warning
    return render_template(
        "opportunities/list.html",
        module=MODULE,
        listing=listing,
        warning=warning,
        search_hint=_("Name, account or next step"),
        new_label=_("New opportunity"),
        no_match=_("No opportunities match your search."),
        no_records=_("There are no opportunities yet."),
        first_label=_("Create the first opportunity"),
    )


def _owner_filter() -> int | None:
    raw = request.args.get("owner", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.route("/pipeline")
@login_required
def pipeline():
    owner_id = _owner_filter()
    columns = svc.pipeline(db.session, owner_id=owner_id)
    cards = CardRenderer(
        columns,
        stage_label=svc.stage_label,
        record_url=MODULE.record_url_maker(),
        move_prefix=url_for("opportunities.index"),
        query=f"?owner={owner_id}" if owner_id else "",
        token=generate_csrf(),
        today=svc.today(),
        writable=not current_handle().readonly,
    )
    return render_template(
        "opportunities/pipeline.html",
        module=MODULE,
        columns=columns,
        cards=cards,
        owner_id=owner_id,
        owners=svc.owners(db.session),
        stage_label=svc.stage_label,
        per_column=svc.CARDS_PER_COLUMN,
    )


def _form_errors(form: OpportunityForm, error: svc.OpportunityError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "danger")


def _validate_contact(form: OpportunityForm) -> bool:
    """The primary contact, when given, works at the deal's account (or nowhere)."""
    if form.contact_id.data is None or form.account_id.data is None:
        return True
    contact = db.session.get(Contact, form.contact_id.data)
    if contact and contact.account_id not in (None, form.account_id.data):
        form.contact_id.errors = [
            *form.contact_id.errors,
            _("This contact works at another account."),
        ]
        return False
    return True


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = OpportunityForm()
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
        account_id = request.args.get("account_id", type=int)
        if account_id and db.session.get(Account, account_id) is not None:
            form.account_id.data = account_id
        first = next((s for s in svc.stages(db.session) if not s.is_closed), None)
        if first is not None:
            form.stage_id.data = first.id
    if form.validate_on_submit() and _validate_contact(form):
        try:
            opp = svc.save_opportunity(db.session, None, form.data)
        except svc.OpportunityError as error:
            _form_errors(form, error)
        else:
            flash(_("Opportunity “%(name)s” created.", name=opp.name), "success")
            return redirect(MODULE.record_url(opp.id))
    return render_template(
        "opportunities/form.html", module=MODULE, form=form, record=None
    )


@bp.route("/<id:opportunity_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    form = OpportunityForm(obj=opp)
    if not form.is_submitted() and not opp.probability_manual:
        form.probability.data = None
    if opp.line_items:
        form.amount.render_kw = {"readonly": True}
        form.amount.description = _("Computed from the line items.")
    if form.validate_on_submit() and _validate_contact(form):
        try:
            svc.save_opportunity(db.session, opp, form.data)
        except svc.OpportunityError as error:
            _form_errors(form, error)
        else:
            flash(_("Opportunity “%(name)s” saved.", name=opp.name), "success")
            return redirect(MODULE.record_url(opp.id))
    return render_template(
        "opportunities/form.html", module=MODULE, form=form, record=opp
    )


@bp.route("/<id:opportunity_id>")
@login_required
def detail(opportunity_id: int):
    opp = db.session.scalars(
        sa.select(Opportunity)
        .where(Opportunity.id == opportunity_id)
        .options(
            selectinload(Opportunity.line_items).joinedload(LineItem.product),
            selectinload(Opportunity.contact_roles).joinedload(ContactRole.contact),
        )
    ).first()
    if opp is None:
        abort(404)
    competitors = db.session.scalars(
        sa.select(OpportunityCompetitor)
        .where(OpportunityCompetitor.opportunity_id == opp.id)
        .options(sa.orm.joinedload(OpportunityCompetitor.competitor))
        .order_by(OpportunityCompetitor.id)
    ).all()
    history = db.session.execute(
        sa.select(StageHistory, Stage)
        .join(Stage, Stage.id == StageHistory.stage_id)
        .where(StageHistory.opportunity_id == opp.id)
        .order_by(StageHistory.at.desc(), StageHistory.id.desc())
        .limit(50)
    ).all()
    quotes = db.session.scalars(
        sa.select(Quote)
        .where(Quote.opportunity_id == opp.id)
        .order_by(Quote.sequence.desc())
    ).all()
    days = request_stale_days()
    return render_template(
        "opportunities/detail.html",
        module=MODULE,
        opp=opp,
        stages=svc.stages(db.session),
        stage_label=svc.stage_label,
        competitors=competitors,
        stage_history=history,
        quotes=quotes,
        warnings=svc.warnings_for(opp, days),
        stale_days=days,
        badges=warning_badges(opp),
        confirm=ConfirmForm(),
        reopen_form=_reopen_form(opp),
        history=timeline(db.session, opp),
        day=day,
        quantity=format_decimal,
    )


def _reopen_form(opp: Opportunity) -> ReopenForm | None:
    """For a closed deal: reopen, offering the stage it was last open in."""
    if not opp.stage.is_closed:
        return None
    stage = svc.reopen_stage(db.session, opp)
    return ReopenForm(stage_id=stage.id if stage else None)


@bp.route("/<id:opportunity_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = opp.name
        svc.delete_opportunity(db.session, opp)
        flash(_("Opportunity “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("opportunities.index"))
    return render_template(
        "opportunities/confirm_delete.html", module=MODULE, opp=opp, form=form
    )


# --- stage moves ---


def _column_summaries() -> dict[str, dict[str, str]]:
    owner_id = request.args.get("owner", type=int)
    columns = svc.pipeline(db.session, owner_id=owner_id, per_column=0)
    return {
        str(c.stage.id): {
            "count": str(c.count),
            "total": money(c.total),
            "weighted": money(c.weighted),
        }
        for c in columns
    }


@bp.route("/<id:opportunity_id>/move", methods=["POST"])
@login_required
@writes
def move(opportunity_id: int):
    """Move a deal to a stage: the kanban's drag and drop (JSON) and its
    "Move to…" control (a plain form), with the same rules as the form."""
    opp = db.get_or_404(Opportunity, opportunity_id)
    wants_json = request.is_json
    if wants_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            payload = {}
        raw_stage = payload.get("stage_id")
        lost_reason = payload.get("lost_reason") or None
        lost_to_id = payload.get("lost_to_id") or None
    else:
        form = MoveForm()
        form.validate()
        raw_stage = form.stage_id.data
        lost_reason = form.lost_reason.data
        lost_to_id = form.lost_to_id.data
    stage_id = record_id(raw_stage)
    stage = db.session.get(Stage, stage_id) if stage_id else None
    back = url_for("opportunities.pipeline", **request.args)
    if stage is None:
        message = _("Choose a stage.")
        if wants_json:
            return jsonify(error=message, field="stage_id"), 400
        flash(message, "danger")
        return redirect(back)
    try:
        svc.change_stage(
            db.session,
            opp,
            stage,
            lost_reason=lost_reason if isinstance(lost_reason, str) else None,
            lost_to_id=record_id(lost_to_id) if isinstance(lost_to_id, int) else None,
        )
    except svc.OpportunityError as error:
        close_url = url_for("opportunities.close_lost", opportunity_id=opp.id)
        if wants_json:
            return jsonify(
                error=str(error.message), field=error.field, close_lost_url=close_url
            ), 422
        flash(str(error.message), "warning")
        if isinstance(error, svc.LostReasonRequired):
            return redirect(close_url)
        return redirect(back)
    message = _(
        "“%(name)s” moved to %(stage)s.", name=opp.name, stage=svc.stage_label(stage)
    )
    if wants_json:
        return jsonify(
            ok=True,
            message=message,
            stage_id=opp.stage_id,
            probability=opp.probability,
            columns=_column_summaries(),
        )
    flash(message, "success")
    return redirect(back)


@bp.route("/<id:opportunity_id>/close-won", methods=["POST"])
@login_required
@writes
def close_won(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    if ConfirmForm().validate_on_submit():
        svc.close_won(db.session, opp)
        flash(_("“%(name)s” closed as won.", name=opp.name), "success")
    return redirect(MODULE.record_url(opp.id))


@bp.route("/<id:opportunity_id>/close-lost", methods=["GET", "POST"])
@login_required
@writes
def close_lost(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    form = CloseLostForm()
    if form.validate_on_submit():
        try:
            svc.close_lost(db.session, opp, form.lost_reason.data, form.lost_to_id.data)
        except svc.OpportunityError as error:
            _form_errors(form, error)
        else:
            flash(_("“%(name)s” closed as lost.", name=opp.name), "success")
            return redirect(MODULE.record_url(opp.id))
    return _subform(opp, form, _("Close as lost"), status=_status(form))


@bp.route("/<id:opportunity_id>/reopen", methods=["POST"])
@login_required
@writes
def reopen(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    form = ReopenForm()
    if form.validate_on_submit():
        stage = db.session.get(Stage, form.stage_id.data)
        try:
            svc.reopen(db.session, opp, stage)
        except svc.OpportunityError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("“%(name)s” reopened.", name=opp.name), "success")
    return redirect(MODULE.record_url(opp.id))


# --- line items, competitors, contact roles ---


def _status(form) -> int:
    return 422 if form.is_submitted() and form.errors else 200


def _subform(opp: Opportunity, form, heading: str, *, status: int = 200, note=None):
    return render_template(
        "opportunities/subform.html",
        module=MODULE,
        opp=opp,
        form=form,
        heading=heading,
        note=note,
    ), status


def _closed_deal(opp: Opportunity):
    """A closed deal's products are what was won or lost: reopen it to change them."""
    flash(_("This deal is closed: reopen it to change its products."), "warning")
    return redirect(MODULE.record_url(opp.id) + "#line-items")


def _line_page(opp: Opportunity, form, heading: str, *, note=None):
    return _subform(opp, form, heading, status=_status(form), note=note)


line_views(
    bp,
    MODULE,
    "opportunity_id",
    kind=svc.LINES,
    load=lambda opportunity_id: db.get_or_404(Opportunity, opportunity_id),
    page=_line_page,
    form_class=LineItemForm,
    save=svc.save_line_item,
    remove=svc.remove_line_item,
    locked=lambda opp: _closed_deal(opp) if opp.stage.is_closed else None,
    saved=_l("Line items saved; the amount is their sum."),
    anchor="#line-items",
    endpoints=("line_item", "delete_line_item"),
)


def _deal_competitor(opp: Opportunity, link_id: int) -> OpportunityCompetitor:
    link = db.session.get(OpportunityCompetitor, link_id)
    if link is None or link.opportunity_id != opp.id:
        abort(404)
    return link


@bp.route("/<id:opportunity_id>/competitors/new", methods=["GET", "POST"])
@login_required
@writes
def add_competitor(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    form = DealCompetitorForm()
    note = None
    if not form.competitor_id.choices:
        note = _("There are no competitors yet: add them under Competitors first.")
    if form.validate_on_submit():
        try:
            svc.add_competitor(db.session, opp, form.data)
        except svc.OpportunityError as error:
            _form_errors(form, error)
        else:
            flash(_("Competitor added to the deal."), "success")
            return redirect(MODULE.record_url(opp.id) + "#competitors")
    return _subform(opp, form, _("Add a competitor"), status=_status(form), note=note)


@bp.route("/<id:opportunity_id>/competitors/<id:link_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit_competitor(opportunity_id: int, link_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    link = _deal_competitor(opp, link_id)
    form = DealCompetitorForm(obj=link)
    del form.competitor_id  # the competitor of a link stays; its details change
    if form.validate_on_submit():
        svc.update_competitor(db.session, link, form.data)
        flash(_("Competitor details saved."), "success")
        return redirect(MODULE.record_url(opp.id) + "#competitors")
    return _subform(opp, form, link.competitor.name, status=_status(form))


@bp.route("/<id:opportunity_id>/competitors/<id:link_id>/remove", methods=["POST"])
@login_required
@writes
def remove_competitor(opportunity_id: int, link_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    link = _deal_competitor(opp, link_id)
    if ConfirmForm().validate_on_submit():
        svc.remove_competitor(db.session, link)
        flash(_("Competitor removed from the deal."), "success")
    return redirect(MODULE.record_url(opp.id) + "#competitors")


@bp.route("/<id:opportunity_id>/roles/new", methods=["GET", "POST"])
@login_required
@writes
def add_role(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    form = ContactRoleForm()
    if form.validate_on_submit():
        try:
            svc.add_contact_role(db.session, opp, form.contact_id.data, form.role.data)
        except svc.OpportunityError as error:
            form.contact_id.errors = [*form.contact_id.errors, str(error.message)]
        else:
            flash(_("Contact role added."), "success")
            return redirect(MODULE.record_url(opp.id) + "#contact-roles")
    return _subform(opp, form, _("Add a contact role"), status=_status(form))


@bp.route("/<id:opportunity_id>/roles/<id:role_id>/remove", methods=["POST"])
@login_required
@writes
def remove_role(opportunity_id: int, role_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    link = db.session.get(ContactRole, role_id)
    if link is None or link.opportunity_id != opp.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        db.session.delete(link)
        opp.last_activity_at = utcnow()
        commit(db.session)
        flash(_("Contact role removed."), "success")
    return redirect(MODULE.record_url(opp.id) + "#contact-roles")


# --- quotes ---


@bp.route("/<id:opportunity_id>/quotes", methods=["POST"])
@login_required
@writes
def generate_quote(opportunity_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(MODULE.record_url(opp.id))
    try:
        quote = svc.generate_quote(db.session, opp)
    except svc.NoLineItems as error:
        flash(str(error.message), "warning")
        return redirect(MODULE.record_url(opp.id) + "#line-items")
    return redirect(
        url_for("opportunities.quote", opportunity_id=opp.id, quote_id=quote.id)
    )


@bp.route("/<id:opportunity_id>/quotes/<id:quote_id>")
@login_required
def quote(opportunity_id: int, quote_id: int):
    opp = db.get_or_404(Opportunity, opportunity_id)
    record = db.session.get(Quote, quote_id)
    if record is None or record.opportunity_id != opp.id:
        abort(404)
    owner = db.session.get(Colleague, opp.owner_id) if opp.owner_id else None
    prepared_by = customer_facing_name(owner) or None
    return render_template(
        "opportunities/quote.html",
        module=MODULE,
        opp=opp,
        quote=record,
        owner=owner,
        prepared_by=prepared_by,
        company=tenant_info().get("company") or _("Our company"),
        day=day,
        quantity=lambda value: format_decimal(Decimal(value)),
    )


def _deals_where(key, value: int) -> tuple[list[Opportunity], int]:
    """Deals for a record's page: open ones first, then by close date, latest
    first."""
    return records_of(
        Opportunity,
        key,
        value,
        Stage.is_closed,
        Opportunity.close_date.desc(),
        join=Opportunity.stage,
        options=(contains_eager(Opportunity.stage),),
    )


@bp.app_template_global("account_opportunities")
def account_opportunities(account_id: int) -> tuple[list[Opportunity], int]:
    return _deals_where(Opportunity.account_id, account_id)


@bp.app_template_global("contact_opportunities")
def contact_opportunities(contact_id: int) -> tuple[list[Opportunity], int]:
    return _deals_where(Opportunity.contact_id, contact_id)
