import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request
from flask_babel import format_decimal
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from sandbox.auth.decorators import login_required
from sandbox.crm.activities.service import local_today
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label, money
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.lines import line_views
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.opportunities.forms import LineItemForm
from sandbox.crm.orders import MODULE, bp
from sandbox.crm.orders import service as svc
from sandbox.crm.orders.forms import CancelForm, InvoiceForm, OrderForm, PaymentForm
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import (
    action_page,
    colleague_choices,
    delete_page,
    render_form,
    show_refusal,
)
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.contracts import Contract
from sandbox.models.crm.orders import OrderLine, SalesOrder
from sandbox.models.crm.sales import Opportunity
from sandbox.routing import record_id_arg

#: Days between an invoice and its due date, offered on the invoice form.
DEFAULT_DUE_DAYS = 30


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(SalesOrder)
        .join(SalesOrder.account)
        .outerjoin(SalesOrder.owner)
        .options(contains_eager(SalesOrder.account), contains_eager(SalesOrder.owner))
    )
    overdue = request.args.get("overdue") == "1"
    if overdue:
        ids = [order.id for order, _balance in svc.overdue_orders(db.session)]
        stmt = stmt.where(SalesOrder.id.in_(ids))
    listing = module_listing(
        MODULE,
        stmt,
        search=svc.order_search,
        default_direction="desc",
        filters=(
            ListFilter(
                "status",
                SalesOrder.status,
                field_label(SalesOrder, "status"),
                codes="order_status",
            ),
            ListFilter(
                "owner",
                SalesOrder.owner_id,
                field_label(SalesOrder, "owner_id"),
                choices=colleague_choices,
            ),
        ),
    )
    if overdue:
        listing.extra_args["overdue"] = "1"
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Order number (* for any text), account, contract or deal"),
        new_label=_("New sales order"),
        no_match=_("No sales orders match your search."),
        no_records=_(
            "There are no sales orders yet. Orders are taken under an active "
            "contract or a won opportunity."
        ),
        first_label=_("Create the first sales order"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = OrderForm()
    del form.amount  # a new order takes its amount from the contract or deal
    if not form.is_submitted():
        today = dt.date.today()
        form.owner_id.data = my_colleague_id(db.session)
        form.order_date.data = today
        form.delivery_date.data = today + dt.timedelta(days=14)
        contract_id = record_id_arg("contract_id")
        opportunity_id = record_id_arg("opportunity_id")
        if contract_id and db.session.get(Contract, contract_id) is not None:
            form.contract_id.data = contract_id
        elif opportunity_id and db.session.get(Opportunity, opportunity_id):
            form.opportunity_id.data = opportunity_id
    if form.validate_on_submit():
        try:
            order = svc.create_order(db.session, form.data)
        except svc.OrderRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Sales order %(number)s created.", number=order.number), "success")
            return redirect(MODULE.record_url(order.id))
    return render_form(MODULE, form)


def _load(order_id: int) -> SalesOrder:
    order = db.session.scalar(
        sa.select(SalesOrder)
        .where(SalesOrder.id == order_id)
        .options(
            selectinload(SalesOrder.lines).joinedload(OrderLine.product),
            selectinload(SalesOrder.invoices),
            selectinload(SalesOrder.payments),
            joinedload(SalesOrder.account),
        )
    )
    if order is None:
        abort(404)
    return order


@bp.route("/<id:order_id>")
@login_required
def detail(order_id: int):
    order = _load(order_id)
    return _render_detail(order)


def _render_detail(order: SalesOrder, invoice_form=None, payment_form=None):
    writable = svc.can_bill(order)
    status = 422 if (invoice_form or payment_form) else 200
    actions = svc.available_actions(order)
    editable = svc.editable(order)
    # Why a draft cannot be confirmed yet (its button is not offered).
    offered = {transition.action for transition in actions}
    confirm_blocked = (
        svc.refusal(order, "confirm") if editable and "confirm" not in offered else None
    )
    return render_template(
        "orders/detail.html",
        module=MODULE,
        order=order,
        balance=svc.order_balance(order),
        actions=actions,
        confirm_blocked=confirm_blocked,
        editable=editable,
        billable=writable,
        invoice_form=invoice_form or _invoice_form(order),
        payment_form=payment_form or _payment_form(order),
        confirm=ConfirmForm(),
        history=timeline(db.session, order),
        quantity=format_decimal,
    ), status


def _invoice_form(order: SalesOrder) -> InvoiceForm:
    issued = max(local_today(), order.order_date)  # an invoice follows its order
    left = svc.order_balance(order).uninvoiced
    return InvoiceForm(
        formdata=None,
        prefix="invoice",
        amount=left if left > 0 else None,
        issued_on=issued,
        due_on=issued + dt.timedelta(days=DEFAULT_DUE_DAYS),
    )


def _payment_form(order: SalesOrder) -> PaymentForm:
    return PaymentForm(formdata=None, prefix="payment", received_on=local_today())


def _draft_only(order: SalesOrder):
    flash(
        _(
            "Only a draft order can be changed; this one is %(status)s.",
            status=svc.status_label(order.status),
        ),
        "warning",
    )
    return redirect(MODULE.record_url(order.id))


@bp.route("/<id:order_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(order_id: int):
    order = _load(order_id)
    if not svc.editable(order):
        return _draft_only(order)
    form = OrderForm(obj=order)
    del form.contract_id, form.opportunity_id  # an order keeps its source
    if order.lines:
        del form.amount
    if form.validate_on_submit():
        try:
            svc.update_order(db.session, order, form.data)
        except svc.OrderRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Sales order %(number)s saved.", number=order.number), "success")
            return redirect(MODULE.record_url(order.id))
    return render_form(MODULE, form, order)


@bp.route("/<id:order_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(order_id: int):
    order = _load(order_id)
    if not svc.editable(order):
        return _draft_only(order)
    return delete_page(MODULE, order, delete=svc.delete_order, refused=svc.OrderRefused)


def _page(order: SalesOrder, form, heading: str, *, note=None):
    return action_page(
        MODULE, order, form, heading, note=note, action_class="order-action"
    )


line_views(
    bp,
    MODULE,
    "order_id",
    kind=svc.LINES,
    load=_load,
    page=_page,
    form_class=LineItemForm,
    locked=lambda order: None if svc.editable(order) else _draft_only(order),
    refused=show_refusal,
)


def _not_billable(order: SalesOrder):
    flash(
        _(
            "Invoices and payments are recorded on a confirmed or delivered order; "
            "this one is %(status)s.",
            status=svc.status_label(order.status),
        ),
        "warning",
    )
    return redirect(MODULE.record_url(order.id))


@bp.route("/<id:order_id>/invoices", methods=["POST"])
@login_required
@writes
def add_invoice(order_id: int):
    order = _load(order_id)
    if not svc.can_bill(order):
        return _not_billable(order)
    form = InvoiceForm(prefix="invoice")
    if form.validate_on_submit():
        try:
            invoice = svc.issue_invoice(
                db.session,
                order,
                form.amount.data,
                form.issued_on.data,
                form.due_on.data,
            )
        except svc.OrderRefused as error:
            order = _load(order_id)
            show_refusal(form, error)
        else:
            flash(
                _(
                    "Invoice %(number)s of %(amount)s issued.",
                    number=invoice.number,
                    amount=money(invoice.amount),
                ),
                "success",
            )
            return redirect(MODULE.record_url(order.id) + "#money")
    return _render_detail(order, invoice_form=form)


@bp.route("/<id:order_id>/payments", methods=["POST"])
@login_required
@writes
def add_payment(order_id: int):
    order = _load(order_id)
    if not svc.can_bill(order):
        return _not_billable(order)
    form = PaymentForm(prefix="payment")
    if form.validate_on_submit():
        try:
            payment = svc.record_payment(
                db.session,
                order,
                form.amount.data,
                form.received_on.data,
                form.method.data,
                form.reference.data,
            )
        except svc.OrderRefused as error:
            order = _load(order_id)
            show_refusal(form, error)
        else:
            flash(
                _("Payment of %(amount)s recorded.", amount=money(payment.amount)),
                "success",
            )
            return redirect(MODULE.record_url(order.id) + "#money")
    return _render_detail(order, payment_form=form)


@bp.route("/<id:order_id>/<action>", methods=["GET", "POST"])
@login_required
@writes
def act(order_id: int, action: str):
    """One lifecycle action: cancelling asks why; the others are buttons."""
    if action not in svc.TRANSITIONS:
        abort(404)
    order = _load(order_id)
    transition = svc.TRANSITIONS[action]
    reason = svc.refusal(order, action)
    if reason is not None:
        flash(reason, "warning")
        return redirect(MODULE.record_url(order.id))
    form = CancelForm() if transition.has_form else ConfirmForm()
    if form.validate_on_submit():
        data = {"reason": form.reason.data} if transition.has_form else {}
        try:
            svc.perform(db.session, order, action, data)
        except svc.OrderRefused as error:
            order = _load(order_id)
            show_refusal(form, error)
            if not (error.field and error.field in form):
                return redirect(MODULE.record_url(order.id))
        else:
            flash(
                _(
                    "%(action)s: order %(number)s is now %(status)s.",
                    action=transition.label,
                    number=order.number,
                    status=svc.status_label(order.status),
                ),
                "success",
            )
            return redirect(MODULE.record_url(order.id))
    if not transition.has_form:
        return redirect(MODULE.record_url(order.id))
    return _page(order, form, str(transition.label))


@bp.app_template_global("account_order_balances")
def account_order_balances(account_id: int):
    """The account's orders with their balances and the total (the account page's
    panel)."""
    return svc.account_orders(db.session, account_id)
