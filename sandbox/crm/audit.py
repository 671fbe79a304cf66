"""Reading the tenant's audit log: record timelines and recent activity."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.models.crm import AuditLog


def timeline(
    session: Session, entity: str, entity_id: int, limit: int = 50
) -> list[AuditLog]:
    """The changes to one record, newest first."""
    return _newest(
        session, limit, AuditLog.entity == entity, AuditLog.entity_id == entity_id
    )


def recent_activity(session: Session, limit: int = 10) -> list[AuditLog]:
    """The latest changes across the whole tenant, newest first."""
    return _newest(session, limit)


def _newest(session: Session, limit: int, *where: sa.ColumnElement) -> list[AuditLog]:
    stmt = sa.select(AuditLog).where(*where)
    stmt = stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    return list(session.scalars(stmt))
