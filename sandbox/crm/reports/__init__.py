"""Reports (报表 / 统计分析): charts and the tables behind them, with CSV and XLSX
export, the 7P customer analysis, and the workbench's key figures.

A page module: it keeps no records of its own. The registry asks every module for a
model, so it names the opportunity (the record most reports count); it is left off
the workbench counts and out of search (no search columns, no list columns).
"""

from sandbox.crm.registry import Module, module_blueprint, register_module
from sandbox.crm.reports import customers, desk, sales, seven_p
from sandbox.crm.reports.framework import Choice, Report, define_report
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.sales import Opportunity

bp = module_blueprint("reports", __name__)

MODULE = register_module(
    Module(
        key="reports",
        label=_l("Reports"),
        entity_label=_l("Report"),
        noun=_l("report"),
        icon="bar-chart-line",
        model=Opportunity,
        blueprint=bp,
        group="analytics",
        order=10,
        id_arg="report_id",
        on_workbench=False,
    )
)

SALES = _l("Sales")
SERVICE = _l("Service and activities")
CUSTOMERS = _l("Customer analysis")
CLOSE_DATE = _l("Close date")
WON_ON = _l("Date won or lost")
CREATED = _l("Created on")

define_report(
    Report(
        "pipeline",
        _l("Pipeline by stage"),
        _l("Open opportunities per stage: count, amount and weighted amount."),
        sales.pipeline_by_stage,
        CLOSE_DATE,
        group=SALES,
        icon="funnel",
    )
)
define_report(
    Report(
        "won-by-month",
        _l("Won sales by month"),
        _l("Deals won each month, the amount and the average deal."),
        sales.won_by_month,
        _l("Date won"),
        default_period="last_12_months",
        group=SALES,
        icon="graph-up",
    )
)
define_report(
    Report(
        "competitors",
        _l("Win/loss by competitor"),
        _l("Closed deals against each competitor: won, lost and the win rate."),
        sales.win_loss_by_competitor,
        WON_ON,
        group=SALES,
        icon="trophy",
    )
)
define_report(
    Report(
        "lead-sources",
        _l("Leads by source"),
        _l("Leads per source and the share converted into customers."),
        sales.leads_by_source,
        CREATED,
        group=SALES,
        icon="person-plus",
    )
)
define_report(
    Report(
        "campaign-roi",
        _l("Campaign ROI"),
        _l("Each campaign's cost, the deals it brought and its return."),
        sales.campaign_roi,
        _l("Campaign start date"),
        group=SALES,
        icon="megaphone",
    )
)
define_report(
    Report(
        "cases",
        _l("Cases and SLA compliance"),
        _l("Cases by status and priority, and how many met their SLA."),
        desk.cases_report,
        _l("Opened on"),
        group=SERVICE,
        icon="life-preserver",
    )
)
define_report(
    Report(
        "activities",
        _l("Activities by colleague"),
        _l("Each colleague's tasks, calls and meetings: completed, open, overdue."),
        desk.activities_by_colleague,
        _l("Start or due date"),
        group=SERVICE,
        icon="calendar-check",
    )
)
define_report(
    Report(
        "customers-industry",
        _l("Customers by industry"),
        _l("Accounts per industry and what they bought."),
        customers.customers_by_industry,
        CREATED,
        group=CUSTOMERS,
        icon="building",
    )
)
define_report(
    Report(
        "customers-region",
        _l("Customers by region"),
        _l("Accounts per city and what they bought."),
        customers.customers_by_region,
        CREATED,
        group=CUSTOMERS,
        icon="geo-alt",
    )
)
define_report(
    Report(
        "customers-source",
        _l("Customers by source"),
        _l("Accounts per source and what they bought."),
        customers.customers_by_source,
        CREATED,
        group=CUSTOMERS,
        icon="signpost-split",
    )
)
define_report(
    Report(
        "7p",
        _l("7P customer analysis"),
        _l(
            "Profiling, Persistence, Profitability, Performance, Prospecting, "
            "Product and Promotion, per customer segment."
        ),
        seven_p.seven_p,
        _l("Date won (deals); created on (accounts, leads, campaign members)"),
        choices=(
            Choice(
                "p",
                _l("Analysis"),
                (
                    *((key, label) for key, (label, _b) in seven_p.ANALYSES.items()),
                    (seven_p.ALL, _l("All seven")),
                ),
                tabs=True,
            ),
            Choice(
                "segment",
                _l("Segment by"),
                tuple(
                    (key, customers.SEGMENTS[key]) for key in seven_p.SEGMENT_CHOICES
                ),
            ),
        ),
        group=CUSTOMERS,
        icon="diagram-3",
    )
)

from sandbox.crm.reports import routes  # noqa: E402, F401
