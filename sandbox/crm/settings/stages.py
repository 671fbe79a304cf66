"""The stage table of the company's sales process."""

from flask import abort, flash, redirect, render_template, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.registry import writes
from sandbox.crm.settings import STAGES as MODULE
from sandbox.crm.settings import stages_bp as bp
from sandbox.crm.settings.forms import StageEditForm, StageForm
from sandbox.crm.settings.service import (
    StageRuleBroken,
    create_stage,
    delete_stage,
    move_stage,
    ordered_stages,
    stage_in_use,
    stage_kind,
    stage_usage,
    update_stage,
)
from sandbox.crm.views import render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.sales import Stage


@bp.route("/")
@login_required
def index():
    return render_template(
        "settings/stages.html",
        module=MODULE,
        stages=ordered_stages(db.session),
        usage=stage_usage(db.session),
        kind_of=stage_kind,
        confirm=ConfirmForm(),
    )


def _refused(form: StageForm, error: StageRuleBroken) -> None:
    for name, message in error.problems:
        field = getattr(form, name or "", None) or form.kind
        field.errors.append(message)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = StageForm()
    if form.validate_on_submit():
        try:
            stage = create_stage(db.session, form.data)
        except StageRuleBroken as error:
            _refused(form, error)
        else:
            flash(_("Stage “%(name)s” added.", name=stage.display_name), "success")
            return redirect(url_for("stages.index"))
    return render_form(MODULE, form)


@bp.route("/<id:stage_id>")
@login_required
def detail(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    return render_template(
        "settings/stage_detail.html",
        module=MODULE,
        stage=stage,
        kind=stage_kind(stage),
        deals=stage_usage(db.session).get(stage.id, 0),
        history=timeline(db.session, stage),
    )


@bp.route("/<id:stage_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = StageEditForm(obj=stage)
    if not form.is_submitted():
        form.kind.data = stage_kind(stage)
    if form.validate_on_submit():
        try:
            update_stage(db.session, stage, form.data)
        except StageRuleBroken as error:
            _refused(form, error)
        else:
            flash(_("Stage “%(name)s” saved.", name=stage.display_name), "success")
            return redirect(MODULE.record_url(stage.id))
    return render_form(MODULE, form, stage)


@bp.route("/<id:stage_id>/move/<direction>", methods=["POST"])
@login_required
@writes
def move(stage_id: int, direction: str):
    stage = db.get_or_404(Stage, stage_id)
    if direction not in ("up", "down") or not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        moved = move_stage(db.session, stage, -1 if direction == "up" else 1)
    except StageRuleBroken as error:
        flash(str(error.message), "danger")
    else:
        if moved:
            name = stage.display_name
            flash(
                _("“%(entry)s” moved up.", entry=name)
                if direction == "up"
                else _("“%(entry)s” moved down.", entry=name),
                "success",
            )
    return redirect(url_for("stages.index") + f"#move-{direction}-{stage.id}")


@bp.route("/<id:stage_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = ConfirmForm()
    problems = []
    if stage_in_use(db.session, stage):
        problems.append(
            _(
                "Deals are at this stage or passed through it: it cannot be "
                "removed. Rename it instead."
            )
        )
    elif form.validate_on_submit():
        name = stage.display_name
        try:
            delete_stage(db.session, stage)
        except StageRuleBroken as error:
            problems.append(error.message)
        else:
            flash(_("Stage “%(name)s” removed.", name=name), "success")
            return redirect(url_for("stages.index"))
    return render_template(
        "settings/confirm.html",
        module=MODULE,
        form=form,
        heading=_("Remove the stage “%(name)s”?", name=stage.display_name),
        message=_("The stage leaves the sales process. This cannot be undone."),
        problems=problems,
        button=_("Remove"),
        cancel_url=MODULE.record_url(stage.id),
    ), (409 if problems and form.is_submitted() else 200)
