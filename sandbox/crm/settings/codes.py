"""The company's code lists: an overview, each list, its editor and reset."""

from flask import abort, flash, redirect, render_template, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.codes import CODE_LISTS
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.registry import writes
from sandbox.crm.settings import CODE_LIST_MODULE as MODULE
from sandbox.crm.settings import codes_bp as bp
from sandbox.crm.settings.forms import CodeListForm, posted_rows
from sandbox.crm.settings.service import (
    COLOURS,
    CodeListInvalid,
    CodeRow,
    code_list_summaries,
    codes_in_use,
    current_codes,
    is_customised,
    move_code,
    reset_all_code_lists,
    reset_code_list,
    save_code_list,
    version_of,
)
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.team import CodeListVersion


def _known(list_key: str) -> str:
    if list_key not in CODE_LISTS:
        abort(404)
    return list_key


@bp.route("/")
@login_required
def index():
    return render_template(
        "settings/index.html", module=MODULE, lists=code_list_summaries(db.session)
    )


@bp.route("/<id:code_list_id>")
@login_required
def detail(code_list_id: int):
    version = db.get_or_404(CodeListVersion, code_list_id)
    return redirect(url_for("settings.code_list", list_key=version.list_key))


@bp.route("/codes/<list_key>")
@login_required
def code_list(list_key: str):
    _known(list_key)
    version = version_of(db.session, list_key)
    return render_template(
        "settings/code_list.html",
        module=MODULE,
        list_key=list_key,
        label=CODE_LISTS[list_key].label,
        codes=current_codes(db.session, list_key),
        used=codes_in_use(db.session, list_key),
        own=is_customised(db.session, list_key),
        history=timeline(db.session, version) if version else [],
        move_form=CodeListForm(),
    )


@bp.route("/codes/<list_key>/move/<code>/<direction>", methods=["POST"])
@login_required
@writes
def move(list_key: str, code: str, direction: str):
    """Move an entry one place up or down (the order forms and lists show)."""
    _known(list_key)
    if direction not in ("up", "down") or not CodeListForm().validate_on_submit():
        abort(400)
    _move(list_key, code, direction)
    anchor = f"#move-{direction}-{code}"
    return redirect(url_for("settings.code_list", list_key=list_key) + anchor)


def _move(list_key: str, code: str, direction: str) -> bool:
    """Move ``code`` one place ``up`` or ``down`` and say so; False (with the
    reasons flashed) when the list refused it."""
    try:
        moved = move_code(db.session, list_key, code, -1 if direction == "up" else 1)
    except KeyError:
        abort(404)
    except CodeListInvalid as error:
        for messages in error.errors.values():
            for message in messages:
                flash(str(message), "danger")
        return False
    if moved:
        entry = code_list_label(list_key, code)
        flash(
            _("“%(entry)s” moved up.", entry=entry)
            if direction == "up"
            else _("“%(entry)s” moved down.", entry=entry),
            "success",
        )
    return True


def code_list_label(list_key: str, code: str) -> str:
    return next(
        (c.label for c in current_codes(db.session, list_key) if c.code == code), code
    )


@bp.route("/reset-all", methods=["GET", "POST"])
@login_required
@writes
def reset_all():
    """Every code list back to its default (全部复位), after a confirmation."""
    form = ConfirmForm()
    problems = []
    if form.validate_on_submit():
        try:
            reset_all_code_lists(db.session)
        except CodeListInvalid as error:
            problems = [str(m) for ms in error.errors.values() for m in ms]
        else:
            flash(_("Every code list is the default again."), "success")
            return redirect(url_for("settings.index"))
    return render_template(
        "settings/confirm.html",
        module=MODULE,
        form=form,
        heading=_("Reset every code list to its default?"),
        message=_(
            "The company's labels, order, colours and added entries of all code "
            "lists are replaced by the defaults."
        ),
        problems=problems,
        button=_("Reset all"),
        cancel_url=url_for("settings.index"),
    ), (409 if problems else 200)


def _rows_of(list_key: str) -> list[CodeRow]:
    return [
        CodeRow(c.code, c.en, c.zh, c.color, c.active)
        for c in current_codes(db.session, list_key)
    ]


@bp.route("/codes/<list_key>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit_code_list(list_key: str):
    """The editor: Save writes every change; ↑/↓ move an entry at once and keep
    the other changes in the form, unsaved, for Save (or Cancel)."""
    _known(list_key)
    form = CodeListForm()
    rows, errors = _rows_of(list_key), {}
    new = CodeRow("", "", "", new=True)
    if form.validate_on_submit():
        posted, action = posted_rows()
        if action != "save":
            rows, new = _move_in_editor(list_key, posted, action)
        else:
            try:
                save_code_list(db.session, list_key, posted)
            except CodeListInvalid as error:
                errors = error.errors
                new = next((row for row in posted if row.new), new)
                rows = [row for row in posted if not row.new]
            else:
                flash(
                    _("Code list “%(name)s” saved.", name=CODE_LISTS[list_key].label),
                    "success",
                )
                return redirect(url_for("settings.code_list", list_key=list_key))
    return render_template(
        "settings/code_list_edit.html",
        module=MODULE,
        form=form,
        list_key=list_key,
        label=CODE_LISTS[list_key].label,
        rows=rows,
        new=new,
        errors=errors,
        used=codes_in_use(db.session, list_key),
        colours=COLOURS,
    ), (422 if errors else 200)


def _move_in_editor(
    list_key: str, posted: list[CodeRow], action: str
) -> tuple[list[CodeRow], CodeRow]:
    """Move the entry an editor's ↑/↓ button names (the move is saved, as on the
    list's page) and return the posted rows, in the new order, with the new entry:
    the other changes stay in the form and are not saved."""
    new = next((row for row in posted if row.new), CodeRow("", "", "", new=True))
    listed = [row for row in posted if not row.new]
    direction, _sep, number = action.partition("-")
    if direction not in ("up", "down") or not number.isdigit():
        abort(400)
    index = int(number)
    if not 0 <= index < len(listed):
        abort(400)
    if not _move(list_key, listed[index].code, direction):
        return listed, new
    saved = _rows_of(list_key)
    order = {row.code: i for i, row in enumerate(saved)}
    listed.sort(key=lambda row: order.get(row.code, len(order)))
    if new.code or new.en or new.zh or listed != saved:
        flash(
            _(
                "Your other changes are not saved yet: Save keeps them, Cancel "
                "drops them."
            ),
            "info",
        )
    return listed, new


@bp.route("/codes/<list_key>/reset", methods=["GET", "POST"])
@login_required
@writes
def reset(list_key: str):
    _known(list_key)
    form = ConfirmForm()
    problems = []
    if form.validate_on_submit():
        try:
            reset_code_list(db.session, list_key)
        except CodeListInvalid as error:
            problems = [m for ms in error.errors.values() for m in ms]
        else:
            flash(
                _(
                    "Code list “%(name)s” is the default again.",
                    name=CODE_LISTS[list_key].label,
                ),
                "success",
            )
            return redirect(url_for("settings.code_list", list_key=list_key))
    return render_template(
        "settings/confirm.html",
        module=MODULE,
        form=form,
        heading=_("Reset “%(name)s” to the default?", name=CODE_LISTS[list_key].label),
        message=_(
            "The company's labels, order, colours and added entries of this list "
            "are replaced by the defaults."
        ),
        problems=problems,
        button=_("Reset to default"),
        cancel_url=url_for("settings.code_list", list_key=list_key),
    ), (409 if problems else 200)
