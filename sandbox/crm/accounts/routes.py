from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.accounts import MODULE, bp
from sandbox.crm.accounts.forms import (
    AccountForm,
    ActionForm,
    DeactivateForm,
    RejectForm,
    RelationForm,
    RenameForm,
    ShareForm,
)
from sandbox.crm.accounts.service import (
    SIMILAR_LIMIT,
    AccountInactive,
    AccountRuleError,
    SimilarAccountsExist,
    approve_account,
    create_account,
    deactivate_account,
    delete_account,
    reactivate_account,
    reject_account,
    relate_accounts,
    relations_of,
    rename_account,
    share_account,
    similar_accounts,
    submit_for_review,
    unrelate_accounts,
    update_account,
)
from sandbox.crm.audit import timeline
from sandbox.crm.codes import code_list
from sandbox.crm.display import field_label
from sandbox.crm.forms import DeleteForm
from sandbox.crm.listing import MAX_QUERY_LENGTH, ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.service import HasRelatedRecords, my_colleague_id, related_records
from sandbox.crm.views import colleague_choices, show_refusal
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account
from sandbox.models.crm.account_names import AccountName
from sandbox.models.crm.accounts import AccountRelation
from sandbox.tenancy import current_engine


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
                "status",
                Account.status,
                field_label(Account, "status"),
                codes="account_status",
            ),
            ListFilter(
                "review",
                Account.review_state,
                field_label(Account, "review_state"),
                codes="review_state",
            ),
            ListFilter(
                "owner",
                Account.owner_id,
                field_label(Account, "owner_id"),
                choices=colleague_choices,
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


@bp.route("/similar")
@login_required
def similar():
    """Accounts resembling ``?name=`` (at most five, with their owners), as JSON:
    the duplicate check while the user types a new account's name."""
    current_engine()
    name = request.args.get("name", "").strip()[:MAX_QUERY_LENGTH]
    exclude = request.args.get("exclude", type=int)
    found = similar_accounts(db.session, name, exclude_id=exclude) if name else []
    url = MODULE.record_url_maker()
    return jsonify(
        [
            {
                "id": account.id,
                "name": account.name,
                "url": url(account.id),
                "owner": account.owner.name if account.owner else None,
                "inactive": account.inactive,
            }
            for account in found[:SIMILAR_LIMIT]
        ]
    )


def render_account_form(form: AccountForm, account: Account | None = None, **ctx):
    return render_template(
        "accounts/form.html", module=MODULE, form=form, record=account, **ctx
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = AccountForm()
    similar = []
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
    if form.validate_on_submit():
        try:
            account = create_account(
                db.session, form.data, despite_similar=bool(form.create_anyway.data)
            )
        except SimilarAccountsExist as error:
            similar = error.similar
        except AccountRuleError as error:
            show_refusal(form, error)
        else:
            flash(_("Account “%(name)s” created.", name=account.name), "success")
            return redirect(MODULE.record_url(account.id))
    return render_account_form(form, similar=similar)


def _inactive_redirect(account: Account):
    flash(str(AccountInactive(account).message), "warning")
    return redirect(MODULE.record_url(account.id))


@bp.route("/<id:account_id>")
@login_required
def detail(account_id: int):
    account = db.get_or_404(Account, account_id)
    return _render_detail(account)


#: How a relationship reads from the other account's page.
REVERSE_RELATIONS = {
    "serves": _l("Served by"),
    "subsidiary": _l("Parent company"),
    "affiliate": _l("Affiliate"),
}


def _related_rows(account: Account) -> list[tuple[AccountRelation, Account, str]]:
    """Each related account with how it relates, read from this account's side."""
    codes = code_list("account_relation")
    rows = []
    for link in relations_of(db.session, account):
        if link.account_id == account.id:
            rows.append((link, link.related, codes.label_of(link.relation)))
        else:
            label = REVERSE_RELATIONS.get(link.relation)
            rows.append(
                (link, link.account, str(label or codes.label_of(link.relation)))
            )
    return rows


def _render_detail(account: Account, relation_form: RelationForm | None = None):
    children = db.session.scalars(
        sa.select(Account).where(Account.parent_id == account.id).order_by(Account.name)
    ).all()
    return render_template(
        "accounts/detail.html",
        module=MODULE,
        account=account,
        related=_related_rows(account),
        children=children,
        relation_form=relation_form or RelationForm(formdata=None),
        action_form=ActionForm(),
        history=timeline(db.session, account),
        former_names=former_names(db.session, account),
    )


@bp.route("/<id:account_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(account_id: int):
    account = db.get_or_404(Account, account_id)
    if account.inactive:
        return _inactive_redirect(account)
    form = AccountForm(obj=account)
    del form.create_anyway
    if form.validate_on_submit():
        try:
            update_account(db.session, account, form.data)
        except AccountRuleError as error:
            show_refusal(form, error)
        else:
            flash(_("Account “%(name)s” saved.", name=account.name), "success")
            return redirect(MODULE.record_url(account.id))
    return render_account_form(form, account)


@dataclass(frozen=True)
class _RelatedAccounts:
    """The links to related accounts, listed on the delete page like other
    linked records (the accounts themselves are kept)."""

    count: int
    label: object = _l("Related accounts")
    detachable: bool = True


def _linked_to(account: Account) -> list:
    related = [
        group
        for group in related_records(db.session, account)
        if group.model is not AccountRelation
    ]
    links = len(relations_of(db.session, account))
    return [*related, _RelatedAccounts(links)] if links else related


@bp.route("/<id:account_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(account_id: int):
    account = db.get_or_404(Account, account_id)
    if account.inactive:
        return _inactive_redirect(account)
    form = DeleteForm()
    if form.validate_on_submit():
        name = account.name
        try:
            delete_account(db.session, account, detach=bool(form.detach.data))
        except HasRelatedRecords:
            flash(
                _("“%(name)s” still has related records; see below.", name=name),
                "warning",
            )
        except AccountRuleError as error:
            flash(str(error.message), "danger")
            return redirect(MODULE.record_url(account.id))
        else:
            flash(
                _(
                    "%(entity)s “%(name)s” deleted.",
                    entity=MODULE.entity_label,
                    name=name,
                ),
                "success",
            )
            return redirect(url_for(MODULE.index_endpoint))
    related = _linked_to(account)
    return render_template(
        "crm/confirm_delete.html",
        module=MODULE,
        form=form,
        record=account,
        related=related,
        blocking=[group for group in related if not group.detachable],
        cancel_url=MODULE.record_url(account.id),
    ), (409 if request.method == "POST" else 200)


def _account_action(account_id: int, action, done_message: str):
    account = db.get_or_404(Account, account_id)
    if ActionForm().validate_on_submit():
        try:
            action(db.session, account)
        except AccountRuleError as error:
            flash(str(error.message), "danger")
        else:
            flash(done_message, "success")
    return redirect(MODULE.record_url(account.id))


@bp.route("/<id:account_id>/submit-review", methods=["POST"])
@login_required
@writes
def submit_review(account_id: int):
    return _account_action(
        account_id, submit_for_review, _("The account is waiting for review.")
    )


@bp.route("/<id:account_id>/approve", methods=["POST"])
@login_required
@writes
def approve(account_id: int):
    return _account_action(account_id, approve_account, _("The account is approved."))


@bp.route("/<id:account_id>/reactivate", methods=["POST"])
@login_required
@writes
def reactivate(account_id: int):
    return _account_action(
        account_id, reactivate_account, _("The account is active again.")
    )


def _small_form_page(account: Account, form, title: str, intro: str = ""):
    return render_template(
        "accounts/action.html",
        module=MODULE,
        account=account,
        form=form,
        title=title,
        intro=intro,
    )


@bp.route("/<id:account_id>/reject", methods=["GET", "POST"])
@login_required
@writes
def reject(account_id: int):
    account = db.get_or_404(Account, account_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            reject_account(db.session, account, form.note.data)
        except AccountRuleError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("The account is rejected."), "success")
        return redirect(MODULE.record_url(account.id))
    return _small_form_page(account, form, _("Reject the account"))


@bp.route("/<id:account_id>/deactivate", methods=["GET", "POST"])
@login_required
@writes
def deactivate(account_id: int):
    account = db.get_or_404(Account, account_id)
    if account.inactive:
        return _inactive_redirect(account)
    form = DeactivateForm()
    if form.validate_on_submit():
        try:
            deactivate_account(db.session, account, form.reason.data)
        except AccountRuleError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("The account is inactive and now read-only."), "success")
        return redirect(MODULE.record_url(account.id))
    return _small_form_page(
        account,
        form,
        _("Mark the account inactive"),
        _(
            "An inactive account can be viewed but not changed, and no new contacts "
            "can be added to it, until it is reactivated."
        ),
    )


def former_names(session, account: Account) -> list[AccountName]:
    """The names the account had before, the latest first."""
    return list(
        session.scalars(
            sa.select(AccountName)
            .where(AccountName.account_id == account.id)
            .order_by(AccountName.until.desc(), AccountName.id.desc())
        )
    )


@bp.route("/<id:account_id>/rename", methods=["GET", "POST"])
@login_required
@writes
def rename(account_id: int):
    account = db.get_or_404(Account, account_id)
    if account.inactive:
        return _inactive_redirect(account)
    form = RenameForm()
    if form.validate_on_submit():
        former = account.name
        try:
            rename_account(db.session, account, form.name.data, form.reason.data)
        except AccountRuleError as error:
            show_refusal(form, error)
        else:
            flash(
                _(
                    "“%(former)s” is now called “%(name)s”.",
                    former=former,
                    name=account.name,
                ),
                "success",
            )
            return redirect(MODULE.record_url(account.id))
    return _small_form_page(
        account,
        form,
        _("Rename the account"),
        _(
            "The current name is kept in the account's name history, and searches "
            "still find the account by it."
        ),
    )


@bp.route("/<id:account_id>/share", methods=["GET", "POST"])
@login_required
@writes
def share(account_id: int):
    account = db.get_or_404(Account, account_id)
    if account.inactive:
        return _inactive_redirect(account)
    form = ShareForm(obj=account, co_owner_ids=[c.id for c in account.co_owners])
    if form.validate_on_submit():
        try:
            share_account(
                db.session, account, form.owner_id.data, form.co_owner_ids.data or ()
            )
        except AccountRuleError as error:
            form.co_owner_ids.errors = [*form.co_owner_ids.errors, str(error.message)]
        else:
            flash(_("Owner and co-owners saved."), "success")
            return redirect(MODULE.record_url(account.id))
    return _small_form_page(account, form, _("Change owner and share"))


@bp.route("/<id:account_id>/relations", methods=["POST"])
@login_required
@writes
def add_relation(account_id: int):
    account = db.get_or_404(Account, account_id)
    form = RelationForm()
    if form.validate_on_submit():
        related = db.session.get(Account, form.related_id.data)
        try:
            relate_accounts(db.session, account, related, form.relation.data)
        except AccountRuleError as error:
            form.related_id.errors = [*form.related_id.errors, str(error.message)]
        else:
            flash(
                _("“%(name)s” is now a related account.", name=related.name), "success"
            )
            return redirect(MODULE.record_url(account.id) + "#related")
    return _render_detail(account, form), 400


@bp.route("/<id:account_id>/relations/<id:relation_id>/delete", methods=["POST"])
@login_required
@writes
def remove_relation(account_id: int, relation_id: int):
    account = db.get_or_404(Account, account_id)
    link = db.get_or_404(AccountRelation, relation_id)
    if account.id not in (link.account_id, link.related_id):
        abort(404)
    if ActionForm().validate_on_submit():
        other = link.related if link.account_id == account.id else link.account
        try:
            unrelate_accounts(db.session, link)
        except AccountRuleError as error:
            flash(str(error.message), "danger")
        else:
            flash(
                _("“%(name)s” is no longer a related account.", name=other.name),
                "success",
            )
    return redirect(MODULE.record_url(account.id) + "#related")
