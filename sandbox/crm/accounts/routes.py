import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.accounts import bp
from sandbox.crm.accounts.forms import AccountForm
from sandbox.crm.accounts.service import (
    DuplicateAccountName,
    create_account,
    delete_account,
    update_account,
)
from sandbox.crm.audit import timeline
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.labels import ACCOUNT_TYPE_LABELS, INDUSTRY_LABELS
from sandbox.crm.listing import list_records
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Account


def get_account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    return account


@bp.route("/")
@login_required
def index():
    listing = list_records(
        sa.select(Account),
        search=(Account.name, Account.city, Account.owner, Account.email),
        sorts={
            "name": Account.name,
            "city": Account.city,
            "type": Account.account_type,
            "revenue": Account.annual_revenue,
            "created": Account.created_at,
        },
        default_sort="name",
        filters={"type": Account.account_type, "industry": Account.industry},
    )
    return render_template(
        "accounts/index.html",
        listing=listing,
        types=ACCOUNT_TYPE_LABELS,
        industries=INDUSTRY_LABELS,
    )


def _name_taken(form: AccountForm, error: DuplicateAccountName) -> None:
    form.name.errors.append(
        _("An account named “%(name)s” already exists.", name=error.existing.name)
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            account = create_account(db.session, form.data)
        except DuplicateAccountName as error:
            _name_taken(form, error)
        else:
            flash(_("Account “%(name)s” created.", name=account.name), "success")
            return redirect(url_for("accounts.detail", account_id=account.id))
    return render_template("accounts/form.html", form=form, account=None)


@bp.route("/<id:account_id>")
@login_required
def detail(account_id: int):
    account = get_account_or_404(account_id)
    return render_template(
        "accounts/detail.html",
        account=account,
        history=timeline(db.session, "account", account.id),
        types=ACCOUNT_TYPE_LABELS,
        industries=INDUSTRY_LABELS,
    )


@bp.route("/<id:account_id>/edit", methods=["GET", "POST"])
@login_required
def edit(account_id: int):
    account = get_account_or_404(account_id)
    form = AccountForm(obj=account)
    if form.validate_on_submit():
        try:
            update_account(db.session, account, form.data)
        except DuplicateAccountName as error:
            _name_taken(form, error)
        else:
            flash(_("Account “%(name)s” saved.", name=account.name), "success")
            return redirect(url_for("accounts.detail", account_id=account.id))
    return render_template("accounts/form.html", form=form, account=account)


@bp.route("/<id:account_id>/delete", methods=["GET", "POST"])
@login_required
def delete(account_id: int):
    account = get_account_or_404(account_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = account.name
        delete_account(db.session, account)
        flash(_("Account “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("accounts.index"))
    return render_template(
        "crm/confirm_delete.html",
        form=form,
        record_name=account.name,
        cancel_url=url_for("accounts.detail", account_id=account.id),
    )
