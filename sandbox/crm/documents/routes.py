import io
import re
import unicodedata
from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.documents import MODULE, bp, file_size
from sandbox.crm.documents.forms import (
    AttachForm,
    DocumentForm,
    FolderForm,
    UploadForm,
)
from sandbox.crm.documents.service import (
    DocumentRefused,
    add_document,
    allowed_extensions,
    attached_record,
    attachments_of,
    delete_document,
    delete_folder,
    file_bytes,
    folder_path,
    folder_tree,
    max_file_bytes,
    max_tenant_bytes,
    megabytes,
    save_folder,
    too_large,
    update_document,
    used_bytes,
)
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import app_modules, get_module, writes
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.documents import Document, Folder
from sandbox.tenancy import current_handle


def _id_arg(name: str) -> int | None:
    """A record id from the query string, or None for anything else."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else None


def _folder_choices() -> list[tuple[str, str]]:
    return [
        (str(node.folder.id), "\u2003" * node.depth + node.folder.name)
        for node in folder_tree(db.session)
    ]


def _limits() -> dict:
    return {
        "max_mb": megabytes(max_file_bytes()),
        "allowed": allowed_extensions(),
    }


def _refuse_far_too_large() -> bool:
    """Whether the request is far over the limit (and is refused unread).

    A file somewhat over the limit still gets the clear message of the service;
    far larger requests are refused before they are read (see the 413 handler).
    """
    request.max_content_length = 2 * max_file_bytes()
    return (request.content_length or 0) > request.max_content_length


def _read_upload(storage) -> tuple[str, bytes]:
    with storage.stream as stream:
        data = stream.read(max_file_bytes() + 1)
    return storage.filename, data


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(_error):
    flash(str(too_large(None, request.content_length or 0).message), "danger")
    record = _record_from_args()
    if record is not None:
        module, found = record
        return redirect(module.record_url(found.id) + "#attachments")
    return redirect(url_for("documents.create"))


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Document)
        .outerjoin(Document.folder)
        .options(contains_eager(Document.folder))
    )
    listing = module_listing(
        MODULE,
        stmt,
        filters=(
            ListFilter(
                "folder",
                Document.folder_id,
                _("Folder"),
                choices=_folder_choices,
            ),
        ),
        default_direction="desc",
    )
    folder_id = _id_arg("folder") if "folder" in listing.filters else None
    folder = db.session.get(Folder, folder_id) if folder_id is not None else None
    tree = folder_tree(db.session)
    # An open folder without a search is not a search that found nothing.
    in_folder_only = folder is not None and not listing.q
    return render_template(
        "documents/list.html",
        module=MODULE,
        listing=listing,
        tree=tree,
        folder=folder,
        subfolders=[
            Markup('<a href="{}">{}</a>').format(
                url_for("documents.index", folder=node.folder.id), node.folder.name
            )
            for node in tree
            if folder is not None and node.folder.parent_id == folder.id
        ],
        used=file_size(used_bytes(db.session)),
        limit=file_size(max_tenant_bytes()),
        search_hint=_("File name or description"),
        new_label=_("Upload a file"),
        no_match=_("This folder holds no files of its own.")
        if in_folder_only
        else _("No files match your search."),
        no_records=_("There are no files yet."),
        first_label=_("Upload the first file"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    if _refuse_far_too_large():
        return _request_too_large(None)
    form = UploadForm()
    if not form.is_submitted():
        form.folder_id.data = _id_arg("folder")
    if form.validate_on_submit():
        storage = request.files.get("file")
        if storage is None or not storage.filename:
            form.file.errors.append(_("Choose a file to upload."))
        else:
            name, data = _read_upload(storage)
            folder = db.session.get(Folder, form.folder_id.data or 0)
            try:
                document = add_document(
                    db.session,
                    name,
                    data,
                    folder=folder,
                    description=form.description.data,
                )
            except DocumentRefused as error:
                form.file.errors.append(str(error.message))
            else:
                flash(_("“%(name)s” uploaded.", name=document.name), "success")
                return redirect(MODULE.record_url(document.id))
    return render_template(
        "documents/upload.html", module=MODULE, form=form, **_limits()
    ), (422 if form.errors else 200)


def _record_from_args():
    """The record named by ``?module=&record_id=`` (the Attachments panel)."""
    key = request.args.get("module", "")
    record_id = _id_arg("record_id")
    if record_id is None:
        return None
    try:
        module = get_module(key)
    except KeyError:
        return None
    if module.key not in {m.key for m in app_modules()} or module is MODULE:
        return None
    record = attached_record(db.session, module.entity, record_id)
    return (module, record) if record is not None else None


@bp.route("/attach", methods=["POST"])
@login_required
@writes
def attach():
    """Upload a file from a record page's Attachments panel and attach it."""
    if _refuse_far_too_large():
        return _request_too_large(None)
    found = _record_from_args()
    if found is None:
        abort(404)
    module, record = found
    back = module.record_url(record.id) + "#attachments"
    form = AttachForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(back)
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        flash(_("Choose a file to upload."), "danger")
        return redirect(back)
    name, data = _read_upload(storage)
    try:
        document = add_document(db.session, name, data, record=record)
    except DocumentRefused as error:
        flash(str(error.message), "danger")
    else:
        flash(_("“%(name)s” attached.", name=document.name), "success")
    return redirect(back)


@bp.route("/<id:document_id>")
@login_required
def detail(document_id: int):
    document = db.get_or_404(Document, document_id)
    record = attached_record(db.session, document.entity, document.record_id)
    owner = None
    if record is not None:
        owner = next((m for m in app_modules() if m.entity == document.entity), None)
    return render_template(
        "documents/detail.html",
        module=MODULE,
        document=document,
        size=file_size(document.size),
        folder=folder_path(document.folder),
        record=record,
        record_module=owner,
        history=timeline(db.session, document),
    )


def content_disposition(document: Document) -> str:
    """``attachment`` with the name in UTF-8 (RFC 5987) and an ASCII fallback for
    old clients (a Chinese name falls back to ``document-<id>.<ext>``)."""
    stem, _dot, ext = document.name.rpartition(".")
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9 ._()+-]", "", plain).strip(" .")
    fallback = f"{plain or f'document-{document.id}'}.{ext}"
    encoded = quote(document.name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


@bp.route("/<id:document_id>/download")
@login_required
def download(document_id: int):
    document = db.get_or_404(Document, document_id)
    data = file_bytes(db.session, document)
    response = send_file(
        io.BytesIO(data),
        mimetype=document.content_type,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Content-Disposition"] = content_disposition(document)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<id:document_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(document_id: int):
    document = db.get_or_404(Document, document_id)
    form = DocumentForm(obj=document)
    if form.validate_on_submit():
        try:
            update_document(db.session, document, form.data)
        except DocumentRefused as error:
            getattr(form, error.field or "name").errors.append(str(error.message))
        else:
            flash(_("“%(name)s” saved.", name=document.name), "success")
            return redirect(MODULE.record_url(document.id))
    return render_template(
        "crm/form.html", module=MODULE, form=form, record=document
    ), (422 if form.errors else 200)


@bp.route("/<id:document_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(document_id: int):
    document = db.get_or_404(Document, document_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = document.name
        delete_document(db.session, document)
        flash(_("“%(name)s” deleted.", name=name), "success")
        return redirect(url_for("documents.index"))
    return render_template(
        "settings/confirm.html",
        module=MODULE,
        form=form,
        heading=_("Delete “%(name)s”?", name=document.name),
        message=_("The file is removed from your CRM and cannot be downloaded again."),
        button=_("Delete"),
        cancel_url=MODULE.record_url(document.id),
        problems=[],
    )


# --------------------------------------------------------------------- folders


def _folder_page(form: FolderForm, folder: Folder | None = None):
    return render_template(
        "documents/folder_form.html", module=MODULE, form=form, folder=folder
    ), (422 if form.errors else 200)


@bp.route("/folders/new", methods=["GET", "POST"])
@login_required
@writes
def create_folder():
    form = FolderForm()
    if not form.is_submitted():
        form.parent_id.data = _id_arg("parent")
    if form.validate_on_submit():
        folder = Folder()
        try:
            save_folder(db.session, folder, form.name.data, form.parent_id.data)
        except DocumentRefused as error:
            getattr(form, error.field or "name").errors.append(str(error.message))
        else:
            flash(_("Folder “%(name)s” created.", name=folder.name), "success")
            return redirect(url_for("documents.index", folder=folder.id))
    return _folder_page(form)


@bp.route("/folders/<id:folder_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit_folder(folder_id: int):
    folder = db.get_or_404(Folder, folder_id)
    form = FolderForm(obj=folder)
    form.exclude(folder)
    if form.validate_on_submit():
        try:
            save_folder(db.session, folder, form.name.data, form.parent_id.data)
        except DocumentRefused as error:
            getattr(form, error.field or "name").errors.append(str(error.message))
        else:
            flash(_("Folder “%(name)s” saved.", name=folder.name), "success")
            return redirect(url_for("documents.index", folder=folder.id))
    return _folder_page(form, folder)


@bp.route("/folders/<id:folder_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def remove_folder(folder_id: int):
    folder = db.get_or_404(Folder, folder_id)
    form = ConfirmForm()
    problems = []
    if form.validate_on_submit():
        name = folder.name
        try:
            delete_folder(db.session, folder)
        except DocumentRefused as error:
            problems = [str(error.message)]
        else:
            flash(_("Folder “%(name)s” deleted.", name=name), "success")
            return redirect(url_for("documents.index"))
    return render_template(
        "settings/confirm.html",
        module=MODULE,
        form=form,
        heading=_("Delete the folder “%(name)s”?", name=folder.name),
        message=_("Only an empty folder can be deleted."),
        button=_("Delete"),
        cancel_url=url_for("documents.index", folder=folder.id),
        problems=problems,
    ), (409 if problems else 200)


# ------------------------------------------------------- the attachments panel


def _detail_module():
    endpoint = request.endpoint or ""
    return next(
        (m for m in app_modules() if m.detail_endpoint == endpoint and m is not MODULE),
        None,
    )


@bp.app_template_global()
def record_attachments() -> Markup:
    """The Attachments panel of the record page being shown (empty elsewhere)."""
    module = _detail_module()
    if module is None or current_handle() is None:
        return Markup("")
    record_id = (request.view_args or {}).get(module.id_arg)
    record = attached_record(db.session, module.entity, record_id)
    if record is None:
        return Markup("")
    return Markup(  # noqa: S704 - a rendered template
        render_template(
            "documents/_attachments.html",
            attach_module=module,
            attach_record=record,
            attachments=attachments_of(db.session, record),
            attach_form=AttachForm(formdata=None),
            file_size=file_size,
            **_limits(),
        )
    )
