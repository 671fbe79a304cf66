"""Document rules: which files are accepted, how they are named, stored and filed.

A file is accepted when its name ends in an allowed extension AND its first bytes
are what that kind of file starts with (a program renamed ``report.pdf`` is still
refused); Office files are zip archives that must hold the part of their kind.
Names keep letters of every script (Chinese included) but never a folder path.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.display import join_list
from sandbox.crm.registry import module_for_entity
from sandbox.crm.service import commit, same_name
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import model_for_table
from sandbox.models.crm.documents import Document, DocumentBlob, Folder

MB = 1024 * 1024
#: Defaults of the ``DOCUMENT_MAX_FILE_BYTES`` and ``DOCUMENT_MAX_TENANT_BYTES``
#: settings.
MAX_FILE_BYTES = 10 * MB
MAX_TENANT_BYTES = 50 * MB
MAX_NAME_LENGTH = 200

define_action("attach", _l("Attached file %(file)s to %(entity)s %(record)s"))
define_action("detach", _l("Removed file %(file)s from %(entity)s %(record)s"))
for _action, _sentence in (
    ("create", _l("Created folder %(record)s")),
    ("update", _l("Updated folder %(record)s")),
    ("delete", _l("Deleted folder %(record)s")),
):
    define_action(_action, _sentence, entity="folder")
for _action, _sentence in (
    ("create", _l("Uploaded file %(record)s")),
    ("update", _l("Updated file %(record)s")),
    ("delete", _l("Deleted file %(record)s")),
):
    define_action(_action, _sentence, entity="document")


class DocumentRefused(ValueError):
    """An upload or a change the rules refuse; ``message`` says why, for the user."""

    def __init__(self, message: object, field: str = "file") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


# ------------------------------------------------------------------ file types


def _is_text(data: bytes) -> bool:
    """Plain text in UTF-8 (with or without BOM) or GB18030, without binary bytes."""
    if b"\x00" in data:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(
            unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text
        )
    return False


def _zip_holding(part: str):
    def check(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return False
        return part in names and "[Content_Types].xml" in names

    return check


@dataclass(frozen=True)
class FileKind:
    label: object
    content_type: str
    matches: Any  # bytes -> bool


FILE_KINDS: dict[str, FileKind] = {
    "pdf": FileKind("PDF", "application/pdf", lambda d: d.startswith(b"%PDF-")),
    "png": FileKind("PNG", "image/png", lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": FileKind("JPEG", "image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    "jpeg": FileKind("JPEG", "image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    "gif": FileKind("GIF", "image/gif", lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
    "txt": FileKind(_l("text"), "text/plain", _is_text),
    "csv": FileKind("CSV", "text/csv", _is_text),
    "docx": FileKind(
        "Word",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _zip_holding("word/document.xml"),
    ),
    "xlsx": FileKind(
        "Excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _zip_holding("xl/workbook.xml"),
    ),
    "pptx": FileKind(
        "PowerPoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _zip_holding("ppt/presentation.xml"),
    ),
}


def allowed_extensions() -> str:
    return join_list(f".{ext}" for ext in FILE_KINDS)


def extension_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def kind_of(name: str, data: bytes) -> FileKind:
    """The kind of file ``name`` holding ``data`` is.

    :raise DocumentRefused: the extension is not allowed, or the content is not
        what the extension says.
    """
    ext = extension_of(name)
    kind = FILE_KINDS.get(ext)
    if kind is None:
        raise DocumentRefused(
            _l(
                "“%(name)s” cannot be uploaded: files of this type are not allowed. "
                "Allowed types: %(allowed)s.",
                name=name,
                allowed=allowed_extensions(),
            )
        )
    if not kind.matches(data):
        raise DocumentRefused(
            _l(
                "“%(name)s” is not really a %(kind)s file: its content does not "
                "match its .%(ext)s name, so it was refused.",
                name=name,
                kind=kind.label,
                ext=ext,
            )
        )
    return kind


# ----------------------------------------------------------------------- names

_PATH_PARTS = re.compile(r"[/\\]|^[A-Za-z]:")
#: Characters no file system takes in a name, and Content-Disposition troubles.
_FORBIDDEN = re.compile(r'[<>:"|?*;]')


def clean_file_name(raw: str | None, field: str = "file") -> str:
    """``raw`` as a safe file name: Unicode letters kept, spacing tidied.

    :raise DocumentRefused: no name, a name with folder parts (``../x.pdf``,
        ``C:\\x.pdf``), or nothing left once cleaned; shown beside ``field``.
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise DocumentRefused(_l("Choose a file to upload."), field)
    if _PATH_PARTS.search(name) or name in (".", ".."):
        raise DocumentRefused(
            _l(
                "“%(name)s” is refused: a file name cannot contain folders or "
                "“/” and “\\”. Rename the file and upload it again.",
                name=name[:MAX_NAME_LENGTH],
            ),
            field,
        )
    name = "".join(
        ch
        for ch in name
        if not unicodedata.category(ch).startswith(("C", "Z")) or ch == " "
    )
    name = _FORBIDDEN.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, _ext = name.rpartition(".")
    if not name or (dot and not stem.strip(" ._")):
        raise DocumentRefused(_l("The file needs a name before its extension."), field)
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_NAME_LENGTH - len(ext) - 1
        name = f"{stem[:keep].rstrip(' .')}{dot}{ext}"
    return name


# ---------------------------------------------------------------------- limits


def max_file_bytes() -> int:
    return int(current_app.config.get("DOCUMENT_MAX_FILE_BYTES", MAX_FILE_BYTES))


def max_tenant_bytes() -> int:
    return int(current_app.config.get("DOCUMENT_MAX_TENANT_BYTES", MAX_TENANT_BYTES))


def megabytes(size: int, *, up: bool = False) -> str:
    """``size`` in MB to one decimal; ``up`` rounds up, so a file just over a limit
    never reads as the limit itself ("10.1 MB", not "10 MB", for 10 MB and a byte)."""
    tenths = size * 10 / MB
    return format_decimal((math.ceil(tenths) if up else round(tenths)) / 10, "#,##0.#")


def used_bytes(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.sum(Document.size))) or 0)


def too_large(name: str | None, size: int) -> DocumentRefused:
    """The refusal of a file over the limit (``name`` None: not read at all)."""
    if name is None:
        return DocumentRefused(
            _l(
                "The file is too large (%(size)s MB): a file may be at most "
                "%(limit)s MB.",
                size=megabytes(size, up=True),
                limit=megabytes(max_file_bytes()),
            )
        )
    # An upload is read only up to a byte past the limit: its whole size is unknown.
    return DocumentRefused(
        _l(
            "“%(name)s” is too large: a file may be at most %(limit)s MB.",
            name=name,
            limit=megabytes(max_file_bytes()),
        )
    )


def _check_room(session: Session, name: str, size: int) -> None:
    if size > max_file_bytes():
        raise too_large(name, size)
    used = used_bytes(session)
    if used + size > max_tenant_bytes():
        raise DocumentRefused(
            _l(
                "“%(name)s” (%(size)s MB) does not fit: your files already use "
                "%(used)s MB of the %(limit)s MB your CRM may hold, so %(free)s MB "
                "are free. Delete files you no longer need.",
                name=name,
                size=megabytes(size, up=True),
                used=megabytes(used, up=True),
                limit=megabytes(max_tenant_bytes()),
                free=megabytes(max(0, max_tenant_bytes() - used)),
            )
        )


# --------------------------------------------------------------------- records


def attached_record(session: Session, entity: str | None, record_id: int | None):
    """The record a file is attached to, or None (no such module or record)."""
    if not entity or record_id is None:
        return None
    if module_for_entity(entity) is None:
        return None
    model = model_for_table(entity)
    return session.get(model, record_id) if model is not None else None


def add_document(
    session: Session,
    raw_name: str | None,
    data: bytes,
    *,
    folder: Folder | None = None,
    description: str | None = None,
    record: Any = None,
) -> Document:
    """Store an uploaded file, in ``folder`` and attached to ``record`` if given.

    :raise DocumentRefused: the name, type, size or the tenant's room refuse it;
        nothing is written then.
    """
    name = clean_file_name(raw_name)
    if not data:
        raise DocumentRefused(_l("“%(name)s” is empty.", name=name))
    _check_room(session, name, len(data))
    kind = kind_of(name, data)
    blob = DocumentBlob(data=data)
    document = Document(
        name=name,
        folder_id=folder.id if folder is not None else None,
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        description=(description or None),
        blob=blob,
    )
    if record is not None:
        document.entity = sa.inspect(record).mapper.local_table.name
        document.record_id = record.id
    session.add_all([blob, document])
    try:
        if record is not None:
            session.flush()
            record_action(record, "attach", {"file": name, "document_id": document.id})
        commit(session)
    except Exception:
        session.rollback()
        raise
    return document


def file_bytes(session: Session, document: Document) -> bytes:
    return session.scalar(
        sa.select(DocumentBlob.data).where(DocumentBlob.id == document.blob_id)
    )


def update_document(
    session: Session, document: Document, data: dict[str, Any]
) -> Document:
    """Rename, describe or move a file; the name keeps its extension (its type)."""
    name = clean_file_name(data.get("name"), field="name")
    if extension_of(name) != extension_of(document.name):
        raise DocumentRefused(
            _l(
                "Keep the .%(ext)s ending: the name says what kind of file it is.",
                ext=extension_of(document.name),
            ),
            field="name",
        )
    document.name = name
    document.description = data.get("description") or None
    document.folder_id = data.get("folder_id") or None
    commit(session)
    return document


def delete_document(session: Session, document: Document) -> None:
    """Delete a file and its bytes; an attached record's timeline says so."""
    record = attached_record(session, document.entity, document.record_id)
    try:
        if record is not None:
            record_action(record, "detach", {"file": document.name})
        blob = session.get(DocumentBlob, document.blob_id)
        session.delete(document)
        if blob is not None:
            session.delete(blob)
        commit(session)
    except Exception:
        session.rollback()
        raise


def attachments_of(session: Session, record: Any) -> list[Document]:
    entity = sa.inspect(record).mapper.local_table.name
    return list(
        session.scalars(
            sa.select(Document)
            .where(Document.entity == entity, Document.record_id == record.id)
            .order_by(Document.created_at.desc(), Document.id.desc())
        )
    )


# --------------------------------------------------------------------- folders


@dataclass
class FolderNode:
    folder: Folder
    depth: int
    files: int


def folder_tree(session: Session) -> list[FolderNode]:
    """Every folder in tree order (each under its parent), with its file count."""
    folders = list(session.scalars(sa.select(Folder).order_by(Folder.name)))
    counts = dict(
        session.execute(
            sa.select(Document.folder_id, sa.func.count())
            .where(Document.folder_id.is_not(None))
            .group_by(Document.folder_id)
        ).all()
    )
    children: dict[int | None, list[Folder]] = {}
    for folder in folders:
        children.setdefault(folder.parent_id, []).append(folder)
    ordered: list[FolderNode] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for folder in children.get(parent, []):
            if folder.id in seen:
                continue
            seen.add(folder.id)
            ordered.append(FolderNode(folder, depth, counts.get(folder.id, 0)))
            walk(folder.id, depth + 1)

    walk(None, 0)
    return ordered


def folder_path(folder: Folder | None) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    while folder is not None and folder.id not in seen:
        seen.add(folder.id)
        parts.append(folder.name)
        folder = folder.parent
    return " / ".join(reversed(parts))


def _check_folder(
    session: Session, folder: Folder, name: str, parent_id: int | None
) -> None:
    name = (name or "").strip()
    if not name:
        raise DocumentRefused(_l("A folder needs a name."), field="name")
    if _PATH_PARTS.search(name):
        raise DocumentRefused(
            _l("A folder name cannot contain “/” or “\\”."), field="name"
        )
    parent = session.get(Folder, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise DocumentRefused(
            _l("The chosen record no longer exists."), field="parent_id"
        )
    seen: set[int] = set()
    current = parent
    while current is not None and current.id not in seen:
        if folder.id is not None and current.id == folder.id:
            raise DocumentRefused(
                _l("A folder cannot go inside itself or one of its own folders."),
                field="parent_id",
            )
        seen.add(current.id)
        current = current.parent
    same = session.scalar(
        sa.select(Folder.id).where(
            same_name(Folder.name, name),
            Folder.parent_id.is_(None)
            if parent_id is None
            else Folder.parent_id == parent_id,
            *(() if folder.id is None else (Folder.id != folder.id,)),
        )
    )
    if same is not None:
        raise DocumentRefused(
            _l("This folder already holds a folder named “%(name)s”.", name=name),
            field="name",
        )


def save_folder(
    session: Session, folder: Folder, name: str, parent_id: int | None
) -> Folder:
    """Create or change a folder; names are unique among a folder's subfolders."""
    with session.no_autoflush:
        _check_folder(session, folder, name, parent_id)
    folder.name = name.strip()
    folder.parent_id = parent_id or None
    session.add(folder)
    commit(session)
    return folder


def delete_folder(session: Session, folder: Folder) -> None:
    """Delete an empty folder.

    :raise DocumentRefused: it still holds files or folders.
    """
    files = session.scalar(
        sa.select(sa.func.count()).where(Document.folder_id == folder.id)
    )
    subfolders = session.scalar(
        sa.select(sa.func.count()).where(Folder.parent_id == folder.id)
    )
    if files or subfolders:
        raise DocumentRefused(
            _l(
                "“%(name)s” is not empty: move or delete its files and folders first.",
                name=folder.name,
            ),
            field="",
        )
    session.delete(folder)
    commit(session)
