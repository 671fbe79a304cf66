import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_decimal
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.contracts import MODULE, bp
from sandbox.crm.contracts import service as svc
from sandbox.crm.contracts.forms import ACTION_FORMS, ContractForm
from sandbox.crm.display import field_label
from sandbox.crm.forms import ConfirmForm, RecordForm
from sandbox.crm.lines import line_views
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.opportunities.forms import LineItemForm
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import (
    action_page,
    colleague_choices,
    delete_page,
    records_of,
    render_form,
    show_refusal,
)
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Account
from sandbox.models.crm.contracts import Contract, ContractLine
from sandbox.models.crm.sales import Opportunity
from sandbox.routing import record_id_arg


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Contract)
        .join(Contract.account)
        .outerjoin(Contract.owner)
        .options(contains_eager(Contract.account), contains_eager(Contract.owner))
    )
    listing = module_listing(
        MODULE,
        stmt,
        search=svc.contract_search,
        default_direction="desc",
        filters=(
            ListFilter(
                "status",
                Contract.status,
                field_label(Contract, "status"),
                codes="contract_status",
            ),
            ListFilter(
                "owner",
                Contract.owner_id,
                field_label(Contract, "owner_id"),
                choices=colleague_choices,
            ),
        ),
    )
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Contract number (* for any text), title or account"),
        new_label=_("New contract"),
        no_match=_("No contracts match your search."),
        no_records=_(
            "There are no contracts yet. Make one from a won opportunity, or type "
            "one in."
        ),
        first_label=_("Create the first contract"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = ContractForm()
    if not form.is_submitted():
        today = dt.date.today()
        form.owner_id.data = my_colleague_id(db.session)
        form.start_date.data = today
        form.end_date.data = svc.year_later(today)
        account_id = record_id_arg("account_id")
        if account_id and db.session.get(Account, account_id) is not None:
            form.account_id.data = account_id
    if form.validate_on_submit():
        try:
            contract = svc.create_contract(db.session, form.data)
        except svc.ContractRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Contract %(number)s created.", number=contract.number), "success")
            return redirect(MODULE.record_url(contract.id))
    return render_form(MODULE, form)


@bp.route("/from-opportunity/<id:opportunity_id>", methods=["POST"])
@login_required
@writes
def from_opportunity(opportunity_id: int):
    opp = db.session.scalar(
        sa.select(Opportunity)
        .where(Opportunity.id == opportunity_id)
        .options(selectinload(Opportunity.line_items), joinedload(Opportunity.stage))
    )
    if opp is None:
        abort(404)
    back = url_for("opportunities.detail", opportunity_id=opp.id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    try:
        contract = svc.contract_from_opportunity(db.session, opp)
    except svc.ContractRefused as error:
        flash(error.message, "warning")
        return redirect(back)
    flash(
        _(
            "Contract %(number)s drafted from “%(name)s”: check it, then submit it "
            "for approval.",
            number=contract.number,
            name=opp.name,
        ),
        "success",
    )
    return redirect(MODULE.record_url(contract.id))


def _load(contract_id: int) -> Contract:
    contract = db.session.scalar(
        sa.select(Contract)
        .where(Contract.id == contract_id)
        .options(
            selectinload(Contract.lines).joinedload(ContractLine.product),
            joinedload(Contract.account),
            joinedload(Contract.owner),
        )
    )
    if contract is None:
        abort(404)
    return contract


@bp.route("/<id:contract_id>")
@login_required
def detail(contract_id: int):
    from sandbox.crm.orders.service import ordered_total, orders_of_contract

    contract = _load(contract_id)
    rules = svc.approval_rules(db.session)
    return render_template(
        "contracts/detail.html",
        module=MODULE,
        contract=contract,
        actions=svc.available_actions(contract),
        editable=svc.editable(contract),
        discount=svc.percent(svc.highest_discount(contract)),
        rules=rules,
        manager=svc.sales_manager(db.session),
        orders=orders_of_contract(db.session, contract),
        ordered=ordered_total(db.session, contract),
        confirm=ConfirmForm(),
        history=timeline(db.session, contract),
        quantity=format_decimal,
    )


def _draft_only(contract: Contract):
    flash(
        _(
            "Only a draft contract can be changed; this one is %(status)s.",
            status=svc.status_label(contract.status),
        ),
        "warning",
    )
    return redirect(MODULE.record_url(contract.id))


@bp.route("/<id:contract_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(contract_id: int):
    contract = _load(contract_id)
    if not svc.editable(contract):
        return _draft_only(contract)
    form = ContractForm(obj=contract)
    if contract.lines:
        form.amount.render_kw = {"readonly": True}
    if form.validate_on_submit():
        try:
            svc.update_contract(db.session, contract, form.data)
        except svc.ContractRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Contract %(number)s saved.", number=contract.number), "success")
            return redirect(MODULE.record_url(contract.id))
    return render_form(MODULE, form, contract)


@bp.route("/<id:contract_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(contract_id: int):
    contract = _load(contract_id)
    if not svc.editable(contract):
        return _draft_only(contract)
    return delete_page(
        MODULE, contract, delete=svc.delete_contract, refused=svc.ContractRefused
    )


def _page(contract: Contract, form, heading: str, *, note=None, intro=None):
    return action_page(
        MODULE,
        contract,
        form,
        heading,
        note=note,
        intro=intro,
        intro_class="contract-rules",
        action_class="contract-action",
    )


line_views(
    bp,
    MODULE,
    "contract_id",
    kind=svc.LINES,
    load=_load,
    page=_page,
    form_class=LineItemForm,
    locked=lambda contract: None if svc.editable(contract) else _draft_only(contract),
    refused=show_refusal,
)


@bp.route("/<id:contract_id>/<action>", methods=["GET", "POST"])
@login_required
@writes
def act(contract_id: int, action: str):
    """One lifecycle action: its form (or a confirmation), then the change."""
    if action not in svc.TRANSITIONS:
        abort(404)
    contract = _load(contract_id)
    transition = svc.TRANSITIONS[action]
    reason = svc.refusal(contract, action)
    if reason is not None:
        flash(reason, "warning")
        return redirect(MODULE.record_url(contract.id))
    form_class = ACTION_FORMS.get(action, RecordForm)
    form = form_class()
    intro = None
    if action == "submit":
        rules = svc.approval_rules(db.session)
        intro = _(
            "The highest discount on this contract is %(discount)s %%. Discounts up "
            "to %(auto)s %% are approved at once; above that, write a justification "
            "and the sales manager approves up to %(max)s %%.",
            discount=svc.percent(svc.highest_discount(contract)),
            auto=svc.percent(rules.auto_approve_discount),
            max=svc.percent(rules.manager_max_discount),
        )
    if form.validate_on_submit():
        data = {name: form[name].data for name in form.data if name in form}
        try:
            decision = svc.perform(db.session, contract, action, data)
        except svc.ContractRefused as error:
            contract = _load(contract_id)
            show_refusal(form, error)
            if not (error.field and error.field in form):
                return redirect(MODULE.record_url(contract.id))
        else:
            if decision is not None and decision.approved:
                flash(
                    _(
                        "Contract %(number)s is approved and active: %(reason)s.",
                        number=contract.number,
                        reason=decision.reason,
                    ),
                    "success",
                )
            elif decision is not None:
                flash(
                    _(
                        "Contract %(number)s is rejected and back in draft: "
                        "%(reason)s.",
                        number=contract.number,
                        reason=decision.reason,
                    ),
                    "warning",
                )
            else:
                flash(
                    _(
                        "%(action)s: contract %(number)s is now %(status)s.",
                        action=transition.label,
                        number=contract.number,
                        status=svc.status_label(contract.status),
                    ),
                    "success",
                )
            return redirect(MODULE.record_url(contract.id))
    return _page(contract, form, str(transition.label), intro=intro)


@bp.app_template_global("contract_of_opportunity")
def contract_of_opportunity(opp: Opportunity) -> Contract | None:
    """The contract made from ``opp`` (for the opportunity page's button)."""
    return svc.existing_contract(db.session, opp)


@bp.app_template_global("account_contracts")
def account_contracts(account_id: int) -> tuple[list[Contract], int]:
    """The account page's contracts, the latest ending first."""
    return records_of(
        Contract, Contract.account_id, account_id, Contract.end_date.desc()
    )
