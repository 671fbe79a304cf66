"""Documents (文档管理): the company's folder tree and files, attached to any record."""

from flask_babel import format_decimal

from sandbox.crm.registry import (
    Module,
    column,
    module_blueprint,
    module_for_entity,
    register_module,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.i18n import ngettext
from sandbox.models.crm.documents import Document, Folder

bp = module_blueprint("documents", __name__)


def file_size(size: int | None) -> str:
    """A size as people read it: 820 bytes, 12.5 KB, 3.2 MB."""
    if size is None:
        return ""
    if size < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size)
    if size < 1024 * 1024:
        return _l("%(num)s KB", num=format_decimal(size / 1024, "#,##0.#"))
    return _l("%(num)s MB", num=format_decimal(size / 1024 / 1024, "#,##0.#"))


def _attached_label(document: Document) -> object:
    module = module_for_entity(document.entity) if document.entity else None
    return module.entity_label if module else ""


MODULE = register_module(
    Module(
        key="documents",
        label=_l("Documents"),
        entity_label=_l("Document"),
        noun=_l("file"),
        icon="folder2-open",
        model=Document,
        blueprint=bp,
        group="company",
        order=5,
        id_arg="document_id",
        search=(Document.name, Document.description),
        default_sort="created",
        columns=(
            column(Document.name, kind="link"),
            column(
                Document.folder_id,
                key="folder",
                kind="ref",
                sort=Folder.name,
                value=lambda document: document.folder,
            ),
            column(
                Document.size,
                kind="text",
                sort=Document.size,
                value=lambda document: file_size(document.size),
            ),
            column(
                Document.entity,
                key="attached",
                value=_attached_label,
            ),
            column(
                Document.created_at,
                key="created",
                kind="datetime",
                label=_l("Uploaded"),
            ),
        ),
    )
)

from sandbox.crm.documents import routes  # noqa: E402, F401
