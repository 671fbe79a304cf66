"""The CRM module registry: each module declares itself here, once.

A module package (``sandbox/crm/<key>/``) builds its blueprint with
:func:`module_blueprint` and calls :func:`register_module` with its :class:`Module`.
The sidebar, the top bar, the workbench counts, the global search, the record lookups,
the read-only guard and the tests that walk every module all read this registry, so a
new module touches its own folder, its model and the translation catalogue only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request, url_for

from sandbox.i18n import lazy_gettext as _l

#: Sidebar groups, in the order they appear.
GROUPS = {
    "sales": _l("Sales"),
    "marketing": _l("Marketing"),
    "service": _l("Service"),
    "activities": _l("Activities"),
    "analytics": _l("Analytics"),
    "company": _l("Company"),
}


@dataclass(frozen=True)
class ListColumn:
    """One column of a module's list page.

    :param key: the column's name in ``?sort=`` and in the page's markup
    :param sort: the SQL expression rows are sorted by
    :param label: the header; defaults to the model column's label
    :param kind: how a value is shown: ``text``, ``link`` (to the record), ``code``
        (a code list label), ``money``, ``number``, ``date``, ``datetime`` or ``ref``
        (a related record, shown by name and linked to it)
    :param value: reads the value from a row's record; defaults to the attribute
    :param codes: the code list of a ``code`` column
    :param ref: the module key of a ``ref`` column's record
    :param attr: the record attribute shown, when it is not ``key``
    :param nowrap: the value never breaks over two lines (record numbers, codes);
        numbers and dates never do
    """

    key: str
    sort: Any
    label: object = None
    kind: str = "text"
    value: Callable[[Any], Any] | None = None
    codes: str | None = None
    ref: str | None = None
    attr: str | None = None
    nowrap: bool = False

    def read(self, record: Any) -> Any:
        if self.value is not None:
            return self.value(record)
        return getattr(record, self.attr or self.key, None)


def column(attr: Any, *, key: str | None = None, **options: Any) -> ListColumn:
    """A list column for a mapped attribute, its label and kind read from ``info``."""
    info = attr.property.columns[0].info if hasattr(attr, "property") else {}
    kind = options.pop("kind", None)
    if kind is None:
        kind = "code" if "codes" in info else "money" if info.get("money") else "text"
    label = options.pop("label", info.get("label"))
    if label is None:  # its header would read "None"
        raise ValueError(f"list column {key or attr.key!r} needs a label")
    return ListColumn(
        key=key or attr.key,
        attr=attr.key,
        sort=options.pop("sort", attr),
        label=label,
        kind=kind,
        codes=options.pop("codes", info.get("codes")),
        **options,
    )


@dataclass(frozen=True)
class Reminder:
    """Something on the workbench that needs the student's attention."""

    text: str
    url: str
    level: str = "warning"  # a Bootstrap colour


@dataclass(frozen=True)
class Module:
    """A CRM module: its record, pages and place in the navigation.

    :param key: the blueprint name and the URL segment (``/crm/<key>``)
    :param label: plural, for navigation ("Leads")
    :param entity_label: singular, for headings and the timeline ("Lead")
    :param noun: singular as a sentence uses it ("lead"; in Chinese the same word)
    :param search: SQL expressions the global search and the list search look in
    :param columns: the list page's columns
    :param default_sort: the list's sort key when none is asked for
    :param id_arg: the detail route's argument name ("lead_id")
    :param reminders: ``reminders(session)`` lists the module's
        :class:`Reminder` items for the workbench (overdue deals, SLA alarms …)
    :param todos: ``todos(session)`` lists its to-dos for the workbench
    :param on_workbench: whether the workbench counts its records (settings
        tables such as the stage table are left out)
    """

    key: str
    label: object
    entity_label: object
    noun: object
    icon: str
    model: type
    blueprint: Blueprint
    group: str = "sales"
    order: int = 100
    search: Sequence[Any] = ()
    columns: Sequence[ListColumn] = ()
    default_sort: str = "name"
    id_arg: str = ""
    reminders: Callable[[Any], list[Reminder]] | None = None
    todos: Callable[[Any], list[Reminder]] | None = None
    on_workbench: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url_prefix(self) -> str:
        return f"/crm/{self.key}"

    @property
    def entity(self) -> str:
        """The record's table name, as the audit log names it."""
        return self.model.__table__.name

    @property
    def index_endpoint(self) -> str:
        return f"{self.key}.index"

    @property
    def detail_endpoint(self) -> str:
        return f"{self.key}.detail"

    def record_url(self, record_id: int) -> str:
        return url_for(self.detail_endpoint, **{self.id_arg: record_id})

    def record_url_maker(self) -> Callable[[int], str]:
        """A fast ``record_url`` for row loops: the URL is built once per call site."""
        sample = self.record_url(1)
        prefix = sample[:-1]
        return lambda record_id: f"{prefix}{record_id}"

    def column(self, key: str) -> ListColumn | None:
        return next((c for c in self.columns if c.key == key), None)


_MODULES: dict[str, Module] = {}


def register_module(module: Module) -> Module:
    """Add a module to the registry (its blueprint is registered by the app)."""
    if module.key in _MODULES and _MODULES[module.key] is not module:
        raise ValueError(f"a CRM module named {module.key!r} is already registered")
    if not module.id_arg:
        raise ValueError(f"module {module.key!r} needs id_arg (its detail argument)")
    _MODULES[module.key] = module
    return module


def unregister_module(key: str) -> None:
    _MODULES.pop(key, None)


def modules() -> list[Module]:
    """Every registered module, in navigation order."""
    groups = list(GROUPS)
    return sorted(
        _MODULES.values(),
        key=lambda m: (groups.index(m.group) if m.group in groups else 99, m.order),
    )


def get_module(key: str) -> Module:
    """:raise KeyError: no such module; the message lists the known ones."""
    try:
        return _MODULES[key]
    except KeyError:
        known = ", ".join(sorted(_MODULES))
        raise KeyError(f"unknown CRM module {key!r}; known modules: {known}") from None


def module_for_entity(entity: str) -> Module | None:
    """The module whose record is stored in table ``entity``."""
    return next((m for m in _MODULES.values() if m.entity == entity), None)


def app_modules() -> list[Module]:
    """The modules whose blueprints this app registered (the sidebar's entries)."""
    return [m for m in modules() if m.key in current_app.blueprints]


def navigation() -> list[tuple[object, list[Module]]]:
    """The sidebar: ``(group label, modules)`` in order, empty groups left out."""
    grouped: dict[str, list[Module]] = {}
    for module in app_modules():
        grouped.setdefault(module.group, []).append(module)
    return [(GROUPS.get(g, g), ms) for g, ms in grouped.items()]


def module_counts(session) -> list[tuple[Module, int]]:
    """Each module with the number of records it holds, for the workbench."""
    mods = [m for m in app_modules() if m.on_workbench]
    if not mods:
        return []
    counts = sa.select(
        *(
            sa.select(sa.func.count()).select_from(m.model).scalar_subquery()
            for m in mods
        )
    )
    return list(zip(mods, session.execute(counts).one(), strict=True))


def workbench_items(session, kind: str) -> list[Reminder]:
    """Every module's ``reminders`` or ``todos``, in navigation order."""
    items: list[Reminder] = []
    for module in app_modules():
        provider = getattr(module, kind)
        if provider is not None:
            items.extend(provider(session))
    return items


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_writes_when_read_only() -> None:
    """An instructor viewing a student's CRM may look but never change anything.

    POSTs are refused, and so are the pages of views marked with :func:`writes`
    (forms that could only fail on save).
    """
    from sandbox.tenancy import current_handle

    handle = current_handle()
    if handle is None or not handle.readonly:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method not in SAFE_METHODS or getattr(view, "writes", False):
        abort(403)


def writes(view: Callable) -> Callable:
    """Mark a view as one that changes records: a read-only view answers 403."""
    view.writes = True  # type: ignore[attr-defined]
    return view


def module_blueprint(name: str, import_name: str) -> Blueprint:
    """A CRM module's blueprint, with the read-only guard."""
    bp = Blueprint(name, import_name)
    bp.before_request(refuse_writes_when_read_only)
    return bp
