"""The company's team: the colleagues who own records; the student is one."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.settings import TEAM as MODULE
from sandbox.crm.settings import team_bp as bp
from sandbox.crm.settings.forms import ColleagueForm
from sandbox.crm.settings.service import (
    TeamRuleBroken,
    create_colleague,
    delete_colleague,
    holdings,
    set_colleague_active,
    update_colleague,
)
from sandbox.crm.views import render_form, show_refusal
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.team import Colleague

ACTIVE_STATE = sa.case((Colleague.active, "active"), else_="inactive")


@bp.route("/")
@login_required
def index():
    listing = module_listing(
        MODULE,
        filters=(
            ListFilter(
                "role",
                Colleague.role,
                field_label(Colleague, "role"),
                codes="colleague_role",
            ),
            ListFilter(
                "active",
                ACTIVE_STATE,
                _l("Status"),
                choices=lambda: [("active", _("Active")), ("inactive", _("Inactive"))],
            ),
        ),
    )
    return render_template(
        "settings/team.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Name or email"),
        new_label=_("New colleague"),
        no_match=_("No colleagues match your search."),
        no_records=_("There are no colleagues yet."),
        first_label=_("Add the first colleague"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = ColleagueForm()
    if form.validate_on_submit():
        try:
            colleague = create_colleague(db.session, form.data)
        except TeamRuleBroken as error:
            show_refusal(form, error)
        else:
            flash(_("Colleague “%(name)s” added.", name=colleague.name), "success")
            return redirect(MODULE.record_url(colleague.id))
    return render_form(MODULE, form)


@bp.route("/<id:colleague_id>")
@login_required
def detail(colleague_id: int):
    colleague = db.get_or_404(Colleague, colleague_id)
    return render_template(
        "settings/colleague_detail.html",
        module=MODULE,
        colleague=colleague,
        holdings=holdings(db.session, colleague),
        confirm=ConfirmForm(),
        history=timeline(db.session, colleague),
    )


@bp.route("/<id:colleague_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(colleague_id: int):
    colleague = db.get_or_404(Colleague, colleague_id)
    form = ColleagueForm(obj=colleague)
    if form.validate_on_submit():
        try:
            update_colleague(db.session, colleague, form.data)
        except TeamRuleBroken as error:
            show_refusal(form, error)
        else:
            flash(_("Colleague “%(name)s” saved.", name=colleague.name), "success")
            return redirect(MODULE.record_url(colleague.id))
    return render_form(MODULE, form, colleague)


def _set_active(colleague_id: int, active: bool):
    colleague = db.get_or_404(Colleague, colleague_id)
    if ConfirmForm().validate_on_submit():
        try:
            set_colleague_active(db.session, colleague, active)
        except TeamRuleBroken as error:
            flash(str(error), "danger")
        else:
            flash(
                _(
                    "%(name)s is active again and can own records.",
                    name=colleague.name,
                )
                if active
                else _(
                    "%(name)s is deactivated: no longer offered as an owner; "
                    "their records keep them.",
                    name=colleague.name,
                ),
                "success",
            )
    return redirect(MODULE.record_url(colleague.id))


@bp.route("/<id:colleague_id>/deactivate", methods=["POST"])
@login_required
@writes
def deactivate(colleague_id: int):
    return _set_active(colleague_id, False)


@bp.route("/<id:colleague_id>/activate", methods=["POST"])
@login_required
@writes
def activate(colleague_id: int):
    return _set_active(colleague_id, True)


@bp.route("/<id:colleague_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(colleague_id: int):
    colleague = db.get_or_404(Colleague, colleague_id)
    form = ConfirmForm()
    problems = []
    if colleague.is_self:
        problems.append(_("You cannot delete yourself."))
    elif holdings(db.session, colleague).total:
        problems.append(
            _(
                "%(name)s owns records: deactivate the colleague instead, so the "
                "records keep their owner.",
                name=colleague.name,
            )
        )
    elif form.validate_on_submit():
        name = colleague.name
        try:
            delete_colleague(db.session, colleague)
        except TeamRuleBroken as error:
            problems.append(str(error))
        else:
            flash(_("Colleague “%(name)s” deleted.", name=name), "success")
            return redirect(url_for("team.index"))
    return render_template(
        "settings/confirm.html",
        module=MODULE,
        form=form,
        heading=_("Delete “%(name)s”?", name=colleague.name),
        message=_("This cannot be undone."),
        problems=problems,
        button=_("Delete"),
        cancel_url=MODULE.record_url(colleague.id),
    ), (409 if problems and form.is_submitted() else 200)
