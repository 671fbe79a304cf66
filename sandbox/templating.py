"""Template globals and filters shared by every page."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_datetime, format_decimal

from sandbox import tenancy
from sandbox.crm.labels import CHANGE_DESCRIPTIONS, ENTITY_LABELS, FIELD_LABELS
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.control import Role, Tenant

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.INSTRUCTOR: _l("Instructor"),
    Role.STUDENT: _l("Student"),
}


def tenant_owner_name() -> str:
    """The name of the student whose CRM is open (for the read-only banner)."""
    from sandbox.extensions import db

    handle = tenancy.current_handle()
    tenant = db.session.get(Tenant, handle.tenant_id) if handle else None
    return tenant.student.name if tenant else ""


def describe_change(entry) -> str:
    """One audit-log entry as a sentence, e.g. "Account #12 updated"."""
    template = CHANGE_DESCRIPTIONS.get(entry.action)
    entity = ENTITY_LABELS.get(entry.entity, entry.entity)
    if template is None:
        return f"{entity} #{entry.entity_id} {entry.action}"
    return template % {"entity": entity, "id": entry.entity_id}


def _datetime(value) -> str:
    return format_datetime(value, "medium") if value else ""


def _money(value) -> str:
    return format_decimal(value, format="#,##0")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        current_tenant=tenancy.current_handle,
        tenant_owner_name=tenant_owner_name,
        role_label=lambda role: ROLE_LABELS.get(role, role),
        describe_change=describe_change,
        field_label=lambda field: FIELD_LABELS.get(field, field),
    )
    app.jinja_env.filters.update(datetime=_datetime, money=_money)
