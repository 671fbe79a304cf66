"""The tenant's audit log as people read it: record timelines and recent activity.

Creates, updates and deletes are logged automatically (see
:mod:`sandbox.models.crm.base`). Business actions — convert, close won, escalate … —
are logged by the service that performs them with :func:`record_action`, in the same
transaction, and each action has a sentence defined once with :func:`define_action`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import Session, object_session

from sandbox.crm.codes import code_label
from sandbox.crm.display import field_label, format_value, join_list
from sandbox.crm.registry import module_for_entity
from sandbox.i18n import current_language
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Audited, AuditLog, current_actor
from sandbox.models.crm.base import model_for_table, plain

#: action (or ``(entity, action)``) -> sentence; ``%(entity)s`` is the record's noun,
#: ``%(record)s`` its name (a link), other placeholders are keys of its details.
ACTIONS: dict[str | tuple[str, str], object] = {
    "create": _l("Created %(entity)s %(record)s"),
    "update": _l("Updated %(entity)s %(record)s"),
    "delete": _l("Deleted %(entity)s %(record)s"),
}
GENERIC_ACTION = _l("%(action)s: %(entity)s %(record)s")


#: Detail keys whose values are codes, by action: shown by their code list's label.
ACTION_CODES: dict[Any, dict[str, str]] = {}


def define_action(
    action: str,
    sentence: object,
    *,
    entity: str | None = None,
    codes: dict[str, str] | None = None,
) -> None:
    """Give business action ``action`` its (translatable) timeline sentence.

    With ``entity`` (a table name) the sentence is for that kind of record only, so
    modules may each say what "deactivate" means for their records. ``codes`` maps
    a detail to the code list it comes from (``{"status": "member_status"}``): the
    sentence shows the code's label in the reader's language.
    """
    key = (entity, action) if entity else action
    if key in ACTIONS and ACTIONS[key] is not sentence:
        raise ValueError(f"the action {key!r} already has a sentence")
    ACTIONS[key] = sentence
    if codes:
        ACTION_CODES[key] = codes


def _action_key(entity: str, action: str) -> str | tuple[str, str]:
    """Where ``action`` on a record of ``entity`` is defined: for that kind of
    record if it has its own sentence, else for every kind."""
    return (entity, action) if (entity, action) in ACTIONS else action


def _sentence_for(entity: str, action: str) -> object | None:
    return ACTIONS.get(_action_key(entity, action))


def _codes_for(entity: str, action: str) -> dict[str, str]:
    return ACTION_CODES.get(_action_key(entity, action), {})


def record_action(
    record: Audited,
    action: str,
    details: dict[str, Any] | None = None,
    *,
    session: Session | None = None,
) -> AuditLog:
    """Log business action ``action`` on ``record`` in the record's transaction.

    ``details`` are the action's facts (JSON values): the lead an account came
    from, the reason a deal was lost … They fill the action's sentence and are kept
    for the instructor's view and for checks. The caller commits.
    """
    entity = sa.inspect(record).mapper.local_table.name
    if _sentence_for(entity, action) is None:
        raise KeyError(f"the action {action!r} has no sentence; call define_action")
    session = session or object_session(record)
    if session is None:
        raise ValueError("record_action needs a record that belongs to a session")
    if record.id is None:
        session.flush()
    entry = AuditLog(
        at=utcnow(),
        actor=current_actor(),
        entity=entity,
        entity_id=record.id,
        record_name=record.display_name[:300],
        action=action,
        changes={},
        details={k: plain(v) for k, v in (details or {}).items()},
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Change:
    label: str
    old: str | Markup
    new: str | Markup


@dataclass(frozen=True)
class TimelineEntry:
    """One audit row, ready to show: when, who, a sentence and the field changes."""

    at: Any
    actor: str
    action: str
    sentence: Markup
    changes: tuple[Change, ...]
    log: AuditLog


class _Links:
    """Record URLs for a page of entries, each module's URL built once."""

    def __init__(self) -> None:
        self._makers: dict[str, Callable[[int], str] | None] = {}

    def url(self, entity: str, entity_id: int) -> str | None:
        if entity not in self._makers:
            module = module_for_entity(entity)
            self._makers[entity] = module.record_url_maker() if module else None
        maker = self._makers[entity]
        return maker(entity_id) if maker else None


def _sentence(entry: AuditLog, links: _Links) -> Markup:
    module = module_for_entity(entry.entity)
    noun = module.noun if module else entry.entity
    name = entry.record_name or f"#{entry.entity_id}"
    url = None if entry.action == "delete" else links.url(entry.entity, entry.entity_id)
    record = (
        Markup('<a class="fw-semibold" href="{}">{}</a>').format(url, name)
        if url
        else Markup("<strong>{}</strong>").format(name)
    )
    params = {
        key: _detail_text(value)
        for key, value in (entry.details or {}).items()
        if isinstance(value, (str, int, float, list))
    }
    for key, list_key in _codes_for(entry.entity, entry.action).items():
        if key in params:
            params[key] = code_label(list_key, str(params[key]))
    params.update(entity=noun, record=record, action=entry.action)
    template = _sentence_for(entry.entity, entry.action)
    if template is None:
        template = GENERIC_ACTION
    try:
        return escape(str(template)) % params
    except (KeyError, ValueError, TypeError):
        return escape(str(GENERIC_ACTION)) % params


def _detail_text(value: Any) -> Any:
    """A detail as its sentence shows it: a list of names in the reader's
    language ("Ann, Bob"; "张雪、马秀雨"), an empty one as a dash."""
    if not isinstance(value, list):
        return value
    return join_list(str(item) for item in value) or "—"


def _changes(entry: AuditLog) -> tuple[Change, ...]:
    if entry.action != "update" or not entry.changes:
        return ()
    model = model_for_table(entry.entity)
    if model is None:
        return tuple(Change(k, str(v[0]), str(v[1])) for k, v in entry.changes.items())
    refs = (entry.details or {}).get("refs", {})
    language = current_language()
    out = []
    for field, (old, new) in entry.changes.items():
        old_name, new_name = (
            name.get(language) or name.get("en") if isinstance(name, dict) else name
            for name in refs.get(field, (None, None))
        )
        out.append(
            Change(
                field_label(model, field),
                format_value(model, field, old, old_name),
                format_value(model, field, new, new_name),
            )
        )
    return tuple(out)


#: An action and the field changes it made are written as two rows a moment apart.
SAME_ACTION_WITHIN = dt.timedelta(seconds=2)


def _belong_together(first: AuditLog, second: AuditLog) -> bool:
    """Whether two neighbouring rows are one business action and the field changes
    it made to the same record (in either order)."""
    actions = {first.action, second.action}
    return (
        "update" in actions
        and not actions & {"create", "delete"}
        and len(actions) == 2
        and first.entity == second.entity
        and first.entity_id == second.entity_id
        and first.actor == second.actor
        and abs(first.at - second.at) <= SAME_ACTION_WITHIN
    )


def describe(entries: list[AuditLog]) -> list[TimelineEntry]:
    """The rows as people read them. A business action and the field changes it
    made show as one entry: the action's sentence over the changes ("Closed won
    deal X", stage and probability below), not as an action and an update."""
    links = _Links()
    out: list[TimelineEntry] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        following = entries[index + 1] if index + 1 < len(entries) else None
        if following is not None and _belong_together(entry, following):
            action, update = (
                (following, entry) if entry.action == "update" else (entry, following)
            )
            changes = _changes(update)
            index += 2
        else:
            action, changes = entry, _changes(entry)
            index += 1
        out.append(
            TimelineEntry(
                action.at,
                action.actor,
                action.action,
                _sentence(action, links),
                changes,
                action,
            )
        )
    return out


#: ``panel(record) -> Markup`` functions whose markup a record's timeline shows
#: above its history: other modules add what belongs to the record (activities …).
TIMELINE_PANELS: list[Callable[[Any], Markup]] = []


class RecordTimeline(list):
    """A record's timeline entries, with the record, so the page can show the
    panels other modules contribute (see :data:`TIMELINE_PANELS`)."""

    def __init__(self, entries: list[TimelineEntry], record: Audited) -> None:
        super().__init__(entries)
        self.record = record

    def panels(self) -> Markup:
        return Markup("").join(panel(self.record) for panel in TIMELINE_PANELS)


def timeline(session: Session, record: Audited, limit: int = 50) -> RecordTimeline:
    """The changes to one record, newest first."""
    entity = sa.inspect(record).mapper.local_table.name
    where = (AuditLog.entity == entity, AuditLog.entity_id == record.id)
    return RecordTimeline(_described(session, limit, *where), record)


def recent_activity(session: Session, limit: int = 10) -> list[TimelineEntry]:
    """The latest changes across the whole tenant, newest first."""
    return _described(session, limit)


def _described(
    session: Session, limit: int, *where: sa.ColumnElement
) -> list[TimelineEntry]:
    """The newest ``limit`` entries: rows are read two for one, since an action
    and its field changes make one entry."""
    return describe(_newest(session, 2 * limit, *where))[:limit]


def _newest(session: Session, limit: int, *where: sa.ColumnElement) -> list[AuditLog]:
    stmt = sa.select(AuditLog).where(*where)
    stmt = stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    return list(session.scalars(stmt))
