"""Contracts (合同信息管理): numbered HT-<year>-<nnnn>, made from a won opportunity
or typed directly, approved by the sales manager (rules in :mod:`.service`), with a
renewal reminder on the workbench."""

from flask_babel import format_date

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
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.contracts import Contract

define(
    "contract_status",
    _l("Contract states"),
    [
        ("draft", "Draft", "草稿", "secondary"),
        ("in_approval", "In approval", "审批中", "warning"),
        ("active", "Active", "执行中", "success"),
        ("completed", "Completed", "已完成", "dark"),
        ("terminated", "Terminated", "已终止", "danger"),
    ],
)
define(
    "payment_terms",
    _l("Payment terms"),
    [
        ("prepaid", "Payment in advance", "预付款"),
        ("on_delivery", "Payment on delivery", "货到付款"),
        ("net30", "30 days after invoice", "发票后30天"),
        ("net60", "60 days after invoice", "发票后60天"),
        ("installments", "Installments", "分期付款"),
    ],
)

bp = module_blueprint("contracts", __name__)


def renewal_reminders(session) -> list[Reminder]:
    """Active contracts nearing (or past) their end date, for the workbench."""
    import datetime as dt

    from flask import url_for

    from sandbox.crm.contracts.service import renewals_due

    today = dt.date.today()
    contracts, total = renewals_due(session, today=today)
    items = []
    for contract in contracts:
        if contract.end_date < today:
            text = _(
                "Contract %(number)s ended on %(date)s: complete it or renew it.",
                number=contract.number,
                date=format_date(contract.end_date, "medium"),
            )
            level = "danger"
        else:
            text = _(
                "Contract %(number)s ends on %(date)s: time to talk about renewal.",
                number=contract.number,
                date=format_date(contract.end_date, "medium"),
            )
            level = "warning"
        items.append(Reminder(text, MODULE.record_url(contract.id), level))
    if total > len(contracts):
        items.append(
            Reminder(
                _(
                    "%(count)d more contracts are due for renewal.",
                    count=total - len(contracts),
                ),
                url_for("contracts.index", status="active", sort="end_date"),
            )
        )
    return items


MODULE = register_module(
    Module(
        key="contracts",
        label=_l("Contracts"),
        entity_label=_l("Contract"),
        noun=_l("contract"),
        icon="file-earmark-check",
        model=Contract,
        blueprint=bp,
        group="sales",
        order=50,
        id_arg="contract_id",
        search=(Contract.number, Contract.title),
        columns=(
            column(Contract.number, kind="link", nowrap=True),
            column(Contract.title),
            column(
                Contract.account_id,
                key="account",
                kind="ref",
                ref="accounts",
                sort=Account.name,
                value=lambda contract: contract.account,
            ),
            column(Contract.status),
            column(Contract.amount),
            column(Contract.start_date, kind="date"),
            column(Contract.end_date, kind="date"),
            column(
                Contract.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda contract: contract.owner,
            ),
        ),
        default_sort="number",
        reminders=renewal_reminders,
        extra={"number": Contract.number},
    )
)

from sandbox.crm.contracts import routes  # noqa: E402, F401
