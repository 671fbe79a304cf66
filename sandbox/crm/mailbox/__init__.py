"""The simulated mailbox (邮件管理): templates with merge fields, the outbox, sending
to leads, contacts and campaign members, and simulated replies. Mail never leaves
the machine."""

from flask import render_template
from markupsafe import Markup

from sandbox.crm.audit import TIMELINE_PANELS
from sandbox.crm.codes import define
from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Contact
from sandbox.models.crm.campaigns import Campaign
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.mailbox import EmailMessage, EmailTemplate

define(
    "mail_direction",
    _l("Mail folders"),
    [
        ("out", "Sent", "已发送", "primary"),
        ("in", "Received", "已收到", "success"),
    ],
)

bp = module_blueprint("mailbox", __name__)
templates_bp = module_blueprint("mail_templates", __name__)

MODULE = register_module(
    Module(
        key="mailbox",
        label=_l("Mailbox"),
        entity_label=_l("Email"),
        noun=_l("email"),
        icon="envelope",
        model=EmailMessage,
        blueprint=bp,
        group="activities",
        order=30,
        id_arg="message_id",
        search=(EmailMessage.subject, EmailMessage.to_name, EmailMessage.to_address),
        columns=(
            column(EmailMessage.subject, kind="link"),
            column(EmailMessage.direction),
            column(EmailMessage.to_name, key="recipient"),
            column(EmailMessage.to_address, key="to"),
            column(EmailMessage.from_address, key="sender"),
            column(EmailMessage.sent_at, key="sent", kind="datetime"),
        ),
        default_sort="sent",
    )
)

TEMPLATES = register_module(
    Module(
        key="mail_templates",
        label=_l("Email templates"),
        entity_label=_l("Email template"),
        noun=_l("email template"),
        icon="envelope-paper",
        model=EmailTemplate,
        blueprint=templates_bp,
        group="activities",
        order=40,
        id_arg="template_id",
        search=(EmailTemplate.name, EmailTemplate.subject),
        columns=(
            column(EmailTemplate.name, kind="link"),
            column(EmailTemplate.subject),
            column(
                EmailTemplate.updated_at,
                key="changed",
                kind="datetime",
                label=_l("Last changed"),
            ),
        ),
        on_workbench=False,
    )
)


def mail_panel(record) -> Markup:
    """ "Send email" on a lead's or contact's page, "Email the members" on a
    campaign's."""
    if not isinstance(record, (Lead, Contact, Campaign)):
        return Markup("")
    return Markup(  # noqa: S704 - a rendered template
        render_template("mailbox/_record_panel.html", record=record)
    )


TIMELINE_PANELS.append(mail_panel)

from sandbox.crm.mailbox import routes  # noqa: E402, F401
