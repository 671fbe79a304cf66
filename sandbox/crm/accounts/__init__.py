"""Accounts: the companies the student's company sells to."""

import sqlalchemy as sa
from flask import url_for

from sandbox.crm.registry import (
    Module,
    Reminder,
    column,
    module_blueprint,
    register_module,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.i18n import ngettext
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.account_names import former_names_expression


def accounts_to_review(session) -> list[Reminder]:
    """A workbench to-do while accounts wait for review (待审核)."""
    pending = session.scalar(
        sa.select(sa.func.count()).where(Account.review_state == "pending")
    )
    if not pending:
        return []
    text = ngettext(
        "%(num)d account is waiting for review",
        "%(num)d accounts are waiting for review",
        pending,
    )
    return [Reminder(text, url_for("accounts.index", review="pending"), "primary")]


bp = module_blueprint("accounts", __name__)

MODULE = register_module(
    Module(
        key="accounts",
        label=_l("Accounts"),
        entity_label=_l("Account"),
        noun=_l("account"),
        icon="building",
        model=Account,
        blueprint=bp,
        group="sales",
        order=20,
        id_arg="account_id",
        search=(
            Account.name,
            Account.city,
            Account.email,
            Account.phone,
            former_names_expression(),
        ),
        columns=(
            column(Account.name, kind="link"),
            column(Account.account_type, key="type"),
            column(Account.status),
            column(Account.industry),
            column(Account.city),
            column(
                Account.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda account: account.owner,
            ),
            column(Account.annual_revenue, key="revenue"),
        ),
        todos=accounts_to_review,
    )
)

from sandbox.crm.accounts import routes  # noqa: E402, F401
