"""Sales orders (销售订单) with their invoices (发票) and payments (回款): created
under a contract or a won opportunity, tracked through delivery and closed once paid;
overdue invoices show on the workbench and balances on the account."""

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
from sandbox.models.crm.orders import SalesOrder

define(
    "order_status",
    _l("Order states"),
    [
        ("draft", "Draft", "草稿", "secondary"),
        ("confirmed", "Confirmed", "已确认", "primary"),
        ("delivered", "Delivered", "已发货", "info"),
        ("closed", "Closed", "已关闭", "dark"),
        ("cancelled", "Cancelled", "已取消", "danger"),
    ],
)
define(
    "payment_method",
    _l("Payment methods"),
    [
        ("bank_transfer", "Bank transfer", "银行转账"),
        ("cheque", "Cheque", "支票"),
        ("card", "Card", "刷卡"),
        ("cash", "Cash", "现金"),
        ("online", "Online payment", "在线支付"),
    ],
)

bp = module_blueprint("sales_orders", __name__)
#: Overdue orders named one by one on the workbench; the rest are counted.
REMINDER_LIMIT = 5


def overdue_reminders(session) -> list[Reminder]:
    """Orders with overdue invoices, for the workbench."""
    from flask import url_for

    from sandbox.crm.display import currency, money
    from sandbox.crm.orders.service import overdue_orders

    found = overdue_orders(session)
    items = [
        Reminder(
            _(
                "Order %(number)s has overdue payments: %(amount)s %(currency)s past "
                "due.",
                number=order.number,
                amount=money(balance.overdue),
                currency=currency(),
            ),
            MODULE.record_url(order.id),
            "danger",
        )
        for order, balance in found[:REMINDER_LIMIT]
    ]
    if len(found) > REMINDER_LIMIT:
        items.append(
            Reminder(
                _(
                    "%(count)d more orders have overdue payments.",
                    count=len(found) - REMINDER_LIMIT,
                ),
                url_for("sales_orders.index", overdue="1"),
                "danger",
            )
        )
    return items


MODULE = register_module(
    Module(
        key="sales_orders",
        label=_l("Sales orders"),
        entity_label=_l("Sales order"),
        noun=_l("sales order"),
        icon="cart-check",
        model=SalesOrder,
        blueprint=bp,
        group="sales",
        order=55,
        id_arg="order_id",
        search=(SalesOrder.number,),
        columns=(
            column(SalesOrder.number, kind="link", nowrap=True),
            column(
                SalesOrder.account_id,
                key="account",
                kind="ref",
                ref="accounts",
                sort=Account.name,
                value=lambda order: order.account,
            ),
            column(SalesOrder.status),
            column(SalesOrder.amount),
            column(SalesOrder.order_date, kind="date"),
            column(SalesOrder.delivery_date, kind="date"),
            column(
                SalesOrder.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda order: order.owner,
            ),
        ),
        default_sort="number",
        reminders=overdue_reminders,
        extra={"number": SalesOrder.number},
    )
)

from sandbox.crm.orders import routes  # noqa: E402, F401
