"""Opportunities (销售机会): deals through the sales stages, the kanban pipeline,
line items, competitors on a deal, quotes and the early warning (预警)."""

from flask import g, url_for
from markupsafe import Markup

from sandbox.crm.registry import (
    Module,
    Reminder,
    column,
    module_blueprint,
    register_module,
)
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.sales import Opportunity, Stage

bp = module_blueprint("opportunities", __name__)


def request_stale_days() -> int:
    """The tenant's no-activity threshold, read once per request."""
    from sandbox.crm.opportunities.service import stale_days
    from sandbox.extensions import db

    if "stale_opportunity_days" not in g:
        g.stale_opportunity_days = stale_days(db.session)
    return g.stale_opportunity_days


def warning_badges(opp: Opportunity) -> Markup:
    """The early-warning badges of one deal (overdue, no recent activity)."""
    from sandbox.crm.opportunities.service import warnings_for

    flags = warnings_for(opp, request_stale_days())
    badges = []
    if flags.overdue:
        badges.append(
            Markup(
                '<span class="badge text-bg-danger warning-overdue">{}</span>'
            ).format(_("Past close date"))
        )
    if flags.stale:
        badges.append(
            Markup(
                '<span class="badge text-bg-warning warning-stale">{}</span>'
            ).format(_("No activity"))
        )
    return Markup(" ").join(badges)


def reminders(session) -> list[Reminder]:
    """Flagged open deals for the workbench, nearest close date first."""
    from sandbox.crm.opportunities.service import flagged, today

    deals, total = flagged(session, limit=5)
    items = []
    for opp in deals:
        if opp.close_date < today():
            text = _("Opportunity “%(name)s” is past its close date.", name=opp.name)
            level = "danger"
        else:
            text = _(
                "Opportunity “%(name)s” has had no activity lately.", name=opp.name
            )
            level = "warning"
        items.append(Reminder(text, MODULE.record_url(opp.id), level))
    if total > len(deals):
        items.append(
            Reminder(
                _(
                    "%(count)d more opportunities need attention.",
                    count=total - len(deals),
                ),
                url_for("opportunities.index", warning="any"),
            )
        )
    return items


def _stage_name(opp: Opportunity) -> str:
    from sandbox.crm.opportunities.service import stage_label

    return stage_label(opp.stage)


MODULE = register_module(
    Module(
        key="opportunities",
        label=_l("Opportunities"),
        entity_label=_l("Opportunity"),
        noun=_l("opportunity"),
        icon="briefcase",
        model=Opportunity,
        blueprint=bp,
        group="sales",
        order=40,
        id_arg="opportunity_id",
        search=(Opportunity.name, Opportunity.next_step),
        columns=(
            column(Opportunity.name, kind="link"),
            column(
                Opportunity.account_id,
                key="account",
                kind="ref",
                ref="accounts",
                sort=Account.name,
                value=lambda opp: opp.account,
            ),
            column(
                Opportunity.stage_id,
                key="stage",
                sort=Stage.position,
                value=_stage_name,
            ),
            column(Opportunity.amount),
            column(Opportunity.close_date, kind="date"),
            column(Opportunity.probability, kind="number"),
            column(
                Opportunity.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda opp: opp.owner,
            ),
            column(
                Opportunity.last_activity_at,
                key="warning",
                label=_l("Early warning"),
                value=warning_badges,
            ),
        ),
        default_sort="close_date",
        reminders=reminders,
    )
)

from sandbox.crm.opportunities import routes  # noqa: E402, F401
