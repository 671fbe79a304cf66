from __future__ import annotations

import datetime as dt

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy.exc import SQLAlchemyError
from wtforms import HiddenField, SubmitField

from sandbox.auth.decorators import login_required
from sandbox.crm.registry import Module, app_modules, get_module, writes
from sandbox.crm.transfer import bp, pending
from sandbox.crm.transfer.export import export_module, to_csv, to_xlsx
from sandbox.crm.transfer.reading import MAX_BYTES, ImportFileError, read_table
from sandbox.crm.transfer.service import (
    CREATE,
    REJECT,
    UNCHANGED,
    UPDATE,
    plan_import,
    run_import,
)
from sandbox.crm.transfer.specs import ImportSpec, import_spec
from sandbox.extensions import db
from sandbox.forms import Form
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.i18n import ngettext
from sandbox.tenancy import current_engine, current_handle

#: Rows of each kind the preview lists (rejected rows are always all listed).
PREVIEW_ROWS = 100
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UploadForm(Form):
    file = FileField(
        _l("File (.csv or .xlsx)"),
        render_kw={
            "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats"
            "-officedocument.spreadsheetml.sheet"
        },
    )
    submit = SubmitField(_l("Preview"))


class ConfirmImportForm(Form):
    token = HiddenField()
    submit = SubmitField(_l("Import"))


def _module(key: str) -> Module:
    current_engine()  # no workspace, no export or import
    try:
        module = get_module(key)
    except KeyError:
        abort(404)
    if module.key not in {m.key for m in app_modules()}:
        abort(404)
    return module


def _importable(key: str) -> tuple[Module, ImportSpec]:
    module = _module(key)
    spec = import_spec(module)
    if spec is None:
        abort(404)
    return module, spec


def _download(data: bytes, name: str, fmt: str) -> Response:
    response = Response(data, content_type=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_global()
def can_import(module: Module) -> bool:
    """Whether ``module``'s list offers an import."""
    return import_spec(module) is not None


@bp.route("/<key>/export.<fmt>")
@login_required
def export(key: str, fmt: str):
    """The module's list, as filtered, searched and sorted on its page."""
    if fmt not in MIMETYPES:
        abort(404)
    module = _module(key)
    data = export_module(module, fmt)
    return _download(data, f"{module.key}-{dt.date.today().isoformat()}", fmt)


def _owner() -> str:
    return f"{current_user.id}:{current_handle().tenant_id}"


def _template_columns(spec: ImportSpec) -> list[tuple[str, bool, str]]:
    return [
        (str(item.label), item.required, item.hint() if item.hint else "")
        for item in spec.fields
        if not item.pseudo
    ]


@bp.route("/<key>/import/template.<fmt>")
@login_required
def import_template(key: str, fmt: str):
    """An empty file with the import's headers in the user's language."""
    if fmt not in MIMETYPES:
        abort(404)
    module, spec = _importable(key)
    columns = _template_columns(spec)
    header = [f"{label} *" if required else label for label, required, _h in columns]
    if fmt == "csv":
        data = to_csv(header, [])
    else:
        guide = [[_("Column"), _("Required"), _("What it accepts")]] + [
            [label, _("Yes") if required else "", hint]
            for label, required, hint in columns
        ]
        data = to_xlsx(
            header, [], title=str(module.label), extra_sheets=[(_("Columns"), guide)]
        )
    return _download(data, f"{module.key}-import-template", fmt)


@bp.route("/<key>/import", methods=["GET", "POST"])
@login_required
@writes
def import_upload(key: str):
    """Upload a file; a readable one is checked row by row and previewed."""
    module, spec = _importable(key)
    # Somewhat larger files still get the friendly "too large" message below; far
    # larger ones are refused before they are read at all.
    request.max_content_length = 4 * MAX_BYTES
    form = UploadForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            form.file.errors.append(_("Choose a file to import."))
        else:
            filename = upload.filename
            with upload.stream as stream:
                data = stream.read(MAX_BYTES + 1)
            try:
                table = read_table(data, filename)
                plan = plan_import(db.session, spec, table)
            except ImportFileError as error:
                form.file.errors.append(error.message)
            else:
                db.session.rollback()  # the preview writes nothing
                token = pending.keep(module.key, _owner(), filename, table)
                return _preview(module, spec, plan, filename, token)
    return render_template(
        "crm/import.html",
        module=module,
        form=form,
        columns=_template_columns(spec),
        match_key=" / ".join(str(key.label) for key in spec.keys),
        max_mb=MAX_BYTES // (1024 * 1024),
    )


def _preview(module, spec, plan, filename, token):
    form = ConfirmImportForm(token=token)
    return render_template(
        "crm/import_preview.html",
        module=module,
        plan=plan,
        filename=filename,
        form=form,
        counts=plan.counts,
        creates=plan.of(CREATE)[:PREVIEW_ROWS],
        updates=plan.of(UPDATE)[:PREVIEW_ROWS],
        rejects=plan.of(REJECT),
        limit=PREVIEW_ROWS,
        CREATE=CREATE,
        UPDATE=UPDATE,
        UNCHANGED=UNCHANGED,
        REJECT=REJECT,
    )


@bp.route("/<key>/import/confirm", methods=["GET", "POST"])
@login_required
@writes
def import_confirm(key: str):
    """Import the previewed file: every good row in one transaction."""
    module, spec = _importable(key)
    if request.method == "GET":  # a bookmark or a reload: back to the upload
        return redirect(url_for(".import_upload", key=module.key))
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    kept = pending.load(module.key, _owner(), form.token.data or "")
    if kept is None:
        flash(
            _("That preview has expired or was replaced: upload the file again."),
            "warning",
        )
        return redirect(url_for(".import_upload", key=module.key))
    filename, table = kept
    try:
        plan = plan_import(db.session, spec, table)
        counts = run_import(db.session, plan)
    except ImportFileError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for(".import_upload", key=module.key))
    except SQLAlchemyError:
        db.session.rollback()
        flash(
            _(
                "Nothing was imported: the records changed while importing. "
                "Upload the file again to see the new preview."
            ),
            "danger",
        )
        return redirect(url_for(".import_upload", key=module.key))
    pending.discard(module.key)
    flash(
        ngettext(
            "Imported “%(file)s”: %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(num)d row rejected.",
            "Imported “%(file)s”: %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(num)d rows rejected.",
            counts[REJECT],
            file=filename,
            created=counts[CREATE],
            updated=counts[UPDATE],
            unchanged=counts[UNCHANGED],
        ),
        "success",
    )
    return redirect(url_for(module.index_endpoint))
