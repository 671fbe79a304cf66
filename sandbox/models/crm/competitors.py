"""Competitors (竞争对手) and how they show up in deals."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Timestamped


class Competitor(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), unique=True, info={"label": _l("Competitor name")}
    )
    website: Mapped[str | None] = mapped_column(
        sa.String(200), info={"label": _l("Website")}
    )
    strengths: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Strengths"), "multiline": True}
    )
    weaknesses: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Weaknesses"), "multiline": True}
    )
    products: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Their products"), "multiline": True}
    )
    pricing: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Pricing notes"), "multiline": True}
    )

    def __repr__(self) -> str:
        return f"<Competitor {self.id} {self.name!r}>"


class OpportunityCompetitor(Timestamped, Audited):
    """A competitor in one deal, with how it compares there."""

    __tablename__ = "opportunity_competitor"
    __table_args__ = (sa.UniqueConstraint("opportunity_id", "competitor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Opportunity")},
    )
    competitor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competitor.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Competitor")},
    )
    strengths: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Strengths in this deal"), "multiline": True}
    )
    weaknesses: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Weaknesses in this deal"), "multiline": True}
    )
    threat: Mapped[str] = mapped_column(
        sa.String(10),
        default="medium",
        info={"label": _l("Threat level"), "codes": "threat_level"},
    )

    opportunity: Mapped[Opportunity] = relationship()  # noqa: F821
    competitor: Mapped[Competitor] = relationship()

    @property
    def display_name(self) -> str:
        return self.competitor.display_name if self.competitor else f"#{self.id}"
