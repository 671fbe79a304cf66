"""Business rules shared by CRM modules: saving, and deleting without orphans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.crm.registry import module_for_entity
from sandbox.extensions import db
from sandbox.models.crm import Audited


def apply_changes(
    record: db.Model, data: dict[str, Any], fields: tuple[str, ...]
) -> None:
    """Copy ``fields`` from ``data`` onto ``record``; empty text becomes NULL."""
    for name in fields:
        value = data.get(name)
        if value == "":
            value = None
        setattr(record, name, value)


def commit(session: Session) -> None:
    """Commit, or roll back and re-raise: a failed action writes nothing."""
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


def same_name(column: sa.ColumnElement, name: str) -> sa.ColumnElement:
    """``column`` holds ``name``, ignoring case and surrounding spaces.

    SQLite's ``lower()`` folds ASCII letters only, so both sides are folded in
    SQL (the check agrees with itself) and the exact name, which a unique index
    refuses whatever its letters, always matches.
    """
    name = (name or "").strip()
    return sa.or_(column == name, sa.func.lower(column) == sa.func.lower(name))


def save_with_unique_name(
    session: Session,
    record: Any,
    find_same: Callable[[Session, str, int | None], Any],
    duplicate: Callable[[Any], Exception],
    *,
    before_commit: Callable[[], None] | None = None,
) -> Any:
    """Save ``record``, whose name no other record may have.

    ``find_same(session, name, exclude_id)`` finds the record already holding the
    name; a save that loses a race at commit (the unique index refuses it) is
    refused the same way. Refused, nothing is written.

    :raise: ``duplicate(existing)``
    """
    with session.no_autoflush:
        same = find_same(session, record.name, record.id)
    if same is not None:
        session.rollback()
        raise duplicate(same)
    session.add(record)
    try:
        if before_commit is not None:
            before_commit()
        commit(session)
    except IntegrityError:
        # Another request saved the same name between our check and our commit.
        same = find_same(session, record.name, None)
        if same is None:
            raise
        raise duplicate(same) from None
    return record


def save(session: Session, record: db.Model) -> db.Model:
    """Add and commit a record; on failure nothing is written."""
    session.add(record)
    commit(session)
    return record


@dataclass(frozen=True)
class Related:
    """Records of one kind that point at a record through ``column``."""

    model: type[Audited]
    column: sa.Column
    count: int

    @property
    def label(self) -> object:
        module = module_for_entity(self.model.__table__.name)
        return module.label if module else self.model.__table__.name

    @property
    def detachable(self) -> bool:
        """Whether the link can be cleared (else the records must be moved first)."""
        return bool(self.column.nullable)

    @property
    def cascades(self) -> bool:
        """Whether these records are parts of the record (``ON DELETE CASCADE``,
        such as a contact's campaign memberships): they go when it goes."""
        return any(fk.ondelete == "CASCADE" for fk in self.column.foreign_keys)


def related_records(session: Session, record: Audited) -> list[Related]:
    """Every kind of record that links to ``record``, with how many do."""
    table = record.__table__
    found = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if not issubclass(model, Audited):
            continue
        for column in mapper.local_table.columns:
            if any(fk.column.table is table for fk in column.foreign_keys):
                count = session.scalar(
                    sa.select(sa.func.count())
                    .select_from(mapper.local_table)
                    .where(column == record.id)
                )
                if count:
                    found.append(Related(model, column, count))
    return found


class HasRelatedRecords(ValueError):
    """Deleting would orphan linked records; ``related`` says which."""

    def __init__(self, related: list[Related]) -> None:
        super().__init__("the record has related records")
        self.related = related


def delete_record(session: Session, record: Audited, *, detach: bool = False) -> None:
    """Delete ``record``; records linked to it are unlinked only when ``detach``,
    and its parts (links that cascade) are deleted with it.

    :raise HasRelatedRecords: records link to it and ``detach`` is false, or some
        cannot be unlinked (they must be moved to another record first). Nothing is
        written then.
    """
    related = related_records(session, record)
    links = [r for r in related if not r.cascades]
    if links and (not detach or not all(r.detachable for r in links)):
        raise HasRelatedRecords(links)
    try:
        for group in related:
            attr = group.column.key
            linked = session.scalars(
                sa.select(group.model).where(getattr(group.model, attr) == record.id)
            )
            for other in linked:  # one by one, so each is audited
                if group.cascades:
                    session.delete(other)
                else:
                    setattr(other, attr, None)
        session.flush()
        session.delete(record)
        session.commit()
    except Exception:
        session.rollback()
        raise


def my_colleague_id(session: Session) -> int | None:
    """The colleague the student plays, the default owner of what they create."""
    from sandbox.models.crm import Colleague

    return session.scalar(sa.select(Colleague.id).where(Colleague.is_self).limit(1))


def customer_facing_name(colleague: Any) -> str:
    """A colleague's name as customers read it, on quotes and emails: the colleague
    the student plays is "You" (我) inside the CRM and the student's own name
    outside it."""
    from flask import has_request_context
    from flask_login import current_user

    from sandbox.tenancy import current_handle

    if colleague is None:
        return ""
    if not colleague.is_self:
        return colleague.name
    handle = current_handle()
    if handle is not None and handle.student_name:
        return handle.student_name  # an instructor viewing the student's CRM
    if has_request_context() and current_user.is_authenticated:
        return current_user.name
    return colleague.name
