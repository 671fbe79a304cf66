"""Business rules shared by CRM modules: saving records from form data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sandbox.extensions import db


def apply_changes(
    record: db.Model, data: dict[str, Any], fields: tuple[str, ...]
) -> None:
    """Copy ``fields`` from ``data`` onto ``record``; empty text becomes NULL."""
    for name in fields:
        value = data.get(name)
        if value == "":
            value = None
        setattr(record, name, value)


def _commit(session: Session) -> None:
    """Commit, or roll back and re-raise: a failed action writes nothing."""
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


def save(session: Session, record: db.Model) -> db.Model:
    """Add and commit a record; on failure nothing is written."""
    session.add(record)
    _commit(session)
    return record


def remove(session: Session, record: db.Model) -> None:
    """Delete and commit a record; on failure nothing is written."""
    session.delete(record)
    _commit(session)
