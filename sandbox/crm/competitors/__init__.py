"""Competitors (竞争对手): who the company meets in deals, and how it fares."""

from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.competitors import Competitor

bp = module_blueprint("competitors", __name__)

MODULE = register_module(
    Module(
        key="competitors",
        label=_l("Competitors"),
        entity_label=_l("Competitor"),
        noun=_l("competitor"),
        icon="shield-exclamation",
        model=Competitor,
        blueprint=bp,
        group="sales",
        order=60,
        id_arg="competitor_id",
        search=(Competitor.name, Competitor.website, Competitor.products),
        columns=(
            column(Competitor.name, kind="link"),
            column(Competitor.website),
            column(Competitor.updated_at, kind="date", label=_l("Last changed")),
        ),
    )
)

from sandbox.crm.competitors import routes  # noqa: E402, F401
