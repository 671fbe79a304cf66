"""Competitor rules: unique names, and the win/loss record against each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from sandbox.crm.service import apply_changes, same_name, save_with_unique_name
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.sales import Opportunity, Stage

FIELDS = ("name", "website", "strengths", "weaknesses", "products", "pricing")


class DuplicateCompetitorName(ValueError):
    """Another competitor already has this name."""

    def __init__(self, existing: Competitor) -> None:
        super().__init__(f"a competitor named {existing.name!r} already exists")
        self.existing = existing


def find_same_name(
    session: Session, name: str, exclude_id: int | None = None
) -> Competitor | None:
    """A competitor with this name, ignoring case and surrounding spaces."""
    stmt = sa.select(Competitor).where(same_name(Competitor.name, name))
    if exclude_id is not None:
        stmt = stmt.where(Competitor.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def _save(session: Session, competitor: Competitor) -> Competitor:
    return save_with_unique_name(
        session, competitor, find_same_name, DuplicateCompetitorName
    )


def create_competitor(session: Session, data: dict[str, Any]) -> Competitor:
    """:raise DuplicateCompetitorName: the name is taken (nothing is written)."""
    competitor = Competitor()
    apply_changes(competitor, data, FIELDS)
    return _save(session, competitor)


def update_competitor(
    session: Session, competitor: Competitor, data: dict[str, Any]
) -> Competitor:
    """:raise DuplicateCompetitorName: the new name is taken (nothing is written)."""
    apply_changes(competitor, data, FIELDS)
    return _save(session, competitor)


@dataclass(frozen=True)
class WinLoss:
    """Closed deals against one competitor: won against it, lost to it."""

    won: list[Opportunity]
    lost: list[Opportunity]
    won_amount: Decimal
    lost_amount: Decimal

    @property
    def won_count(self) -> int:
        return len(self.won)

    @property
    def lost_count(self) -> int:
        return len(self.lost)

    @property
    def win_rate(self) -> int | None:
        """Percent of the decided deals that were won; None when there are none."""
        decided = self.won_count + self.lost_count
        return round(100 * self.won_count / decided) if decided else None


def _cents_total(session: Session, where: sa.ColumnElement) -> Decimal:
    cents = session.scalar(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(sa.type_coerce(Opportunity.amount, sa.BigInteger)), 0
            )
        )
        .join(Opportunity.stage)
        .where(where)
    )
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def win_loss(session: Session, competitor: Competitor) -> WinLoss:
    """Deals won while this competitor was in them, and deals lost to it.

    Won: closed-won deals with the competitor linked. Lost: closed-lost deals whose
    "lost to" is the competitor. Amounts are exact (summed in cents).
    """
    won_where = sa.and_(
        Stage.is_won,
        sa.exists().where(
            OpportunityCompetitor.opportunity_id == Opportunity.id,
            OpportunityCompetitor.competitor_id == competitor.id,
        ),
    )
    lost_where = sa.and_(
        Stage.is_closed,
        sa.not_(Stage.is_won),
        Opportunity.lost_to_id == competitor.id,
    )

    def deals(where: sa.ColumnElement) -> list[Opportunity]:
        stmt = (
            sa.select(Opportunity)
            .join(Opportunity.stage)
            .options(joinedload(Opportunity.account))
            .where(where)
            .order_by(Opportunity.close_date.desc(), Opportunity.id.desc())
        )
        return list(session.scalars(stmt))

    return WinLoss(
        won=deals(won_where),
        lost=deals(lost_where),
        won_amount=_cents_total(session, won_where),
        lost_amount=_cents_total(session, lost_where),
    )


def open_deals(session: Session, competitor: Competitor) -> list[OpportunityCompetitor]:
    """The competitor's links to deals still open, with the threat in each."""
    stmt = (
        sa.select(OpportunityCompetitor)
        .join(OpportunityCompetitor.opportunity)
        .join(Opportunity.stage)
        .options(
            joinedload(OpportunityCompetitor.opportunity).joinedload(
                Opportunity.account
            )
        )
        .where(
            OpportunityCompetitor.competitor_id == competitor.id,
            sa.not_(Stage.is_closed),
        )
        .order_by(Opportunity.close_date)
    )
    return list(session.scalars(stmt))
