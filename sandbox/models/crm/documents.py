"""Documents (文档): a folder tree and files, attached to any record.

A file's bytes live in ``document_blob`` inside the tenant database, so a reset, a
save point and a backup take and restore files together with the records they
belong to.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, TenantModel, Timestamped


class Folder(Timestamped, Audited):
    """A folder of the company's file tree; a folder without parent is at the top."""

    __tablename__ = "folder"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), info={"label": _l("Folder name")})
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("folder.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Parent folder")},
    )

    parent: Mapped[Folder | None] = relationship(remote_side="Folder.id")

    def __repr__(self) -> str:
        return f"<Folder {self.id} {self.name!r}>"


class DocumentBlob(TenantModel):
    """The bytes of one file (kept out of the audit log)."""

    __tablename__ = "document_blob"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Document(Timestamped, Audited):
    """One uploaded file, in a folder or not, attached to a record or not.

    ``entity`` and ``record_id`` name the record it is attached to the way the audit
    log names records (a table name and an id), so any module's records can hold
    files without a column of their own.
    """

    __tablename__ = "document"
    __table_args__ = (sa.Index("ix_document_record", "entity", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("File name")}
    )
    folder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("folder.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Folder")},
    )
    content_type: Mapped[str] = mapped_column(
        sa.String(120), info={"label": _l("File type")}
    )
    size: Mapped[int] = mapped_column(info={"label": _l("Size")})
    sha256: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(
        sa.String(500), info={"label": _l("Description")}
    )
    entity: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Attached to")}
    )
    record_id: Mapped[int | None] = mapped_column()
    blob_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document_blob.id", ondelete="CASCADE")
    )

    folder: Mapped[Folder | None] = relationship()
    blob: Mapped[DocumentBlob] = relationship(lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.name!r}>"
