"""Settings (设置) for the student's company: its team, its sales stages and its
own versions of the code lists.

Three registered modules, one per kind of record the company edits, so each gets
its place in the "Company" group of the sidebar and readable timelines: the team
(colleagues, who own records), the stage table, and the code lists (a code list the
company edited is a ``CodeListVersion`` record whose history holds every change).
"""

from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.sales import Stage
from sandbox.models.crm.team import CodeListVersion, Colleague

team_bp = module_blueprint("team", __name__)
stages_bp = module_blueprint("stages", __name__)
codes_bp = module_blueprint("settings", __name__)

TEAM = register_module(
    Module(
        key="team",
        label=_l("Team"),
        entity_label=_l("Colleague"),
        noun=_l("colleague"),
        icon="people",
        model=Colleague,
        blueprint=team_bp,
        on_workbench=False,
        group="company",
        order=10,
        id_arg="colleague_id",
        search=(Colleague.name, Colleague.email),
        columns=(
            column(Colleague.name, kind="link"),
            column(Colleague.role),
            column(Colleague.email),
            column(
                Colleague.active,
                value=lambda c: _l("Active") if c.active else _l("Inactive"),
            ),
        ),
    )
)

STAGES = register_module(
    Module(
        key="stages",
        label=_l("Sales stages"),
        entity_label=_l("Sales stage"),
        noun=_l("sales stage"),
        icon="list-check",
        model=Stage,
        blueprint=stages_bp,
        on_workbench=False,
        group="company",
        order=20,
        id_arg="stage_id",
        search=(Stage.name, Stage.name_zh, Stage.code),
        default_sort="position",
        columns=(
            column(Stage.position),
            column(Stage.name, kind="link"),
            column(Stage.name_zh),
            column(Stage.probability, kind="number"),
            column(Stage.forecast_category),
        ),
    )
)

CODE_LIST_MODULE = register_module(
    Module(
        key="settings",
        label=_l("Code lists"),
        entity_label=_l("Code list"),
        noun=_l("code list"),
        icon="gear",
        model=CodeListVersion,
        blueprint=codes_bp,
        on_workbench=False,
        group="company",
        order=30,
        id_arg="code_list_id",
    )
)

from sandbox.crm.settings import codes, stages, team  # noqa: E402, F401
