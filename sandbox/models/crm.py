"""CRM tables in a tenant database; every model here carries the ``tenant`` bind key.

Every insert, update and delete of an :class:`Audited` model writes a row to
``audit_log`` in the same transaction, so the log can never disagree with the data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.extensions import db
from sandbox.models import utcnow

TENANT_BIND = "tenant"

ACCOUNT_TYPES = ("customer", "prospect", "partner", "reseller", "other")
INDUSTRIES = (
    "manufacturing",
    "retail",
    "technology",
    "finance",
    "healthcare",
    "education",
    "logistics",
    "energy",
    "hospitality",
    "government",
)


class TenantModel(db.Model):
    __abstract__ = True
    __bind_key__ = TENANT_BIND


class Audited(TenantModel):
    """A tenant model whose every change is written to the audit log."""

    __abstract__ = True

    #: Columns left out of the change record (noise for a reader).
    __audit_ignore__ = frozenset({"created_at", "updated_at"})


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Account(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    account_type: Mapped[str] = mapped_column(sa.String(20), default="prospect")
    industry: Mapped[str | None] = mapped_column(sa.String(40))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    website: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    annual_revenue: Mapped[int | None]
    employees: Mapped[int | None]
    owner: Mapped[str | None] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="account", order_by="Contact.last_name"
    )

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name!r}>"


class Contact(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    first_name: Mapped[str | None] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(120))
    department: Mapped[str | None] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    mobile: Mapped[str | None] = mapped_column(sa.String(40))
    notes: Mapped[str | None] = mapped_column(sa.Text)

    account: Mapped[Account | None] = relationship(back_populates="contacts")

    @property
    def full_name(self) -> str:
        first, last = self.first_name or "", self.last_name or ""
        # Chinese names read family name first, with no space.
        if any("\u4e00" <= ch <= "\u9fff" for ch in last + first):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.full_name!r}>"


class AuditLog(TenantModel):
    """One change to one record: the source of timelines and of "how" checks."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class TenantInfo(TenantModel):
    """Key/value facts about how this tenant database was built."""

    __tablename__ = "tenant_info"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


def current_actor() -> str:
    """The logged-in user's name; "system" for work outside a request (CLI, setup)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.username
    return "system"


def _plain(value: Any) -> Any:
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
            changes[key] = [_plain(old), _plain(new)]
        else:
            value = getattr(target, key)
            if value is None or value == "":
                continue
            changes[key] = (
                [None, _plain(value)] if action == "create" else [_plain(value), None]
            )
    return changes


def write_audit(
    connection: sa.Connection,
    entity: str,
    entity_id: int,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Write one audit row on ``connection`` (inside the caller's transaction)."""
    connection.execute(
        sa.insert(AuditLog.__table__).values(
            at=utcnow(),
            actor=current_actor(),
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes=changes or {},
        )
    )


def _audit_listener(action: str):
    def listener(mapper, connection, target):
        changes = _column_changes(target, action)
        if action == "update" and not changes:
            return
        write_audit(connection, mapper.local_table.name, target.id, action, changes)

    return listener


for _action, _event in (
    ("create", "after_insert"),
    ("update", "after_update"),
    ("delete", "after_delete"),
):
    event.listen(Audited, _event, _audit_listener(_action), propagate=True)


def tenant_metadata() -> sa.MetaData:
    """The metadata holding every tenant table."""
    return db.metadatas[TENANT_BIND]
