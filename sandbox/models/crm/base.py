"""What every tenant table shares: the bind, timestamps, money, and the audit log.

Every insert, update and delete of an :class:`Audited` model writes a row to
``audit_log`` in the same transaction, so the log can never disagree with the data.
Bulk ``UPDATE``/``DELETE`` statements on audited tables would slip past that, so the
session refuses them.

Columns describe themselves through ``info``: ``label`` (the field's label for this
entity), ``codes`` (the code list its values come from), ``money`` and ``multiline``.
Forms, lists, detail pages and the timeline all read the same description.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from sandbox.extensions import db
from sandbox.models import utcnow

TENANT_BIND = "tenant"
CENT = Decimal("0.01")


class Money(sa.types.TypeDecorator):
    """An exact amount with two decimals, stored as whole cents.

    SQLite has no decimal type; cents in an INTEGER keep sums exact in SQL too
    (``SUM(amount) / 100.0`` only for display, never for arithmetic).
    """

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
        return int(amount * 100)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


class TenantModel(db.Model):
    __abstract__ = True
    __bind_key__ = TENANT_BIND


class Audited(TenantModel):
    """A tenant model whose every change is written to the audit log."""

    __abstract__ = True

    #: Columns left out of the change record (noise for a reader).
    __audit_ignore__ = frozenset({"created_at", "updated_at"})

    @property
    def display_name(self) -> str:
        """How the record is named on pages and in the timeline."""
        return str(getattr(self, "name", "") or f"#{getattr(self, 'id', '')}")

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        """``display_name`` as SQL, for naming records the session has not loaded."""
        return cls.name  # type: ignore[attr-defined]


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditLog(TenantModel):
    """One change to one record: the source of timelines and of "how" checks.

    ``action`` is ``create``, ``update``, ``delete`` or a business action
    (``convert``, ``close_won`` …); ``changes`` maps a field to ``[old, new]``;
    ``details`` holds an action's own facts and, under ``refs``, the names of
    linked records as they were when the change was made.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int]
    record_name: Mapped[str] = mapped_column(sa.String(300), default="")
    action: Mapped[str] = mapped_column(sa.String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class TenantInfo(TenantModel):
    """Key/value facts about how this tenant database was built."""

    __tablename__ = "tenant_info"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class CodeItem(TenantModel):
    """The tenant's own version of one code list's entry.

    A list with no rows here uses the defaults of :mod:`sandbox.crm.codes`; once the
    company edits a list in settings, its rows here replace the defaults.
    """

    __tablename__ = "code_item"

    list_key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    label_en: Mapped[str] = mapped_column(sa.String(100))
    label_zh: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)
    color: Mapped[str | None] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True)


class UnauditedWrite(RuntimeError):
    """A bulk UPDATE or DELETE would change audited records without an audit row."""


def current_actor() -> str:
    """The logged-in user's name; "system" for work outside a request (CLI, setup)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.username
    return "system"


def plain(value: Any) -> Any:
    """A column value as JSON can hold it."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _column_changes(target: Audited, action: str) -> dict[str, list[Any]]:
    state = sa.inspect(target)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key == "id" or key in target.__audit_ignore__:
            continue
        if action == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
            changes[key] = [plain(old), plain(new)]
        else:
            value = getattr(target, key)
            if value is None or value == "":
                continue
            changes[key] = (
                [None, plain(value)] if action == "create" else [plain(value), None]
            )
    return changes


def _referenced_names(
    connection: sa.Connection, target: Audited, changes: dict[str, list[Any]]
) -> dict[str, list[str | None]]:
    """Names of the records that changed foreign keys point to, before and after."""
    refs: dict[str, list[str | None]] = {}
    table = sa.inspect(target).mapper.local_table
    for key, (old, new) in changes.items():
        column = table.columns.get(key)
        if column is None or not column.foreign_keys:
            continue
        model = model_for_table(next(iter(column.foreign_keys)).column.table.name)
        if model is None:
            continue
        # A record named in both languages (a stage) is remembered in both, so the
        # timeline speaks the reader's language.
        chinese = getattr(model, "name_zh", None)
        columns = [
            model.display_expression(),
            *([chinese] if chinese is not None else []),
        ]
        names: list[Any] = []
        for ref_id in (old, new):
            row = None
            if ref_id is not None:
                query = sa.select(*columns).where(model.id == ref_id)
                row = connection.execute(query).first()
            if row is None or chinese is None:
                names.append(row[0] if row else None)
            else:
                names.append({"en": row[0], "zh": row[1] or row[0]})
        refs[key] = names
    return refs


_AUDITED_TABLES: dict[str, type[Audited]] = {}
_MAPPERS_SEEN = [0]


def model_for_table(name: str) -> type[Audited] | None:
    """The audited model mapped to table ``name``.

    The table-to-model map is built once, and again only when a name is missing
    and models have been added since.
    """
    model = _AUDITED_TABLES.get(name)
    if model is not None:
        return model
    mappers = db.Model.registry.mappers
    if len(mappers) != _MAPPERS_SEEN[0]:
        _AUDITED_TABLES.clear()
        for mapper in mappers:
            if issubclass(mapper.class_, Audited):
                _AUDITED_TABLES[mapper.local_table.name] = mapper.class_
        _MAPPERS_SEEN[0] = len(mappers)
    return _AUDITED_TABLES.get(name)


def write_audit(
    connection: sa.Connection,
    target: Audited,
    action: str,
    changes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one audit row on ``connection`` (inside the caller's transaction)."""
    connection.execute(
        sa.insert(AuditLog.__table__).values(
            at=utcnow(),
            actor=current_actor(),
            entity=sa.inspect(target).mapper.local_table.name,
            entity_id=target.id,
            record_name=target.display_name[:300],
            action=action,
            changes=changes or {},
            details=details or {},
        )
    )


def _audit_listener(action: str):
    def listener(mapper, connection, target):
        changes = _column_changes(target, action)
        if action == "update" and not changes:
            return
        refs = _referenced_names(connection, target, changes)
        write_audit(connection, target, action, changes, {"refs": refs} if refs else {})

    return listener


for _action, _event in (
    ("create", "after_insert"),
    ("update", "after_update"),
    ("delete", "after_delete"),
):
    event.listen(Audited, _event, _audit_listener(_action), propagate=True)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: sa.orm.ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, Audited):
            raise UnauditedWrite(
                f"bulk {'UPDATE' if state.is_update else 'DELETE'} of "
                f"{mapper.local_table.name} would bypass the audit log; "
                "change the records one by one through the session"
            )


def tenant_metadata() -> sa.MetaData:
    """The metadata holding every tenant table."""
    return db.metadatas[TENANT_BIND]
