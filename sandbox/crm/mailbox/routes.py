import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label, join_list
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.mailbox import MODULE, TEMPLATES, bp, templates_bp
from sandbox.crm.mailbox import service as svc
from sandbox.crm.mailbox.forms import (
    CampaignMailForm,
    ComposeForm,
    RepliesForm,
    TemplateForm,
)
from sandbox.crm.registry import writes
from sandbox.crm.views import delete_page
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import ngettext
from sandbox.models import utcnow
from sandbox.models.crm import Contact
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.mailbox import EmailMessage, EmailTemplate
from sandbox.routing import record_id_arg

RECIPIENTS = {"leads": Lead, "contacts": Contact}


def _show_error(form, error: svc.MailError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and error.field in form:
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "danger")


def _template_choices() -> list[tuple[int, str]]:
    return [
        (i, n)
        for i, n in db.session.execute(
            sa.select(EmailTemplate.id, EmailTemplate.name).order_by(EmailTemplate.name)
        )
    ]


@bp.route("/")
@login_required
def index():
    listing = module_listing(
        MODULE,
        filters=(
            ListFilter(
                "folder",
                EmailMessage.direction,
                field_label(EmailMessage, "direction"),
                codes="mail_direction",
            ),
        ),
        default_direction="desc",
    )
    return render_template(
        "mailbox/list.html",
        module=MODULE,
        listing=listing,
        replies_form=RepliesForm(formdata=None),
        search_hint=_("Subject, recipient or address"),
        new_label=None,
        no_match=_("No emails match your search."),
        no_records=_(
            "The mailbox is empty. Send an email from a lead's or a contact's page, "
            "or to a campaign's members."
        ),
    )


@bp.route("/<id:message_id>")
@login_required
def detail(message_id: int):
    message = db.get_or_404(EmailMessage, message_id)
    replies = db.session.scalars(
        sa.select(EmailMessage)
        .where(EmailMessage.reply_to_id == message.id)
        .order_by(EmailMessage.sent_at)
    ).all()
    return render_template(
        "mailbox/detail.html",
        module=MODULE,
        message=message,
        replies=replies,
        history=timeline(db.session, message),
    )


def _record(kind: str, record_id: int):
    model = RECIPIENTS.get(kind)
    if model is None:
        abort(404)
    return db.get_or_404(model, record_id)


@bp.route("/compose/<kind>/<id:record_id>", methods=["GET", "POST"])
@login_required
@writes
def compose(kind: str, record_id: int):
    """Write an email to a lead or a contact, from a template or from scratch."""
    record = _record(kind, record_id)
    recipient = svc.recipient_for(record)
    form = ComposeForm()
    templates = _template_choices()
    template = None
    chosen = record_id_arg("template_id")
    if chosen is not None:
        template = db.session.get(EmailTemplate, chosen)
    if template is not None and not form.is_submitted():
        form.subject.data, form.body.data = template.subject, template.body
    if form.validate_on_submit():
        try:
            message = svc.send_email(
                db.session,
                record,
                form.subject.data,
                form.body.data,
                template=template,
            )
        except svc.MailError as error:
            _show_error(form, error)
        else:
            flash(
                _(
                    "Email “%(subject)s” sent to %(name)s (kept in the mailbox; "
                    "nothing left this computer).",
                    subject=message.subject,
                    name=message.to_name,
                ),
                "success",
            )
            return redirect(url_for(f"{kind}.detail", **{_id_arg(kind): record.id}))
    return render_template(
        "mailbox/compose.html",
        module=MODULE,
        form=form,
        record=record,
        kind=kind,
        recipient=recipient,
        templates=templates,
        template=template,
        merge_fields=svc.MERGE_FIELDS,
    )


def _id_arg(kind: str) -> str:
    return {"leads": "lead_id", "contacts": "contact_id"}[kind]


@bp.route("/campaign", methods=["GET", "POST"])
@login_required
@writes
def campaign():
    """Email a campaign's planned members with a template, marking them sent."""
    form = CampaignMailForm()
    campaigns = db.session.execute(
        sa.select(Campaign.id, Campaign.name).order_by(Campaign.name)
    ).all()
    form.campaign_id.choices = [(i, n) for i, n in campaigns]
    form.template_id.choices = _template_choices()
    if not form.is_submitted():
        wanted = request.args.get("campaign_id", type=int)
        if wanted in {i for i, _n in campaigns}:
            form.campaign_id.data = wanted
    waiting = {}
    if campaigns:
        waiting = dict(
            db.session.execute(
                sa.select(CampaignMember.campaign_id, sa.func.count())
                .where(CampaignMember.status == "planned")
                .group_by(CampaignMember.campaign_id)
            ).all()
        )
    if form.validate_on_submit():
        chosen = db.session.get(Campaign, form.campaign_id.data)
        template = db.session.get(EmailTemplate, form.template_id.data)
        try:
            result = svc.send_to_campaign(db.session, chosen, template)
        except svc.MailError as error:
            flash(str(error.message), "warning")
        else:
            flash(
                ngettext(
                    "%(num)d email sent to the members of “%(name)s”.",
                    "%(num)d emails sent to the members of “%(name)s”.",
                    len(result.sent),
                    name=chosen.name,
                ),
                "success",
            )
            if result.without_address:
                flash(
                    _(
                        "Not emailed, for want of an address: %(names)s.",
                        names=join_list(result.without_address),
                    ),
                    "warning",
                )
            return redirect(url_for("mailbox.index", folder="out"))
    return render_template(
        "mailbox/campaign.html",
        module=MODULE,
        form=form,
        campaigns=campaigns,
        waiting=waiting,
    )


@bp.route("/replies", methods=["POST"])
@login_required
@writes
def replies():
    """Let simulated time pass: the replies due in the next days arrive."""
    form = RepliesForm()
    if form.validate_on_submit():
        days = int(form.days.data or 7)
        arrived = svc.simulate_replies(
            db.session, until=utcnow() + dt.timedelta(days=days)
        )
        flash(
            ngettext(
                "%(num)d simulated reply arrived.",
                "%(num)d simulated replies arrived.",
                len(arrived),
            ),
            "success" if arrived else "info",
        )
    return redirect(url_for("mailbox.index", folder="in"))


# ------------------------------------------------------------------ templates


@templates_bp.route("/", endpoint="index")
@login_required
def templates_index():
    listing = module_listing(TEMPLATES)
    return render_template(
        "crm/list.html",
        module=TEMPLATES,
        listing=listing,
        search_hint=_("Name or subject"),
        new_label=_("New template"),
        no_match=_("No templates match your search."),
        no_records=_("There are no email templates yet."),
        first_label=_("Create the first template"),
    )


def _template_form_page(form, template=None):
    return render_template(
        "mailbox/template_form.html",
        module=TEMPLATES,
        form=form,
        record=template,
        merge_fields=svc.MERGE_FIELDS,
    )


@templates_bp.route("/new", methods=["GET", "POST"], endpoint="create")
@login_required
@writes
def create_template():
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = svc.save_template(db.session, EmailTemplate(), form.data)
        except svc.MailError as error:
            _show_error(form, error)
        else:
            flash(_("Template “%(name)s” saved.", name=template.name), "success")
            return redirect(TEMPLATES.record_url(template.id))
    return _template_form_page(form)


@templates_bp.route("/<id:template_id>", endpoint="detail")
@login_required
def template_detail(template_id: int):
    template = db.get_or_404(EmailTemplate, template_id)
    return render_template(
        "mailbox/template_detail.html",
        module=TEMPLATES,
        template=template,
        history=timeline(db.session, template),
    )


@templates_bp.route("/<id:template_id>/edit", methods=["GET", "POST"], endpoint="edit")
@login_required
@writes
def edit_template(template_id: int):
    template = db.get_or_404(EmailTemplate, template_id)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            svc.save_template(db.session, template, form.data)
        except svc.MailError as error:
            _show_error(form, error)
        else:
            flash(_("Template “%(name)s” saved.", name=template.name), "success")
            return redirect(TEMPLATES.record_url(template.id))
    return _template_form_page(form, template)


@templates_bp.route(
    "/<id:template_id>/delete", methods=["GET", "POST"], endpoint="delete"
)
@login_required
@writes
def delete_template(template_id: int):
    return delete_page(TEMPLATES, db.get_or_404(EmailTemplate, template_id))
