"""Marketing campaigns (市场活动) and the leads and contacts they reach."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Money, Timestamped
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.team import Colleague


class Campaign(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Campaign name")}
    )
    campaign_type: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Type"), "codes": "campaign_type"}
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="planning",
        index=True,
        info={"label": _l("Status"), "codes": "campaign_status"},
    )
    start_date: Mapped[dt.date | None] = mapped_column(info={"label": _l("Start date")})
    end_date: Mapped[dt.date | None] = mapped_column(info={"label": _l("End date")})
    budget: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Budget"), "money": True}
    )
    expected_cost: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Expected cost"), "money": True}
    )
    actual_cost: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Actual cost"), "money": True}
    )
    expected_revenue: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Expected revenue"), "money": True}
    )
    expected_responses: Mapped[int | None] = mapped_column(
        info={"label": _l("Expected responses")}
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Owner")},
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )

    owner: Mapped[Colleague | None] = relationship()
    members: Mapped[list[CampaignMember]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r}>"


class CampaignMember(Timestamped, Audited):
    """A lead or a contact (exactly one) that a campaign reaches."""

    __tablename__ = "campaign_member"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "lead_id"),
        sa.UniqueConstraint("campaign_id", "contact_id"),
        sa.CheckConstraint(
            "(lead_id IS NULL) != (contact_id IS NULL)", name="one_member"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Campaign")},
    )
    lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lead.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Lead")},
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Contact")},
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="planned",
        index=True,
        info={"label": _l("Member status"), "codes": "member_status"},
    )
    sent_at: Mapped[dt.datetime | None] = mapped_column(info={"label": _l("Sent on")})
    responded_on: Mapped[dt.date | None] = mapped_column(
        info={"label": _l("Response date")}
    )

    campaign: Mapped[Campaign] = relationship(back_populates="members")
    lead: Mapped[Lead | None] = relationship()  # noqa: F821
    contact: Mapped[Contact | None] = relationship()

    @property
    def display_name(self) -> str:
        if self.lead is not None:
            return self.lead.name
        if self.contact is not None:
            return self.contact.full_name
        return f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return sa.cast(cls.id, sa.String)

    def __repr__(self) -> str:
        return f"<CampaignMember {self.id} of campaign {self.campaign_id}>"
