import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.contacts import bp
from sandbox.crm.contacts.forms import ContactForm
from sandbox.crm.contacts.service import create_contact, update_contact
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.listing import list_records
from sandbox.crm.service import remove
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Account, Contact


def get_contact_or_404(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    return contact


def _form(**kwargs) -> ContactForm:
    form = ContactForm(**kwargs)
    form.set_account_choices(
        db.session.scalars(sa.select(Account).order_by(Account.name))
    )
    return form


@bp.route("/")
@login_required
def index():
    listing = list_records(
        sa.select(Contact).outerjoin(Contact.account),
        search=(
            Contact.first_name,
            Contact.last_name,
            Contact.email,
            Contact.title,
            Account.name,
        ),
        sorts={
            "name": Contact.last_name,
            "account": Account.name,
            "title": Contact.title,
            "created": Contact.created_at,
        },
        default_sort="name",
    )
    return render_template("contacts/index.html", listing=listing)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    form = _form()
    if request.method == "GET":
        form.account_id.data = request.args.get("account_id", type=int)
    if form.validate_on_submit():
        contact = create_contact(db.session, form.data)
        flash(_("Contact “%(name)s” created.", name=contact.full_name), "success")
        return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=None)


@bp.route("/<id:contact_id>")
@login_required
def detail(contact_id: int):
    contact = get_contact_or_404(contact_id)
    return render_template(
        "contacts/detail.html",
        contact=contact,
        history=timeline(db.session, "contact", contact.id),
    )


@bp.route("/<id:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    contact = get_contact_or_404(contact_id)
    form = _form(obj=contact)
    if form.validate_on_submit():
        update_contact(db.session, contact, form.data)
        flash(_("Contact “%(name)s” saved.", name=contact.full_name), "success")
        return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=contact)


@bp.route("/<id:contact_id>/delete", methods=["GET", "POST"])
@login_required
def delete(contact_id: int):
    contact = get_contact_or_404(contact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = contact.full_name
        remove(db.session, contact)
        flash(_("Contact “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("contacts.index"))
    return render_template(
        "crm/confirm_delete.html",
        form=form,
        record_name=contact.full_name,
        cancel_url=url_for("contacts.detail", contact_id=contact.id),
    )
