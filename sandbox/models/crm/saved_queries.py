"""Saved queries (我的查询): a list page's search, filters, sort, page size and
columns kept under a name, in the student's own tenant."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm.base import TenantModel


class SavedQuery(TenantModel):
    """A named list view of one module; ``args`` is its query string.

    A preference, not a CRM record: it is kept out of the audit log and timelines.
    """

    __tablename__ = "saved_query"
    __table_args__ = (sa.UniqueConstraint("module", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module: Mapped[str] = mapped_column(sa.String(40), index=True)
    name: Mapped[str] = mapped_column(sa.String(80), info={"label": _l("Query name")})
    args: Mapped[str] = mapped_column(sa.String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
