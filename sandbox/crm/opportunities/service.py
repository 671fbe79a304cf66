"""Opportunity rules: stages, probability, closing, history, line items, quotes.

Every way a deal changes stage — the form, the kanban, close won, close lost and
reopen — goes through :func:`move_to_stage`, so the same rules hold everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from sandbox.crm import lines as product_lines
from sandbox.crm.audit import define_action, record_action
from sandbox.crm.codes import code_list
from sandbox.crm.service import apply_changes, commit
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import (
    Account,
    Colleague,
    Contact,
    TenantInfo,
    current_actor,
)
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.sales import (
    ContactRole,
    LineItem,
    Opportunity,
    Quote,
    Stage,
    StageHistory,
)

CENT = Decimal("0.01")
#: Cards shown per kanban column; the rest are on the filtered list.
CARDS_PER_COLUMN = 20
STALE_DAYS_KEY = "stale_opportunity_days"
DEFAULT_STALE_DAYS = 30
QUOTE_VALID_DAYS = 30

define_action(
    "move_stage",
    _l("Moved %(entity)s %(record)s from %(old_stage)s to %(new_stage)s"),
)
define_action("close_won", _l("Closed %(entity)s %(record)s as won"))
define_action(
    "close_lost", _l("Closed %(entity)s %(record)s as lost (%(reason_label)s)")
)
define_action("reopen", _l("Reopened %(entity)s %(record)s at %(new_stage)s"))
define_action(
    "add_competitor", _l("Added competitor %(competitor)s to %(entity)s %(record)s")
)
define_action(
    "remove_competitor",
    _l("Removed competitor %(competitor)s from %(entity)s %(record)s"),
)
define_action("generate_quote", _l("Generated quote %(number)s for %(record)s"))

OPPORTUNITY_FIELDS = (
    "name",
    "account_id",
    "contact_id",
    "close_date",
    "opportunity_type",
    "lead_source",
    "campaign_id",
    "next_step",
    "owner_id",
    "description",
)


class OpportunityError(ValueError):
    """A rule refused the change; ``field`` is the form field it concerns."""

    field = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LostReasonRequired(OpportunityError):
    """Closing a deal as lost needs a reason from the lost-reason list."""

    field = "lost_reason"


class DuplicateCompetitor(OpportunityError):
    field = "competitor_id"


class NoLineItems(OpportunityError):
    """A quote lists products; a deal without line items has nothing to quote."""


def today() -> dt.date:
    return dt.date.today()


def stage_label(stage: Stage | None) -> str:
    """The stage's name in the current language."""
    return stage.display_name if stage is not None else ""


def stages(session: Session) -> list[Stage]:
    """The company's sales process, in order."""
    return list(session.scalars(sa.select(Stage).order_by(Stage.position, Stage.id)))


def lost_stage(session: Session) -> Stage | None:
    return session.scalars(
        sa.select(Stage)
        .where(Stage.is_closed, sa.not_(Stage.is_won))
        .order_by(Stage.position)
        .limit(1)
    ).first()


def won_stage(session: Session) -> Stage | None:
    return session.scalars(
        sa.select(Stage)
        .where(Stage.is_closed, Stage.is_won)
        .order_by(Stage.position)
        .limit(1)
    ).first()


# --- stage moves ---


def _snapshot(opp: Opportunity) -> tuple:
    return (opp.stage_id, opp.amount, opp.close_date)


def _write_history(session: Session, opp: Opportunity) -> None:
    session.add(
        StageHistory(
            opportunity_id=opp.id,
            at=utcnow(),
            actor=current_actor(),
            stage_id=opp.stage_id,
            amount=opp.amount,
            probability=opp.probability,
            close_date=opp.close_date,
            forecast_category=opp.forecast_category,
        )
    )


def _history_if_changed(session: Session, opp: Opportunity, before: tuple) -> None:
    """A history row when the stage, amount or close date changed."""
    if opp.id is None:
        session.flush()
    if before != _snapshot(opp):
        _write_history(session, opp)


def move_to_stage(
    session: Session,
    opp: Opportunity,
    stage: Stage,
    *,
    lost_reason: str | None = None,
    lost_to_id: int | None = None,
    on: dt.date | None = None,
) -> str | None:
    """Put ``opp`` in ``stage`` applying the stage rules; the caller commits.

    A won stage sets probability 100 and the closed date; a lost stage needs a
    lost reason (and may name the competitor it was lost to) and sets probability
    0; an open stage reopens a closed deal. Probability follows the stage unless it
    was set by hand. Returns the business action it was (``close_won``,
    ``close_lost``, ``reopen``, ``move_stage``) or None when nothing moved.

    :raise LostReasonRequired: a lost stage without a valid reason (nothing changes)
    """
    old = opp.stage
    if stage.is_closed and not stage.is_won:
        if (
            not lost_reason
            or lost_reason not in code_list("lost_reason").active_codes()
        ):
            raise LostReasonRequired(_l("Choose why the deal was lost."))
        if lost_to_id is not None and session.get(Competitor, lost_to_id) is None:
            raise OpportunityError(_l("That competitor no longer exists."))
    if old is not None and old.id == stage.id:
        if stage.is_closed and not stage.is_won:
            opp.lost_reason, opp.lost_to_id = lost_reason, lost_to_id
        return None
    was_closed = bool(old and old.is_closed)
    opp.stage = stage
    opp.stage_id = stage.id
    opp.forecast_category = stage.forecast_category
    if stage.is_closed:
        opp.probability = 100 if stage.is_won else 0
        opp.closed_on = on or today()
        if stage.is_won:
            opp.lost_reason, opp.lost_to_id = None, None
        else:
            opp.lost_reason, opp.lost_to_id = lost_reason, lost_to_id
    else:
        opp.closed_on, opp.lost_reason, opp.lost_to_id = None, None, None
        if not opp.probability_manual or was_closed:
            opp.probability = stage.probability
            opp.probability_manual = False
    opp.last_activity_at = utcnow()
    if opp.id is None:
        return None
    details = {
        "old_stage": stage_label(old),
        "new_stage": stage_label(stage),
        "old_stage_code": old.code if old else None,
        "new_stage_code": stage.code,
    }
    if stage.is_closed and stage.is_won:
        action = "close_won"
    elif stage.is_closed:
        action = "close_lost"
        details.update(
            reason=lost_reason,
            reason_label=code_list("lost_reason").label_of(lost_reason),
            lost_to_id=lost_to_id,
        )
    elif was_closed:
        action = "reopen"
    else:
        action = "move_stage"
    record_action(opp, action, details, session=session)
    return action


def change_stage(
    session: Session,
    opp: Opportunity,
    stage: Stage,
    *,
    lost_reason: str | None = None,
    lost_to_id: int | None = None,
) -> str | None:
    """Move ``opp`` to ``stage`` (the kanban, close won/lost, reopen) and commit.

    :raise LostReasonRequired: nothing is written
    """
    before = _snapshot(opp)
    try:
        action = move_to_stage(
            session, opp, stage, lost_reason=lost_reason, lost_to_id=lost_to_id
        )
        _history_if_changed(session, opp, before)
    except Exception:
        session.rollback()
        raise
    commit(session)
    return action


def close_won(session: Session, opp: Opportunity) -> str | None:
    return change_stage(session, opp, won_stage(session))


def close_lost(
    session: Session, opp: Opportunity, reason: str | None, lost_to_id: int | None
) -> str | None:
    """:raise LostReasonRequired: no valid reason; nothing is written"""
    return change_stage(
        session, opp, lost_stage(session), lost_reason=reason, lost_to_id=lost_to_id
    )


def reopen_stage(session: Session, opp: Opportunity) -> Stage | None:
    """The open stage a closed deal goes back to: the last one it was in."""
    row = session.scalars(
        sa.select(Stage)
        .join(StageHistory, StageHistory.stage_id == Stage.id)
        .where(StageHistory.opportunity_id == opp.id, sa.not_(Stage.is_closed))
        .order_by(StageHistory.at.desc(), StageHistory.id.desc())
        .limit(1)
    ).first()
    if row is not None:
        return row
    return session.scalars(
        sa.select(Stage).where(sa.not_(Stage.is_closed)).order_by(Stage.position)
    ).first()


def reopen(session: Session, opp: Opportunity, stage: Stage | None = None) -> None:
    """Reopen a closed deal at ``stage`` (default: the stage it was last open in)."""
    if not opp.stage.is_closed:
        raise OpportunityError(_l("The opportunity is already open."))
    stage = stage or reopen_stage(session, opp)
    if stage is None or stage.is_closed:
        raise OpportunityError(_l("Choose an open stage."))
    change_stage(session, opp, stage)


# --- create and edit ---


def save_opportunity(
    session: Session, opp: Opportunity | None, data: dict[str, Any]
) -> Opportunity:
    """Create (``opp`` None) or update an opportunity from form data and commit.

    A typed probability that differs from what the deal had (for a new deal: from
    the stage's) is kept by hand through later stage changes; an empty one hands
    probability back to the stage.

    :raise OpportunityError: a rule refused it (lost without a reason …); nothing
        is written
    """
    stage = session.get(Stage, data["stage_id"])
    if stage is None:
        raise OpportunityError(_l("Choose a stage."))
    try:
        with session.no_autoflush:
            if opp is None:
                opp = Opportunity()
                session.add(opp)
                before, had_probability, old_stage_id = None, stage.probability, None
            else:
                before = _snapshot(opp)
                had_probability, old_stage_id = opp.probability, opp.stage_id
            apply_changes(opp, data, OPPORTUNITY_FIELDS)
            if not opp.line_items:
                opp.amount = data.get("amount")
            typed = data.get("probability")
            if typed is None:
                opp.probability_manual = False
            elif opp.probability_manual or typed != had_probability:
                opp.probability_manual = True
                opp.probability = typed
            move_to_stage(
                session,
                opp,
                stage,
                lost_reason=data.get("lost_reason"),
                lost_to_id=data.get("lost_to_id"),
            )
            if not stage.is_closed:
                if not opp.probability_manual:
                    opp.probability = stage.probability
                if old_stage_id == stage.id and data.get("forecast_category"):
                    opp.forecast_category = data["forecast_category"]
            opp.last_activity_at = utcnow()
        session.flush()
        if before is None or before != _snapshot(opp):
            _write_history(session, opp)
    except Exception:
        session.rollback()
        raise
    commit(session)
    return opp


# --- line items ---


#: A deal's line items: any deal takes changes; totals are not capped.
LINES = product_lines.LineKind(
    model=LineItem,
    parent_key="opportunity_id",
    refused=lambda message, field: OpportunityError(message),
    lines="line_items",
    capped=False,
)


def _after_lines(session: Session, opp: Opportunity, before: tuple) -> None:
    opp.last_activity_at = utcnow()
    _history_if_changed(session, opp, before)


def save_line_item(
    session: Session,
    opp: Opportunity,
    item: LineItem | None,
    data: dict[str, Any],
) -> LineItem:
    """Add or change a product line; the deal's amount becomes the lines' sum."""
    before = _snapshot(opp)
    return product_lines.save_line(
        session,
        opp,
        item,
        data,
        LINES,
        after=lambda: _after_lines(session, opp, before),
    )


def remove_line_item(session: Session, opp: Opportunity, item: LineItem) -> None:
    """Remove a line; with no lines left the amount stays as it was (editable)."""
    before = _snapshot(opp)
    product_lines.remove_line(
        session, opp, item, LINES, after=lambda: _after_lines(session, opp, before)
    )


# --- competitors and contact roles ---


def add_competitor(
    session: Session, opp: Opportunity, data: dict[str, Any]
) -> OpportunityCompetitor:
    """:raise DuplicateCompetitor: already on this deal (nothing is written)"""
    competitor = session.get(Competitor, data["competitor_id"])
    if competitor is None:
        raise OpportunityError(_l("Choose a competitor."))
    exists = session.scalar(
        sa.select(OpportunityCompetitor.id).where(
            OpportunityCompetitor.opportunity_id == opp.id,
            OpportunityCompetitor.competitor_id == competitor.id,
        )
    )
    if exists:
        raise DuplicateCompetitor(_l("This competitor is already on the deal."))
    link = OpportunityCompetitor(opportunity_id=opp.id, competitor=competitor)
    apply_changes(link, data, ("strengths", "weaknesses", "threat"))
    session.add(link)
    opp.last_activity_at = utcnow()
    record_action(
        opp,
        "add_competitor",
        {"competitor": competitor.name, "competitor_id": competitor.id},
    )
    commit(session)
    return link


def update_competitor(
    session: Session, link: OpportunityCompetitor, data: dict[str, Any]
) -> None:
    apply_changes(link, data, ("strengths", "weaknesses", "threat"))
    link.opportunity.last_activity_at = utcnow()
    commit(session)


def remove_competitor(session: Session, link: OpportunityCompetitor) -> None:
    opp = link.opportunity
    record_action(
        opp,
        "remove_competitor",
        {"competitor": link.competitor.name, "competitor_id": link.competitor_id},
    )
    session.delete(link)
    opp.last_activity_at = utcnow()
    commit(session)


def add_contact_role(
    session: Session, opp: Opportunity, contact_id: int, role: str
) -> ContactRole:
    exists = session.scalar(
        sa.select(ContactRole.id).where(
            ContactRole.opportunity_id == opp.id, ContactRole.contact_id == contact_id
        )
    )
    if exists:
        raise OpportunityError(_l("This contact already has a role on the deal."))
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise OpportunityError(_l("The chosen record no longer exists."))
    # Linked objects (not just ids) so the audit log names the contact.
    link = ContactRole(opportunity_id=opp.id, contact=contact, role=role)
    session.add(link)
    opp.last_activity_at = utcnow()
    commit(session)
    return link


def delete_opportunity(session: Session, opp: Opportunity) -> None:
    """Delete a deal with what belongs only to it (lines, roles, competitors,
    quotes and history), each audited."""
    try:
        for model in (OpportunityCompetitor, Quote):
            for row in session.scalars(
                sa.select(model).where(model.opportunity_id == opp.id)
            ):
                session.delete(row)
        session.execute(
            sa.delete(StageHistory).where(StageHistory.opportunity_id == opp.id)
        )
        session.delete(opp)
    except Exception:
        session.rollback()
        raise
    commit(session)


# --- quotes ---


def generate_quote(session: Session, opp: Opportunity) -> Quote:
    """Issue the next quote Q-<deal id>-<n> with the deal's lines as they are now.

    :raise NoLineItems: the deal has no products to quote
    """
    if not opp.line_items:
        raise NoLineItems(_l("Add products to the opportunity before quoting it."))
    sequence = (
        session.scalar(
            sa.select(sa.func.max(Quote.sequence)).where(Quote.opportunity_id == opp.id)
        )
        or 0
    ) + 1
    issued = today()
    quote = Quote(
        opportunity_id=opp.id,
        sequence=sequence,
        number=f"Q-{opp.id}-{sequence}",
        issued_on=issued,
        valid_until=issued + dt.timedelta(days=QUOTE_VALID_DAYS),
        lines=[
            {
                "product": item.product.name,
                "code": item.product.code,
                "quantity": str(item.quantity),
                "unit_price": str(item.unit_price),
                "discount": str(item.discount),
                "total": str(item.total),
            }
            for item in opp.line_items
        ],
        total=sum((item.total for item in opp.line_items), Decimal("0.00")),
    )
    session.add(quote)
    opp.last_activity_at = utcnow()
    record_action(opp, "generate_quote", {"number": quote.number})
    commit(session)
    return quote


# --- early warning ---


def stale_days(session: Session) -> int:
    """Days without activity after which an open deal is flagged (a tenant setting)."""
    raw = session.scalar(
        sa.select(TenantInfo.value).where(TenantInfo.key == STALE_DAYS_KEY)
    )
    try:
        days = int(raw) if raw is not None else DEFAULT_STALE_DAYS
    except ValueError:
        return DEFAULT_STALE_DAYS
    return days if days > 0 else DEFAULT_STALE_DAYS


def _last_touched():
    return sa.func.coalesce(
        Opportunity.last_activity_at, Opportunity.updated_at, Opportunity.created_at
    )


def overdue_condition(on: dt.date) -> sa.ColumnElement:
    """Open deals past their close date (needs ``Stage`` joined)."""
    return sa.and_(sa.not_(Stage.is_closed), Opportunity.close_date < on)


def stale_condition(now: dt.datetime, days: int) -> sa.ColumnElement:
    """Open deals nobody touched for ``days`` days (needs ``Stage`` joined)."""
    return sa.and_(
        sa.not_(Stage.is_closed), _last_touched() < now - dt.timedelta(days=days)
    )


@dataclass(frozen=True)
class Warnings:
    """What the early warning (预警) says about one deal."""

    overdue: bool
    stale: bool

    def __bool__(self) -> bool:
        return self.overdue or self.stale


def warnings_for(
    opp: Opportunity, days: int, *, on: dt.date | None = None, now=None
) -> Warnings:
    if opp.stage is None or opp.stage.is_closed:
        return Warnings(False, False)
    on = on or today()
    now = now or utcnow()
    touched = opp.last_activity_at or opp.updated_at or opp.created_at
    return Warnings(
        overdue=opp.close_date < on,
        stale=touched is not None and touched < now - dt.timedelta(days=days),
    )


def flagged(session: Session, limit: int = 5) -> tuple[list[Opportunity], int]:
    """Open deals with an early warning (nearest close date first), and how many."""
    condition = sa.or_(
        overdue_condition(today()), stale_condition(utcnow(), stale_days(session))
    )
    base = sa.select(Opportunity).join(Opportunity.stage).where(condition)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = session.scalars(
        base.options(contains_eager(Opportunity.stage))
        .order_by(Opportunity.close_date, Opportunity.id)
        .limit(limit)
    ).all()
    return list(rows), total


# --- the pipeline (kanban) ---


class Card(NamedTuple):
    """What a kanban card shows: one row, no ORM object behind it."""

    id: int
    name: str
    account_name: str
    amount: Decimal
    close_date: dt.date
    owner_name: str | None
    stage_id: int


@dataclass
class Column:
    stage: Stage
    count: int
    total: Decimal
    weighted: Decimal
    cards: list[Card]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def _cents(value: Any) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def pipeline(
    session: Session, *, owner_id: int | None = None, per_column: int = CARDS_PER_COLUMN
) -> list[Column]:
    """Each stage with its deals' count, total and weighted total (one aggregate
    query) and its ``per_column`` deals closing soonest (one windowed query)."""
    where = [] if owner_id is None else [Opportunity.owner_id == owner_id]
    process = stages(session)
    open_ids = [stage.id for stage in process if not stage.is_closed]
    table = Opportunity.__table__
    # Money is stored as cents: SUM(amount) is exact cents, SUM(amount * probability)
    # exact cent-percents (read raw, not through Money's conversion).
    cents = sa.type_coerce(table.c.amount, sa.BigInteger)
    totals = {
        stage_id: (count, total, weighted)
        for stage_id, count, total, weighted in session.execute(
            sa.select(
                table.c.stage_id,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(cents), 0),
                sa.func.coalesce(sa.func.sum(cents * table.c.probability), 0),
            )
            .where(*where)
            .group_by(table.c.stage_id)
        )
    }
    by_stage: dict[int, list[Card]] = {}
    if per_column > 0 and open_ids:
        ranked = (
            sa.select(
                Opportunity.id,
                sa.func.row_number()
                .over(
                    partition_by=Opportunity.stage_id,
                    order_by=(Opportunity.close_date, Opportunity.id),
                )
                .label("rank"),
            )
            .where(Opportunity.stage_id.in_(open_ids), *where)
            .subquery()
        )
        rows = session.execute(
            sa.select(
                Opportunity.id,
                Opportunity.name,
                Account.name,
                Opportunity.amount,
                Opportunity.close_date,
                Colleague.name,
                Opportunity.stage_id,
            )
            .join(ranked, ranked.c.id == Opportunity.id)
            .join(Account, Account.id == Opportunity.account_id)
            .outerjoin(Colleague, Colleague.id == Opportunity.owner_id)
            .where(ranked.c.rank <= per_column)
            .order_by(Opportunity.close_date, Opportunity.id)
        )
        for row in rows:
            card = Card(*row)
            by_stage.setdefault(card.stage_id, []).append(card)
    columns = []
    for stage in process:
        count, total, weighted = totals.get(stage.id, (0, 0, 0))
        columns.append(
            Column(
                stage,
                count,
                _cents(total),
                (Decimal(int(weighted)) / 10000).quantize(CENT, rounding=ROUND_HALF_UP),
                by_stage.get(stage.id, []),
            )
        )
    return columns


def owners(session: Session) -> list[tuple[int, str]]:
    return [
        (i, n)
        for i, n in session.execute(
            sa.select(Colleague.id, Colleague.name).order_by(Colleague.name)
        )
    ]


def account_name(session: Session, account_id: int) -> str | None:
    return session.scalar(sa.select(Account.name).where(Account.id == account_id))
