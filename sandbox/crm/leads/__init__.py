"""Leads (线索): people and companies that may become customers, and conversion."""

from sandbox.crm.leads.service import lead_reminders, lead_todos
from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Colleague
from sandbox.models.crm.leads import Lead

bp = module_blueprint("leads", __name__)

MODULE = register_module(
    Module(
        key="leads",
        label=_l("Leads"),
        entity_label=_l("Lead"),
        noun=_l("lead"),
        icon="funnel",
        model=Lead,
        blueprint=bp,
        group="sales",
        order=10,
        id_arg="lead_id",
        search=(Lead.name, Lead.company, Lead.email, Lead.phone),
        columns=(
            column(Lead.name, kind="link"),
            column(Lead.company),
            column(Lead.status),
            column(Lead.rating),
            column(Lead.source),
            column(
                Lead.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda lead: lead.owner,
            ),
            column(
                Lead.created_at,
                key="created",
                kind="date",
                label=_l("Created on"),
                value=lambda lead: lead.created_at,
            ),
        ),
        default_sort="created",
        todos=lead_todos,
        reminders=lead_reminders,
    )
)

from sandbox.crm.leads import routes  # noqa: E402, F401
