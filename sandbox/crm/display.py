"""How CRM values look on a page: field labels per entity and formatted values.

A column's label and kind come from its ``info`` (see :mod:`sandbox.models.crm.base`),
so the form, the list, the detail page and the timeline always agree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date, format_datetime, format_decimal
from markupsafe import Markup, escape

from sandbox.crm.codes import code_label
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l

#: Labels for fields every entity shares, when a column does not name its own.
COMMON_LABELS = {
    "id": _l("Number"),
    "name": _l("Name"),
    "created_at": _l("Created on"),
    "updated_at": _l("Last changed"),
    "owner_id": _l("Owner"),
}
EMPTY = Markup('<span class="text-muted">—</span>')


#: The shared sentence patterns pages join their pieces with. Chinese writes them
#: with full-width punctuation (标签：值, 金额（CNY）, 张三、李四), so a page never
#: glues a translated word to an ASCII colon, bracket or comma.
LABEL_VALUE = _l("%(label)s: %(value)s")
WITH_NOTE = _l("%(label)s (%(note)s)")
LIST_SEPARATOR = _l(", ")
#: An address's parts (street, city, country) on one line: Chinese joins them with
#: a full-width comma (，), not the list's enumeration comma (、).
ADDRESS_PARTS = _l("%(before)s, %(after)s")


def _filled(pattern: str, params: dict[str, Any]) -> Markup:
    """``pattern`` (a translation: plain text) with ``params`` escaped into it."""
    return Markup(escape(pattern)) % params  # noqa: S704 - escaped


def _styled(pattern: str, plain: str, css: str, params: dict[str, Any]) -> Markup:
    """``pattern`` filled, with all of it but ``%(plain)s`` (and the spaces beside
    it) in a span of class ``css``: the muted "(USD)" after a column's label, the
    visually hidden "Language:" before the language's name."""
    before, marker, after = pattern.partition(f"%({plain})s")
    if not marker:
        return _filled(pattern, params)

    def span(text: str) -> Markup:
        core = text.strip()
        if not core:
            return _filled(text, params)
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        return Markup('{}<span class="{}">{}</span>{}').format(
            lead, css, _filled(core, params), trail
        )

    return span(before) + escape(params[plain]) + span(after)


def labelled(
    label: Any,
    value: Any,
    *,
    label_class: str | None = None,
    value_class: str | None = None,
) -> Markup:
    """ "Label: value" in the reader's language ("状态：处理中" in Chinese).

    ``label_class`` puts the label and its colon in a span of that class,
    ``value_class`` the value.
    """
    if value_class:
        value = Markup('<span class="{}">{}</span>').format(value_class, value)
    params = {"label": label, "value": value}
    if label_class:
        return _styled(str(LABEL_VALUE), "value", label_class, params)
    return _filled(str(LABEL_VALUE), params)


def with_note(label: Any, note: Any, *, note_class: str | None = None) -> Markup:
    """A label and its note in brackets: "Amount (USD)", "Responded (36.4%)";
    "金额（USD）" in Chinese.

    ``note_class`` puts the note and its brackets in a span of that class.
    """
    params = {"label": label, "note": note}
    if note_class:
        return _styled(str(WITH_NOTE), "label", note_class, params)
    return _filled(str(WITH_NOTE), params)


def join_list(items: Any) -> str | Markup:
    """Names or codes as a list in the reader's language: "Ann, Bob", "张雪、马秀雨".

    Markup items (links) keep their markup; plain text is escaped only then.
    """
    items = [item for item in items if item is not None]
    separator = str(LIST_SEPARATOR)
    if any(isinstance(item, Markup) for item in items):
        return Markup(escape(separator)).join(items)  # noqa: S704 - escaped
    return separator.join(str(item) for item in items)


def column_info(model: type, field: str) -> dict[str, Any]:
    column = model.__table__.columns.get(field)
    return column.info if column is not None else {}


def field_label(model: type, field: str) -> str:
    """The label of ``field`` on ``model`` ("Lead name" for a lead's ``name``)."""
    label = column_info(model, field).get("label") or COMMON_LABELS.get(field)
    return str(label) if label is not None else field.replace("_", " ").capitalize()


def tenant_info() -> dict[str, str]:
    """The current tenant's facts (scenario, currency …), read once per request."""
    from sandbox.crm.codes import tenant_state

    state = tenant_state()
    return state.info if state is not None else {}


def currency() -> str:
    """The scenario's currency code (USD, CNY …)."""
    return tenant_info().get("currency", "USD")


def money(value: Any) -> str:
    """An amount with two decimals and thousands separators: ``1,234,567.00``.

    English and Simplified Chinese write amounts alike (comma groups, point
    decimals), so Python's own formatting serves both, at a fraction of Babel's
    cost on a list of amounts.
    """
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):,.2f}"


def _as_datetime(value: Any) -> dt.datetime | dt.date | Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def format_value(
    model: type, field: str, value: Any, ref_name: str | None = None
) -> str | Markup:
    """``value`` of ``field`` as the detail page shows it (plain text, or markup)."""
    if value is None or value == "":
        return EMPTY
    column = model.__table__.columns.get(field)
    info = column.info if column is not None else {}
    if column is not None and column.foreign_keys:
        return ref_name or f"#{value}"
    if "codes" in info:
        return code_label(info["codes"], value)
    if info.get("money"):
        return money(value)
    if isinstance(value, bool) or (
        column is not None and isinstance(column.type, sa.Boolean)
    ):
        return _("Yes") if value else _("No")
    if column is not None and isinstance(column.type, sa.DateTime):
        moment = _as_datetime(value)
        return (
            format_datetime(moment, "medium")
            if isinstance(moment, dt.datetime)
            else str(value)
        )
    if column is not None and isinstance(column.type, sa.Date):
        day = _as_datetime(value)
        return (
            format_date(day, "medium")
            if isinstance(day, (dt.date, dt.datetime))
            else str(value)
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value)
    if info.get("multiline"):
        return Markup('<span class="multiline">{}</span>').format(value)
    return str(value)


def percent(value: Decimal | float | int) -> str:
    """A percentage (a discount) without trailing zeros: 15, 12.5 (a filter)."""
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_money(model: type, field: str) -> bool:
    return bool(column_info(model, field).get("money"))


def _related(record: Any, field: str) -> Any:
    mapper = sa.inspect(record).mapper
    for rel in mapper.relationships:
        if any(col.key == field for col in rel.local_columns):
            return getattr(record, rel.key)
    return None


def show_value(record: Any, field: str, *, badge: bool = False) -> str | Markup:
    """``record.field`` as a detail page shows it: related records as links, codes
    by their label (as a coloured badge if asked), money with two decimals."""
    from sandbox.crm.codes import code_list
    from sandbox.crm.registry import module_for_entity

    model = type(record)
    value = getattr(record, field)
    column = model.__table__.columns.get(field)
    if value is not None and column is not None and column.foreign_keys:
        other = _related(record, field)
        if other is None:
            return f"#{value}"
        module = module_for_entity(other.__table__.name)
        if module is None:
            return other.display_name
        return Markup('<a href="{}">{}</a>').format(
            module.record_url(other.id), other.display_name
        )
    info = column.info if column is not None else {}
    if badge and "codes" in info and value:
        item = code_list(info["codes"]).get(value)
        label = item.label if item else value
        color = item.color if item and item.color else "secondary"
        return Markup('<span class="badge text-bg-{}">{}</span>').format(color, label)
    return format_value(model, field, value)


def join_address(parts: Any) -> str:
    """An address's non-empty parts on one line: "1 Main St, Springfield, USA"."""
    line = ""
    for part in (str(part) for part in parts if part):
        line = str(ADDRESS_PARTS) % {"before": line, "after": part} if line else part
    return line
