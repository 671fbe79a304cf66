"""Template globals and filters shared by every page."""

from __future__ import annotations

from flask import Flask, g, url_for
from flask_babel import format_datetime
from markupsafe import Markup, escape

from sandbox import tenancy
from sandbox.crm.display import (
    currency,
    field_label,
    is_money,
    money,
    percent,
    show_value,
)
from sandbox.crm.listing import PAGE_SIZES
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.control import Role

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.INSTRUCTOR: _l("Instructor"),
    Role.STUDENT: _l("Student"),
}


def tenant_owner_name() -> str:
    """The name of the student whose CRM is open (for the read-only banner)."""
    handle = tenancy.current_handle()
    return handle.student_name if handle else ""


def icon(name: str, size: str | None = None) -> Markup:
    """A Bootstrap icon from the locally served sprite (decorative: hidden from
    screen readers, so the text beside it is what they read)."""
    if "icon_sprite" not in g:
        g.icon_sprite = url_for(
            "bootstrap.static", filename="icons/bootstrap-icons.svg"
        )
    dimensions = f' width="{escape(size)}" height="{escape(size)}"' if size else ""
    return Markup(  # noqa: S704 - built from escaped parts
        f'<svg class="bi"{dimensions} fill="currentColor" aria-hidden="true">'
        f'<use href="{escape(g.icon_sprite)}#{escape(name)}"/></svg>'
    )


def crm_sidebar() -> Markup:
    """The CRM's module menu, rendered once per language and active entry.

    It is the same for every student, so rendering it on every page is waste.
    """
    from flask import current_app, render_template, request

    from sandbox.i18n import current_language

    active = "main.home" if request.endpoint == "main.home" else request.blueprint
    cache = current_app.extensions.setdefault("sandbox.sidebar", {})
    key = (current_language(), active, request.script_root)
    html = cache.get(key)
    if html is None:
        rendered = render_template("crm/_sidebar.html", active=active)
        html = cache[key] = Markup(rendered)  # noqa: S704 - a rendered template
    return html


def is_select(field) -> bool:
    """Whether a form field draws a drop-down (``{% if field is select %}``): its
    own subclasses of the select fields included."""
    from wtforms.widgets import Select

    return isinstance(getattr(field, "widget", None), Select)


def _datetime(value) -> str:
    return format_datetime(value, "medium") if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        current_tenant=tenancy.current_handle,
        tenant_owner_name=tenant_owner_name,
        role_label=lambda role: ROLE_LABELS.get(role, role),
        field_label=field_label,
        show_value=show_value,
        is_money=is_money,
        currency=currency,
        icon=icon,
        crm_sidebar=crm_sidebar,
        page_sizes=PAGE_SIZES,
    )
    # Points (6.67 of 20) read as percentages do: two decimals at most, no
    # trailing zeros.
    app.jinja_env.filters.update(
        datetime=_datetime, money=money, percent=percent, points=percent
    )
    app.jinja_env.tests["select"] = is_select
