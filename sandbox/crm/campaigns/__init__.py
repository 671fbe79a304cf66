"""Campaigns (市场活动): marketing campaigns, the leads and contacts they reach, and
what they brought in."""

from sandbox.crm.codes import define
from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Colleague
from sandbox.models.crm.campaigns import Campaign

define(
    "campaign_type",
    _l("Campaign types"),
    [
        ("email", "Email", "邮件营销"),
        ("event", "Event / exhibition", "会议/展会"),
        ("seminar", "Seminar", "研讨会"),
        ("telesales", "Telesales", "电话营销"),
        ("advertisement", "Advertisement", "广告"),
        ("web", "Web", "网络推广"),
        ("other", "Other", "其他"),
    ],
)
define(
    "campaign_status",
    _l("Campaign statuses"),
    [
        ("planning", "Planning", "计划中", "secondary"),
        ("active", "Active", "进行中", "primary"),
        ("completed", "Completed", "已完成", "success"),
        ("aborted", "Aborted", "已中止", "dark"),
    ],
)
define(
    "member_status",
    _l("Campaign member statuses"),
    [
        ("planned", "Planned", "计划中", "secondary"),
        ("sent", "Sent", "已发送", "info"),
        ("responded", "Responded", "已响应", "primary"),
        ("converted", "Converted", "已转化", "success"),
    ],
)

bp = module_blueprint("campaigns", __name__)

MODULE = register_module(
    Module(
        key="campaigns",
        label=_l("Campaigns"),
        entity_label=_l("Campaign"),
        noun=_l("campaign"),
        icon="megaphone",
        model=Campaign,
        blueprint=bp,
        group="marketing",
        order=10,
        id_arg="campaign_id",
        search=(Campaign.name, Campaign.description),
        columns=(
            column(Campaign.name, kind="link"),
            column(Campaign.campaign_type, key="type"),
            column(Campaign.status),
            column(Campaign.start_date, key="start", kind="date"),
            column(Campaign.end_date, key="end", kind="date"),
            column(
                Campaign.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda campaign: campaign.owner,
            ),
            column(Campaign.budget),
            column(Campaign.actual_cost, key="cost"),
        ),
        default_sort="start",
    )
)

from sandbox.crm.campaigns import routes  # noqa: E402, F401
