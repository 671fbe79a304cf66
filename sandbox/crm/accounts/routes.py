import sqlalchemy as sa
from flask import flash, redirect, render_template
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.accounts import MODULE, bp
from sandbox.crm.accounts.forms import AccountForm
from sandbox.crm.accounts.service import (
    DuplicateAccountName,
    create_account,
    update_account,
)
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Account, Colleague


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Account)
        .outerjoin(Account.owner)
        .options(contains_eager(Account.owner))
    )
    listing = module_listing(
        MODULE,
        stmt,
        filters=(
            ListFilter(
                "type",
                Account.account_type,
                field_label(Account, "account_type"),
                codes="account_type",
            ),
            ListFilter(
                "industry",
                Account.industry,
                field_label(Account, "industry"),
                codes="industry",
            ),
            ListFilter(
                "owner",
                Account.owner_id,
                field_label(Account, "owner_id"),
                choices=lambda: [
                    (str(i), n)
                    for i, n in db.session.execute(
                        sa.select(Colleague.id, Colleague.name).order_by(Colleague.name)
                    )
                ],
            ),
        ),
    )
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Name, city, email or phone"),
        new_label=_("New account"),
        no_match=_("No accounts match your search."),
        no_records=_("There are no accounts yet."),
        first_label=_("Create the first account"),
    )


def _name_taken(form: AccountForm, error: DuplicateAccountName) -> None:
    form.name.errors.append(
        _("An account named “%(name)s” already exists.", name=error.existing.name)
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = AccountForm()
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
    if form.validate_on_submit():
        try:
            account = create_account(db.session, form.data)
        except DuplicateAccountName as error:
            _name_taken(form, error)
        else:
            flash(_("Account “%(name)s” created.", name=account.name), "success")
            return redirect(MODULE.record_url(account.id))
    return render_form(MODULE, form)


@bp.route("/<id:account_id>")
@login_required
def detail(account_id: int):
    account = db.get_or_404(Account, account_id)
    return render_template(
        "accounts/detail.html",
        module=MODULE,
        account=account,
        history=timeline(db.session, account),
    )


@bp.route("/<id:account_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(account_id: int):
    account = db.get_or_404(Account, account_id)
    form = AccountForm(obj=account)
    if form.validate_on_submit():
        try:
            update_account(db.session, account, form.data)
        except DuplicateAccountName as error:
            _name_taken(form, error)
        else:
            flash(_("Account “%(name)s” saved.", name=account.name), "success")
            return redirect(MODULE.record_url(account.id))
    return render_form(MODULE, form, account)


@bp.route("/<id:account_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(account_id: int):
    return delete_page(MODULE, db.get_or_404(Account, account_id))
