import sqlalchemy as sa
from flask import flash, redirect, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.contacts import MODULE, bp
from sandbox.crm.contacts.forms import ContactForm
from sandbox.crm.contacts.service import (
    ContactRuleError,
    create_contact,
    duplicate_contacts,
    update_contact,
)
from sandbox.crm.display import join_list
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


def _who(other: Contact) -> str:
    if other.account is not None:
        return _("%(label)s (%(note)s)", label=other.full_name, note=other.account.name)
    return other.full_name


def _duplicate_sentence(field: str, other: Contact) -> str:
    if field == "email":
        return _("%(name)s has the same email.", name=_who(other))
    return _("%(name)s has the same mobile.", name=_who(other))


def _warn_duplicates(contact: Contact) -> None:
    """Say, after saving, which other contacts share this email or mobile."""
    for field, other in duplicate_contacts(db.session, contact):
        flash(
            _(
                "Possible duplicate: %(sentence)s",
                sentence=_duplicate_sentence(field, other),
            ),
            "warning",
        )


def _mark_duplicates(form: ContactForm, contact: Contact | None) -> None:
    """Show, under the email and mobile fields, who else uses them."""
    probe = contact or Contact()
    found = duplicate_contacts(
        db.session, probe, email=form.email.data or "", mobile=form.mobile.data or ""
    )
    for name in ("email", "mobile"):
        notes = [
            Markup('<a href="{}">{}</a>').format(MODULE.record_url(o.id), _who(o))
            for f, o in found
            if f == name
        ]
        if notes:
            getattr(form, name).description = Markup(
                '<span class="text-warning-emphasis duplicate-warning">{} {}</span>'
            ).format(_("Possible duplicate, also used by:"), join_list(notes))


def _refused(form: ContactForm, error: ContactRuleError) -> None:
    field = getattr(form, error.field)
    field.errors = [*field.errors, str(error.message)]


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = ContactForm()
    if not form.is_submitted():
        account_id = request.args.get("account_id", type=int)
        account = db.session.get(Account, account_id) if account_id else None
        if account is not None and not account.inactive:
            form.account_id.data = account_id
    if form.validate_on_submit():
        try:
            contact = create_contact(db.session, form.data)
        except ContactRuleError as error:
            _refused(form, error)
        else:
            flash(_("Contact “%(name)s” created.", name=contact.full_name), "success")
            _warn_duplicates(contact)
            return redirect(MODULE.record_url(contact.id))
    if form.is_submitted():
        _mark_duplicates(form, None)
    return render_form(MODULE, form)


@bp.route("/<id:contact_id>")
@login_required
def detail(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    reports = db.session.scalars(
        sa.select(Contact)
        .where(Contact.reports_to_id == contact.id)
        .order_by(Contact.last_name, Contact.first_name)
    ).all()
    return render_template(
        "contacts/detail.html",
        module=MODULE,
        contact=contact,
        reports=reports,
        duplicates=[
            (_duplicate_sentence(field, other), other)
            for field, other in duplicate_contacts(db.session, contact)
        ],
        history=timeline(db.session, contact),
    )


@bp.route("/<id:contact_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            update_contact(db.session, contact, form.data)
        except ContactRuleError as error:
            _refused(form, error)
        else:
            flash(_("Contact “%(name)s” saved.", name=contact.full_name), "success")
            _warn_duplicates(contact)
            return redirect(MODULE.record_url(contact.id))
    _mark_duplicates(form, contact)
    return render_form(MODULE, form, contact)


@bp.route("/<id:contact_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(contact_id: int):
    return delete_page(MODULE, db.get_or_404(Contact, contact_id))
