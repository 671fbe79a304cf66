import sqlalchemy as sa
from flask import flash, redirect, render_template, request
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.contacts import MODULE, bp
from sandbox.crm.contacts.forms import ContactForm
from sandbox.crm.contacts.service import create_contact, update_contact
from sandbox.crm.listing import module_listing
from sandbox.crm.registry import writes
from sandbox.crm.views import delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Account, Contact


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Contact)
        .outerjoin(Contact.account)
        .options(contains_eager(Contact.account))
    )
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=module_listing(MODULE, stmt, search=(*MODULE.search, Account.name)),
        search_hint=_("Name, account, email, phone or job title"),
        new_label=_("New contact"),
        no_match=_("No contacts match your search."),
        no_records=_("There are no contacts yet."),
        first_label=_("Create the first contact"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = ContactForm()
    if not form.is_submitted():
        account_id = request.args.get("account_id", type=int)
        if account_id and db.session.get(Account, account_id) is not None:
            form.account_id.data = account_id
    if form.validate_on_submit():
        contact = create_contact(db.session, form.data)
        flash(_("Contact “%(name)s” created.", name=contact.full_name), "success")
        return redirect(MODULE.record_url(contact.id))
    return render_form(MODULE, form)


@bp.route("/<id:contact_id>")
@login_required
def detail(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    return render_template(
        "contacts/detail.html",
        module=MODULE,
        contact=contact,
        history=timeline(db.session, contact),
    )


@bp.route("/<id:contact_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        update_contact(db.session, contact, form.data)
        flash(_("Contact “%(name)s” saved.", name=contact.full_name), "success")
        return redirect(MODULE.record_url(contact.id))
    return render_form(MODULE, form, contact)


@bp.route("/<id:contact_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(contact_id: int):
    return delete_page(MODULE, db.get_or_404(Contact, contact_id))
