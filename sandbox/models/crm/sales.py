"""Opportunities (销售机会), their stages, line items, contact roles and history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import Audited, Money, TenantModel, Timestamped
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.lines import ProductLine
from sandbox.models.crm.team import Colleague


class Stage(Timestamped, Audited):
    """One step of the company's sales process (a per-tenant table, editable)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable key lessons and checks use ("prospecting", "closed_won" …).
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), info={"label": _l("Stage")})
    name_zh: Mapped[str] = mapped_column(
        sa.String(80), info={"label": _l("Chinese name")}
    )
    position: Mapped[int] = mapped_column(info={"label": _l("Order")})
    probability: Mapped[int] = mapped_column(
        info={"label": _l("Default probability (%)")}
    )
    forecast_category: Mapped[str] = mapped_column(
        sa.String(20),
        info={"label": _l("Forecast category"), "codes": "forecast_category"},
    )
    is_closed: Mapped[bool] = mapped_column(default=False, info={"label": _l("Closed")})
    is_won: Mapped[bool] = mapped_column(default=False, info={"label": _l("Won")})

    @property
    def display_name(self) -> str:
        """The stage's name in the language of the current request."""
        from flask import has_request_context

        from sandbox.i18n import current_language

        if self.name_zh and has_request_context() and current_language() == "zh":
            return self.name_zh
        return self.name

    def __repr__(self) -> str:
        return f"<Stage {self.code}>"


class Opportunity(Timestamped, Audited):
    #: Bookkeeping every change of the deal moves, as ``updated_at``: in the
    #: timeline it would only repeat the entry's own time.
    __audit_ignore__ = Audited.__audit_ignore__ | {"last_activity_at"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Opportunity name")}
    )
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Account")},
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        info={"label": _l("Primary contact")},
    )
    amount: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Amount"), "money": True}
    )
    close_date: Mapped[dt.date] = mapped_column(
        index=True, info={"label": _l("Close date")}
    )
    stage_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stage.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Stage")},
    )
    probability: Mapped[int] = mapped_column(info={"label": _l("Probability (%)")})
    #: True once the user typed a probability; stage changes then leave it alone.
    probability_manual: Mapped[bool] = mapped_column(default=False)
    forecast_category: Mapped[str] = mapped_column(
        sa.String(20),
        info={"label": _l("Forecast category"), "codes": "forecast_category"},
    )
    opportunity_type: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Type"), "codes": "opportunity_type"}
    )
    lead_source: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Lead source"), "codes": "lead_source"}
    )
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Primary campaign")},
    )
    next_step: Mapped[str | None] = mapped_column(
        sa.String(255), info={"label": _l("Next step")}
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Owner")},
    )
    closed_on: Mapped[dt.date | None] = mapped_column(info={"label": _l("Closed on")})
    lost_reason: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Lost reason"), "codes": "lost_reason"}
    )
    lost_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("competitor.id", ondelete="SET NULL"),
        info={"label": _l("Lost to")},
    )
    #: When someone last did something about the deal (drives early warning).
    last_activity_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Last activity")}
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )

    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()
    stage: Mapped[Stage] = relationship()
    owner: Mapped[Colleague | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()  # noqa: F821
    lost_to: Mapped[Competitor | None] = relationship()  # noqa: F821
    line_items: Mapped[list[LineItem]] = relationship(
        back_populates="opportunity",
        cascade="all, delete-orphan",
        order_by="LineItem.position",
    )
    contact_roles: Mapped[list[ContactRole]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Opportunity {self.id} {self.name!r}>"


class ContactRole(Audited):
    """A contact's part in a deal (decision maker, influencer …)."""

    __tablename__ = "opportunity_contact_role"
    __table_args__ = (sa.UniqueConstraint("opportunity_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Contact")},
    )
    role: Mapped[str] = mapped_column(
        sa.String(40), info={"label": _l("Role"), "codes": "contact_role"}
    )

    opportunity: Mapped[Opportunity] = relationship(back_populates="contact_roles")
    contact: Mapped[Contact] = relationship()

    @property
    def display_name(self) -> str:
        return f"{self.contact.display_name} ({self.role})"


class LineItem(ProductLine, Audited):
    """A product on an opportunity: quantity × unit price less the discount."""

    __tablename__ = "line_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    opportunity: Mapped[Opportunity] = relationship(back_populates="line_items")


class StageHistory(TenantModel):
    """A change of an opportunity's stage, amount or close date (for pipeline
    analysis and forecasts: what the deal looked like on any day)."""

    __tablename__ = "opportunity_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(sa.String(64))
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stage.id"))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    probability: Mapped[int]
    close_date: Mapped[dt.date]
    forecast_category: Mapped[str] = mapped_column(sa.String(20))


#: The sales process every scenario starts with: (code, English, Chinese,
#: probability, forecast category, closed, won).
DEFAULT_STAGES = (
    ("prospecting", "Prospecting", "初步接洽", 10, "pipeline", False, False),
    ("qualification", "Qualification", "需求确认", 20, "pipeline", False, False),
    ("needs_analysis", "Needs Analysis", "需求分析", 25, "pipeline", False, False),
    (
        "value_proposition",
        "Value Proposition",
        "价值主张",
        30,
        "pipeline",
        False,
        False,
    ),
    (
        "decision_makers",
        "Id. Decision Makers",
        "确定决策者",
        40,
        "pipeline",
        False,
        False,
    ),
    (
        "perception_analysis",
        "Perception Analysis",
        "认知分析",
        50,
        "best_case",
        False,
        False,
    ),
    ("proposal", "Proposal/Price Quote", "方案/报价", 65, "best_case", False, False),
    ("negotiation", "Negotiation/Review", "谈判/审核", 80, "commit", False, False),
    ("closed_won", "Closed Won", "赢单", 100, "closed", True, True),
    ("closed_lost", "Closed Lost", "丢单", 0, "omitted", True, False),
)


class Quote(Timestamped, Audited):
    """A quote (报价单) issued from an opportunity: its lines as they were then."""

    __table_args__ = (sa.UniqueConstraint("opportunity_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Opportunity")},
    )
    #: The n in the quote number Q-<opportunity id>-<n>.
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(
        sa.String(40), unique=True, info={"label": _l("Quote number")}
    )
    issued_on: Mapped[dt.date] = mapped_column(info={"label": _l("Quote date")})
    valid_until: Mapped[dt.date] = mapped_column(info={"label": _l("Valid until")})
    #: The lines as quoted: product name and code, quantity, unit price, discount,
    #: line total (amounts as decimal strings), so later edits leave the quote alone.
    lines: Mapped[list] = mapped_column(sa.JSON, default=list)
    total: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Total"), "money": True}
    )

    opportunity: Mapped[Opportunity] = relationship()

    @property
    def display_name(self) -> str:
        return self.number

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.number
