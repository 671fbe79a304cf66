"""Service desk (客户服务): customer cases (工单) with their lifecycle and SLAs."""

from flask import url_for
from flask_babel import format_datetime

from sandbox.crm.codes import define
from sandbox.crm.registry import (
    Module,
    Reminder,
    column,
    module_blueprint,
    register_module,
)
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.service import Case

define(
    "case_type",
    _l("Case types"),
    [
        ("question", "Question", "咨询"),
        ("fault", "Fault", "故障"),
        ("request", "Request", "需求"),
        ("complaint", "Complaint", "投诉", "danger"),
        ("suggestion", "Suggestion", "意见"),
    ],
)
define(
    "case_origin",
    _l("Case origins"),
    [
        ("phone", "Phone", "电话"),
        ("email", "Email", "邮件"),
        ("web", "Web", "网站"),
        ("on_site", "On site", "现场"),
    ],
)
define(
    "case_priority",
    _l("Case priorities"),
    [
        ("p1", "P1 – Critical", "P1 – 紧急", "danger"),
        ("p2", "P2 – High", "P2 – 高", "warning"),
        ("p3", "P3 – Normal", "P3 – 中", "info"),
        ("p4", "P4 – Low", "P4 – 低", "secondary"),
    ],
)
define(
    "case_status",
    _l("Case states"),
    [
        ("new", "New", "新建", "primary"),
        ("accepted", "Accepted", "已受理", "info"),
        ("assigned", "Assigned", "已派单", "info"),
        ("in_progress", "In progress", "处理中", "primary"),
        ("pending_customer", "Pending customer", "待客户反馈", "warning"),
        ("escalated", "Escalated", "已升级", "danger"),
        ("suspended", "Suspended", "已挂起", "secondary"),
        ("resolved", "Resolved", "已解决", "success"),
        ("callback", "Called back", "已回访", "success"),
        ("closed", "Closed", "已关闭", "dark"),
        ("cancelled", "Cancelled", "已取消", "secondary"),
        ("merged", "Merged", "已合并", "secondary"),
    ],
)
define(
    "case_queue",
    _l("Service queues"),
    [
        ("first_line", "First line", "一线支持"),
        ("second_line", "Second line", "二线支持"),
        ("technical", "Technical", "技术支持"),
        ("billing", "Billing", "账务"),
    ],
)

bp = module_blueprint("cases", __name__)


def sla_reminders(session) -> list[Reminder]:
    """SLA alarms for the workbench: open cases overdue or due within the hour."""
    from sandbox.crm.cases.service import sla_alarms

    now = utcnow()
    items = []
    for case in sla_alarms(session, now=now):
        if case.next_due_at <= now:
            text = _("%(case)s is overdue", case=case.display_name)
        else:
            text = _(
                "%(case)s is due at %(time)s",
                case=case.display_name,
                time=format_datetime(case.next_due_at, "short"),
            )
        items.append(
            Reminder(
                text,
                url_for("cases.detail", case_id=case.id),
                "danger" if case.next_due_at <= now else "warning",
            )
        )
    return items


MODULE = register_module(
    Module(
        key="cases",
        label=_l("Cases"),
        entity_label=_l("Case"),
        noun=_l("case"),
        icon="life-preserver",
        model=Case,
        blueprint=bp,
        group="service",
        order=10,
        id_arg="case_id",
        search=(Case.number, Case.subject),
        columns=(
            column(Case.number, kind="link", nowrap=True),
            column(Case.subject),
            column(
                Case.account_id,
                key="account",
                kind="ref",
                ref="accounts",
                sort=Account.name,
                value=lambda case: case.account,
            ),
            column(Case.priority),
            column(Case.status),
            column(
                Case.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda case: case.owner,
            ),
            column(Case.next_due_at, key="due", kind="datetime"),
        ),
        default_sort="number",
        reminders=sla_reminders,
    )
)

from sandbox.crm.cases import routes  # noqa: E402, F401
