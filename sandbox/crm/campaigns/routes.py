import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.campaigns import MODULE, bp
from sandbox.crm.campaigns.forms import (
    ActionForm,
    AddMemberForm,
    BulkAddForm,
    CampaignForm,
    MarkMembersForm,
)
from sandbox.crm.campaigns.service import (
    CampaignError,
    add_members,
    campaign_results,
    delete_campaign,
    linked_records,
    mark_members,
    member_counts,
    remove_member,
    save_campaign,
)
from sandbox.crm.codes import code_list
from sandbox.crm.display import field_label, join_list
from sandbox.crm.forms import DeleteForm
from sandbox.crm.listing import ListFilter, list_records, module_listing
from sandbox.crm.registry import get_module, writes
from sandbox.crm.service import HasRelatedRecords, my_colleague_id
from sandbox.crm.views import colleague_choices, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import ngettext
from sandbox.models.crm import Account, Contact
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.leads import Lead


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Campaign)
        .outerjoin(Campaign.owner)
        .options(contains_eager(Campaign.owner))
    )
    listing = module_listing(
        MODULE,
        stmt,
        filters=(
            ListFilter(
                "type",
                Campaign.campaign_type,
                field_label(Campaign, "campaign_type"),
                codes="campaign_type",
            ),
            ListFilter(
                "status",
                Campaign.status,
                field_label(Campaign, "status"),
                codes="campaign_status",
            ),
            ListFilter(
                "owner",
                Campaign.owner_id,
                field_label(Campaign, "owner_id"),
                choices=colleague_choices,
            ),
        ),
        default_direction="desc",
    )
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Name or description"),
        new_label=_("New campaign"),
        no_match=_("No campaigns match your search."),
        no_records=_("There are no campaigns yet."),
        first_label=_("Create the first campaign"),
    )


def _save(form: CampaignForm, campaign: Campaign | None):
    try:
        saved = save_campaign(db.session, campaign, form.data)
    except CampaignError as error:
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [*field.errors, str(error)]
        else:
            flash(str(error), "danger")
        return None
    flash(_("Campaign “%(name)s” saved.", name=saved.name), "success")
    return redirect(MODULE.record_url(saved.id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = CampaignForm()
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
    if form.validate_on_submit():
        done = _save(form, None)
        if done is not None:
            return done
    return render_form(MODULE, form)


@bp.route("/<id:campaign_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    form = CampaignForm(obj=campaign)
    if form.validate_on_submit():
        done = _save(form, campaign)
        if done is not None:
            return done
    return render_form(MODULE, form, campaign)


def _member_listing(campaign: Campaign):
    member_lead, member_contact = Lead, Contact
    name = sa.func.coalesce(member_lead.name, member_contact.display_expression())
    stmt = (
        sa.select(CampaignMember)
        .outerjoin(member_lead, CampaignMember.lead_id == member_lead.id)
        .outerjoin(member_contact, CampaignMember.contact_id == member_contact.id)
        .options(
            contains_eager(CampaignMember.lead),
            contains_eager(CampaignMember.contact),
        )
        .where(CampaignMember.campaign_id == campaign.id)
    )
    return list_records(
        stmt,
        search=(
            member_lead.name,
            member_lead.company,
            member_lead.email,
            *member_contact.name_search_expressions(),
            member_contact.email,
        ),
        sorts={
            "name": name,
            "status": CampaignMember.status,
            "responded": CampaignMember.responded_on,
            "added": CampaignMember.created_at,
        },
        default_sort="added",
        filters=(
            ListFilter(
                "status",
                CampaignMember.status,
                field_label(CampaignMember, "status"),
                codes="member_status",
            ),
        ),
        tiebreak=CampaignMember.id,
    )


@bp.route("/<id:campaign_id>")
@login_required
def detail(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    return _render_detail(campaign)


def _render_detail(campaign, add_form=None, mark_form=None):
    mark_form = mark_form or MarkMembersForm(formdata=None)
    return render_template(
        "campaigns/detail.html",
        module=MODULE,
        campaign=campaign,
        results=campaign_results(db.session, [campaign.id])[campaign.id],
        counts=member_counts(db.session, campaign),
        status_choices=code_list("member_status").choices(),
        members=_member_listing(campaign),
        add_form=add_form or AddMemberForm(formdata=None),
        mark_form=mark_form,
        action_form=ActionForm(),
        lead_url=get_module("leads").record_url_maker(),
        contact_url=get_module("contacts").record_url_maker(),
        history=timeline(db.session, campaign),
    )


@bp.route("/<id:campaign_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    form = DeleteForm()
    if form.validate_on_submit():
        name = campaign.name
        try:
            delete_campaign(db.session, campaign, detach=bool(form.detach.data))
        except HasRelatedRecords:
            flash(
                _("“%(name)s” still has related records; see below.", name=name),
                "warning",
            )
        else:
            flash(_("Campaign “%(name)s” deleted.", name=name), "success")
            return redirect(url_for(MODULE.index_endpoint))
    related = linked_records(db.session, campaign)
    return render_template(
        "crm/confirm_delete.html",
        module=MODULE,
        form=form,
        record=campaign,
        related=related,
        blocking=[group for group in related if not group.detachable],
        cancel_url=MODULE.record_url(campaign.id),
    ), (409 if request.method == "POST" else 200)


@bp.route("/<id:campaign_id>/members", methods=["POST"])
@login_required
@writes
def add_member(campaign_id: int):
    """Add one lead or contact chosen with the record picker."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = AddMemberForm()
    if form.validate_on_submit():
        lead_ids = [form.lead_id.data] if form.lead_id.data else []
        contact_ids = [form.contact_id.data] if form.contact_id.data else []
        try:
            added = add_members(
                db.session, campaign, lead_ids=lead_ids, contact_ids=contact_ids
            )
        except CampaignError as error:
            form.lead_id.errors = [*form.lead_id.errors, str(error)]
        else:
            if added:
                flash(
                    _(
                        "%(name)s is now a member of the campaign.",
                        name=join_list(m.display_name for m in added),
                    ),
                    "success",
                )
            else:
                flash(_("Already a member of this campaign."), "info")
            return redirect(MODULE.record_url(campaign.id) + "#members")
    return _render_detail(campaign, add_form=form), 400


#: The lists members can be picked from in bulk: key -> (module, statement, filters)
BULK_SOURCES = ("leads", "contacts")


def _bulk_listing(kind: str):
    module = get_module(kind)
    if kind == "leads":
        stmt = sa.select(Lead).outerjoin(Lead.owner).options(contains_eager(Lead.owner))
        filters = (
            ListFilter(
                "status", Lead.status, field_label(Lead, "status"), codes="lead_status"
            ),
            ListFilter(
                "source", Lead.source, field_label(Lead, "source"), codes="lead_source"
            ),
            ListFilter(
                "rating", Lead.rating, field_label(Lead, "rating"), codes="lead_rating"
            ),
            ListFilter(
                "industry",
                Lead.industry,
                field_label(Lead, "industry"),
                codes="industry",
            ),
            ListFilter(
                "owner",
                Lead.owner_id,
                field_label(Lead, "owner_id"),
                choices=colleague_choices,
            ),
        )
    else:
        stmt = (
            sa.select(Contact)
            .outerjoin(Contact.account)
            .options(contains_eager(Contact.account))
        )
        filters = (
            ListFilter(
                "role", Contact.role, field_label(Contact, "role"), codes="contact_role"
            ),
            ListFilter(
                "industry",
                Account.industry,
                field_label(Account, "industry"),
                codes="industry",
            ),
            ListFilter(
                "account_type",
                Account.account_type,
                field_label(Account, "account_type"),
                codes="account_type",
            ),
        )
    listing = module_listing(module, stmt, filters=filters)
    listing.extra_args = {"kind": kind}
    return module, listing


@bp.route("/<id:campaign_id>/members/add", methods=["GET", "POST"])
@login_required
@writes
def add_members_bulk(campaign_id: int):
    """Tick leads or contacts in a searchable, filtered list and add them."""
    campaign = db.get_or_404(Campaign, campaign_id)
    kind = request.args.get("kind", "leads")
    if kind not in BULK_SOURCES:
        kind = "leads"
    form = BulkAddForm()
    if form.validate_on_submit():
        ids = form.ids.data or []
        if not ids:
            flash(_("Tick at least one record to add."), "warning")
        else:
            try:
                added = add_members(
                    db.session,
                    campaign,
                    **{"lead_ids" if kind == "leads" else "contact_ids": ids},
                )
            except CampaignError as error:
                flash(str(error), "danger")
            else:
                skipped = len(set(ids)) - len(added)
                message = ngettext(
                    "%(num)d added to the campaign.",
                    "%(num)d added to the campaign.",
                    len(added),
                )
                if skipped:
                    message += " " + ngettext(
                        "%(num)d was a member already.",
                        "%(num)d were members already.",
                        skipped,
                    )
                flash(message, "success")
                return redirect(MODULE.record_url(campaign.id) + "#members")
    module, listing = _bulk_listing(kind)
    column = CampaignMember.lead_id if kind == "leads" else CampaignMember.contact_id
    page_ids = [record.id for record, _cells in listing.rows]
    members = (
        set(
            db.session.scalars(
                sa.select(column).where(
                    CampaignMember.campaign_id == campaign.id, column.in_(page_ids)
                )
            )
        )
        if page_ids
        else set()
    )
    return render_template(
        "campaigns/add_members.html",
        module=MODULE,
        source=module,
        kind=kind,
        campaign=campaign,
        listing=listing,
        members=members,
        form=form,
    )


@bp.route("/<id:campaign_id>/members/status", methods=["POST"])
@login_required
@writes
def mark(campaign_id: int):
    """Change the status of the ticked members."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = MarkMembersForm()
    if form.validate_on_submit():
        ids = form.member_ids.data or []
        owned = (
            set(
                db.session.scalars(
                    sa.select(CampaignMember.id).where(
                        CampaignMember.campaign_id == campaign.id,
                        CampaignMember.id.in_(ids),
                    )
                )
            )
            if ids
            else set()
        )
        if not ids:
            flash(_("Tick at least one member."), "warning")
        elif owned != set(ids):
            abort(404)
        else:
            try:
                changed = mark_members(
                    db.session, ids, form.status.data, on=form.on.data
                )
            except CampaignError as error:
                flash(str(error), "danger")
            else:
                flash(
                    ngettext(
                        "%(num)d member updated.",
                        "%(num)d members updated.",
                        len(changed),
                    ),
                    "success",
                )
        return redirect(MODULE.record_url(campaign.id) + "#members")
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")
    return redirect(MODULE.record_url(campaign.id) + "#members")


@bp.route("/<id:campaign_id>/members/<id:member_id>/delete", methods=["POST"])
@login_required
@writes
def remove(campaign_id: int, member_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    member = db.get_or_404(CampaignMember, member_id)
    if member.campaign_id != campaign.id:
        abort(404)
    if ActionForm().validate_on_submit():
        name = member.display_name
        remove_member(db.session, member)
        flash(_("%(name)s removed from the campaign.", name=name), "success")
    return redirect(MODULE.record_url(campaign.id) + "#members")
