"""The CRM a student works in: one blueprint package per module, on the tenant database.

Nothing here knows about lessons or grading. Each module registers a sidebar entry;
the sidebar lists only the modules that exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, request

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Contact
from sandbox.tenancy import current_handle


@dataclass(frozen=True)
class Module:
    endpoint: str
    label: object
    icon: str
    model: type  # the module's main record


MODULES = (
    Module("accounts.index", _l("Accounts"), "building", Account),
    Module("contacts.index", _l("Contacts"), "person-lines-fill", Contact),
)


def module_counts(session) -> list[tuple[Module, int]]:
    """Each module with the number of records it holds, for the workbench."""
    return [
        (module, session.scalar(sa.select(sa.func.count()).select_from(module.model)))
        for module in MODULES
    ]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_writes_when_read_only() -> None:
    """An instructor viewing a student's CRM may look but never change anything."""
    handle = current_handle()
    if request.method not in SAFE_METHODS and handle is not None and handle.readonly:
        abort(403)


def module_blueprint(name: str, import_name: str) -> Blueprint:
    """A CRM module's blueprint: no writes in a read-only view (the database
    connection refuses them too)."""
    bp = Blueprint(name, import_name)
    bp.before_request(refuse_writes_when_read_only)
    return bp


def register(app: Flask) -> None:
    from sandbox.crm.accounts import bp as accounts_bp
    from sandbox.crm.contacts import bp as contacts_bp

    app.register_blueprint(accounts_bp, url_prefix="/crm/accounts")
    app.register_blueprint(contacts_bp, url_prefix="/crm/contacts")
    app.jinja_env.globals["CRM_MODULES"] = MODULES
