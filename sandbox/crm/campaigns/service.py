"""Campaign rules: saving campaigns, their members and member statuses, and the
results (funnel and ROI) computed in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.codes import code_list
from sandbox.crm.display import join_list
from sandbox.crm.service import (
    HasRelatedRecords,
    apply_changes,
    commit,
    related_records,
)
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Contact
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage

FIELDS = (
    "name",
    "campaign_type",
    "status",
    "start_date",
    "end_date",
    "budget",
    "expected_cost",
    "actual_cost",
    "expected_revenue",
    "expected_responses",
    "owner_id",
    "description",
)

#: Member statuses in funnel order; a member only moves forward along it.
MEMBER_STATUSES = ("planned", "sent", "responded", "converted")
#: Statuses that count as a response (a converted member responded first).
RESPONDED = ("responded", "converted")
#: Members added at once from a list (a page of 100, a few pages at most).
MAX_BULK = 1000

define_action(
    "add_members", _l("Added to %(entity)s %(record)s (%(count)s): %(names)s")
)
define_action("remove_member", _l("Removed %(member)s from %(entity)s %(record)s"))
define_action(
    "mark_members",
    _l("Marked as %(status)s in %(entity)s %(record)s (%(count)s): %(names)s"),
    codes={"status": "member_status"},
)


def message_text(message: object) -> str:
    """A (lazy) message as text: translated in a request, else in English."""
    if has_request_context() or not isinstance(message, LazyString):
        return str(message)
    text, kwargs = message._args[0], message._kwargs
    return text % kwargs if kwargs else text


class CampaignError(ValueError):
    """A campaign rule refused the change; ``field`` names the form field."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return message_text(self.message)


# ------------------------------------------------------------ create and update


def _check(campaign: Campaign) -> None:
    if campaign.start_date and campaign.end_date:
        if campaign.end_date < campaign.start_date:
            raise CampaignError(
                _l("The end date cannot be before the start date."), "end_date"
            )


def save_campaign(
    session: Session, campaign: Campaign | None, data: dict[str, Any]
) -> Campaign:
    """Create (``campaign`` None) or update a campaign and commit.

    :raise CampaignError: the dates are the wrong way round (nothing is written).
    """
    if campaign is None:
        campaign = Campaign()
    with session.no_autoflush:
        apply_changes(campaign, data, FIELDS)
        if not campaign.status:
            campaign.status = "planning"
        try:
            _check(campaign)
        except CampaignError:
            session.rollback()
            raise
    session.add(campaign)
    commit(session)
    return campaign


def delete_campaign(session: Session, campaign: Campaign, *, detach: bool) -> None:
    """Delete a campaign with its members; the leads and deals it credits are
    unlinked (and kept) only when ``detach``.

    :raise HasRelatedRecords: records are credited to it and ``detach`` is false;
        nothing is written.
    """
    linked = linked_records(session, campaign)
    if linked and not detach:
        raise HasRelatedRecords(linked)
    try:
        for group in linked:
            attr = group.column.key
            for other in session.scalars(
                sa.select(group.model).where(getattr(group.model, attr) == campaign.id)
            ):
                setattr(other, attr, None)  # one by one, so each is audited
        session.delete(campaign)  # its members go with it, each audited
        session.commit()
    except Exception:
        session.rollback()
        raise


def linked_records(session: Session, campaign: Campaign) -> list:
    """What links to the campaign other than its own members (they go with it)."""
    return [
        group
        for group in related_records(session, campaign)
        if group.model is not CampaignMember
    ]


# ---------------------------------------------------------------------- members


def _names(members: Iterable[CampaignMember], limit: int = 10) -> str:
    names = [m.display_name for m in members]
    shown = join_list(names[:limit])
    if len(names) <= limit:
        return shown
    return _("%(label)s (%(note)s)", label=shown, note=f"+{len(names) - limit}")


def add_members(
    session: Session,
    campaign: Campaign,
    *,
    lead_ids: Iterable[int] = (),
    contact_ids: Iterable[int] = (),
) -> list[CampaignMember]:
    """Add leads and contacts to the campaign as planned members.

    Those already members are skipped. Returns the members added.

    :raise CampaignError: a chosen record does not exist, or too many at once;
        nothing is written.
    """
    lead_ids, contact_ids = set(lead_ids), set(contact_ids)
    if len(lead_ids) + len(contact_ids) > MAX_BULK:
        raise CampaignError(_l("Add at most %(max)d members at a time.", max=MAX_BULK))
    leads = _existing(session, Lead, lead_ids)
    contacts = _existing(session, Contact, contact_ids)
    present = session.execute(
        sa.select(CampaignMember.lead_id, CampaignMember.contact_id).where(
            CampaignMember.campaign_id == campaign.id
        )
    ).all()
    have_leads = {lead for lead, _ in present if lead is not None}
    have_contacts = {contact for _, contact in present if contact is not None}
    added = [
        CampaignMember(campaign=campaign, lead=lead, status="planned")
        for lead in leads
        if lead.id not in have_leads
    ] + [
        CampaignMember(campaign=campaign, contact=contact, status="planned")
        for contact in contacts
        if contact.id not in have_contacts
    ]
    if not added:
        return []
    session.add_all(added)
    record_action(
        campaign, "add_members", {"count": len(added), "names": _names(added)}
    )
    commit(session)
    return added


def _existing(session: Session, model: type, ids: set[int]) -> list:
    if not ids:
        return []
    found = list(
        session.scalars(sa.select(model).where(model.id.in_(ids)).order_by(model.id))
    )
    if len(found) != len(ids):
        raise CampaignError(_l("The chosen record no longer exists."))
    return found


def remove_member(session: Session, member: CampaignMember) -> None:
    campaign = member.campaign
    record_action(campaign, "remove_member", {"member": member.display_name})
    session.delete(member)
    commit(session)


def can_move(current: str, wanted: str) -> bool:
    """Whether a member may go from status ``current`` to ``wanted``: only forward
    along planned → sent → responded → converted (steps may be skipped: someone
    may walk up to the stand without an invitation)."""
    if current not in MEMBER_STATUSES or wanted not in MEMBER_STATUSES:
        return False
    return MEMBER_STATUSES.index(wanted) > MEMBER_STATUSES.index(current)


def mark_members(
    session: Session,
    member_ids: Iterable[int],
    status: str,
    on: dt.date | None = None,
    *,
    sent_at: dt.datetime | None = None,
    commit_now: bool = True,
) -> list[CampaignMember]:
    """Move members to ``status`` (sent, responded, converted), on day ``on``
    (today when not given), and log it on each member's campaign.

    A member that becomes responded or converted gets ``on`` as its response date
    unless it already has one; a member marked sent gets its sending time
    (``sent_at``, else the start of ``on``, else now). With ``commit_now`` false
    the change joins the caller's transaction (a mailing marks its members in the
    same commit as its messages).

    :raise CampaignError: an unknown status, no members, a member that does not
        exist, or one that cannot move to ``status`` (its status would go back);
        nothing is written then.
    """
    if status not in code_list("member_status").active_codes() or (
        status not in MEMBER_STATUSES
    ):
        raise CampaignError(_l("Choose a member status from the list."), "status")
    ids = set(member_ids)
    if not ids:
        raise CampaignError(_l("Choose at least one member."))
    members = list(
        session.scalars(
            sa.select(CampaignMember)
            .where(CampaignMember.id.in_(ids))
            .options(
                sa.orm.selectinload(CampaignMember.lead),
                sa.orm.selectinload(CampaignMember.contact),
                sa.orm.selectinload(CampaignMember.campaign),
            )
            .order_by(CampaignMember.id)
        )
    )
    if len(members) != len(ids):
        raise CampaignError(_l("The chosen record no longer exists."))
    stuck = [m for m in members if not can_move(m.status, status)]
    if stuck:
        label = code_list("member_status").label_of
        raise CampaignError(
            _l(
                "A member's status only moves forward (planned → sent → responded "
                "→ converted); these cannot become %(status)s: %(names)s. To start "
                "a member over, remove it from the campaign and add it again.",
                status=label(status),
                names=join_list(
                    _(
                        "%(label)s (%(note)s)",
                        label=m.display_name,
                        note=label(m.status),
                    )
                    for m in stuck[:10]
                ),
            ),
            "status",
        )
    day = on or dt.date.today()
    try:
        for member in members:
            member.status = status
            if status == "sent":
                member.sent_at = sent_at or (
                    utcnow() if on is None else dt.datetime.combine(on, dt.time())
                )
            elif member.responded_on is None:
                member.responded_on = day
        by_campaign: dict[int, list[CampaignMember]] = {}
        for member in members:
            by_campaign.setdefault(member.campaign_id, []).append(member)
        for group in by_campaign.values():
            record_action(
                group[0].campaign,
                "mark_members",
                {"count": len(group), "status": status, "names": _names(group)},
            )
    except Exception:
        session.rollback()
        raise
    if commit_now:
        commit(session)
    return members


# ---------------------------------------------------------------------- results


@dataclass(frozen=True)
class CampaignResults:
    """One campaign's funnel and return."""

    campaign_id: int
    members: int
    responded: int
    leads: int
    converted_leads: int
    opportunities: int
    opportunity_amount: Decimal
    won_count: int
    won_amount: Decimal
    actual_cost: Decimal | None
    #: (won amount − actual cost) / actual cost; None when there is no cost.
    roi: Decimal | None

    @property
    def response_rate(self) -> Decimal | None:
        return _ratio(self.responded, self.members)

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(self.converted_leads, self.leads)


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


CENTS = Decimal(100)


def _cents(column: sa.ColumnElement) -> sa.ColumnElement:
    """A money column as its stored whole cents (sums stay exact integers)."""
    return sa.type_coerce(column, sa.BigInteger)


def roi(won_amount: Decimal, actual_cost: Decimal | None) -> Decimal | None:
    """(won − cost) / cost, to four decimals; None when the cost is 0 or unknown."""
    if not actual_cost:
        return None
    return ((won_amount - actual_cost) / actual_cost).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )


def campaign_results(
    session: Session, campaign_ids: Iterable[int] | None = None
) -> dict[int, CampaignResults]:
    """The funnel and ROI of each campaign (all of them when ``campaign_ids`` is
    None), keyed by campaign id.

    * members, responded: campaign members; responded counts responded and
      converted members;
    * leads, converted leads: distinct leads credited to the campaign (``lead.
      campaign_id``) or members of it, and those of them converted;
    * opportunities, won: deals whose primary campaign it is, and those won;
    * ROI: (won amount − actual cost) / actual cost. The cost is read from the
      campaign row alone, so it counts once however many members or deals the
      campaign has. Each figure is one grouped query, whatever the number of
      campaigns or members.
    """
    wanted = None if campaign_ids is None else sorted(set(campaign_ids))

    def only(column: sa.ColumnElement) -> list[sa.ColumnElement]:
        return [] if wanted is None else [column.in_(wanted)]

    campaigns = session.execute(
        sa.select(Campaign.id, Campaign.actual_cost).where(*only(Campaign.id))
    ).all()
    members = {
        cid: (total, responded)
        for cid, total, responded in session.execute(
            sa.select(
                CampaignMember.campaign_id,
                sa.func.count(),
                sa.func.count().filter(CampaignMember.status.in_(RESPONDED)),
            )
            .where(*only(CampaignMember.campaign_id))
            .group_by(CampaignMember.campaign_id)
        )
    }
    credited = sa.union(
        sa.select(
            Lead.campaign_id.label("campaign_id"), Lead.id.label("lead_id")
        ).where(Lead.campaign_id.is_not(None), *only(Lead.campaign_id)),
        sa.select(CampaignMember.campaign_id, CampaignMember.lead_id).where(
            CampaignMember.lead_id.is_not(None), *only(CampaignMember.campaign_id)
        ),
    ).subquery()
    leads = {
        cid: (total, converted)
        for cid, total, converted in session.execute(
            sa.select(
                credited.c.campaign_id,
                sa.func.count(),
                sa.func.count().filter(Lead.converted_at.is_not(None)),
            )
            .select_from(credited)
            .join(Lead, Lead.id == credited.c.lead_id)
            .group_by(credited.c.campaign_id)
        )
    }
    deals = {
        cid: (count, amount, won, won_amount)
        for cid, count, amount, won, won_amount in session.execute(
            sa.select(
                Opportunity.campaign_id,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(_cents(Opportunity.amount)), 0),
                sa.func.count().filter(Stage.is_won),
                sa.func.coalesce(
                    sa.func.sum(_cents(Opportunity.amount)).filter(Stage.is_won), 0
                ),
            )
            .join(Stage, Stage.id == Opportunity.stage_id)
            .where(Opportunity.campaign_id.is_not(None), *only(Opportunity.campaign_id))
            .group_by(Opportunity.campaign_id)
        )
    }
    results = {}
    for cid, cost in campaigns:
        total, responded = members.get(cid, (0, 0))
        lead_count, converted = leads.get(cid, (0, 0))
        count, amount, won, won_cents = deals.get(cid, (0, 0, 0, 0))
        won_amount = (Decimal(won_cents) / CENTS).quantize(Decimal("0.01"))
        results[cid] = CampaignResults(
            campaign_id=cid,
            members=total,
            responded=responded,
            leads=lead_count,
            converted_leads=converted,
            opportunities=count,
            opportunity_amount=(Decimal(amount) / CENTS).quantize(Decimal("0.01")),
            won_count=won,
            won_amount=won_amount,
            actual_cost=cost,
            roi=roi(won_amount, cost),
        )
    return results


def member_counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """How many of the campaign's members are in each status."""
    rows = session.execute(
        sa.select(CampaignMember.status, sa.func.count())
        .where(CampaignMember.campaign_id == campaign.id)
        .group_by(CampaignMember.status)
    )
    return dict(rows.all())
