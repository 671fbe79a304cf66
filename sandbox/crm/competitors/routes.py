from flask import flash, redirect, render_template

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.competitors import MODULE, bp
from sandbox.crm.competitors.forms import CompetitorForm
from sandbox.crm.competitors.service import (
    DuplicateCompetitorName,
    create_competitor,
    open_deals,
    update_competitor,
    win_loss,
)
from sandbox.crm.listing import module_listing
from sandbox.crm.registry import app_modules, writes
from sandbox.crm.views import delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.competitors import Competitor


@bp.route("/")
@login_required
def index():
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=module_listing(MODULE),
        search_hint=_("Name, website or products"),
        new_label=_("New competitor"),
        no_match=_("No competitors match your search."),
        no_records=_("There are no competitors yet."),
        first_label=_("Add the first competitor"),
    )


def _name_taken(form: CompetitorForm, error: DuplicateCompetitorName) -> None:
    form.name.errors.append(
        _("A competitor named “%(name)s” already exists.", name=error.existing.name)
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = CompetitorForm()
    if form.validate_on_submit():
        try:
            competitor = create_competitor(db.session, form.data)
        except DuplicateCompetitorName as error:
            _name_taken(form, error)
        else:
            flash(_("Competitor “%(name)s” created.", name=competitor.name), "success")
            return redirect(MODULE.record_url(competitor.id))
    return render_form(MODULE, form)


def deal_url():
    """Links to deals, once the opportunities module is in this app."""
    deals = next((m for m in app_modules() if m.key == "opportunities"), None)
    return deals.record_url_maker() if deals else None


@bp.route("/<id:competitor_id>")
@login_required
def detail(competitor_id: int):
    competitor = db.get_or_404(Competitor, competitor_id)
    return render_template(
        "competitors/detail.html",
        module=MODULE,
        competitor=competitor,
        winloss=win_loss(db.session, competitor),
        open_deals=open_deals(db.session, competitor),
        deal_url=deal_url(),
        history=timeline(db.session, competitor),
    )


@bp.route("/<id:competitor_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(competitor_id: int):
    competitor = db.get_or_404(Competitor, competitor_id)
    form = CompetitorForm(obj=competitor)
    if form.validate_on_submit():
        try:
            update_competitor(db.session, competitor, form.data)
        except DuplicateCompetitorName as error:
            _name_taken(form, error)
        else:
            flash(_("Competitor “%(name)s” saved.", name=competitor.name), "success")
            return redirect(MODULE.record_url(competitor.id))
    return render_form(MODULE, form, competitor)


@bp.route("/<id:competitor_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(competitor_id: int):
    return delete_page(MODULE, db.get_or_404(Competitor, competitor_id))
