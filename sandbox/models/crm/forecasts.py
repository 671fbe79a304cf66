"""Sales forecasts (销售预测): quotas per colleague and the forecasts submitted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Money, Timestamped
from sandbox.models.crm.team import Colleague


class Quota(Timestamped, Audited):
    """What a colleague is expected to sell in one month or one quarter."""

    __table_args__ = (sa.UniqueConstraint("colleague_id", "period_kind", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    colleague_id: Mapped[int] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="CASCADE"),
        index=True,
        info={"label": _l("Colleague")},
    )
    #: ``month`` or ``quarter`` (a quarter follows the fiscal year's start).
    period_kind: Mapped[str] = mapped_column(
        sa.String(10), info={"label": _l("Period"), "codes": "forecast_period"}
    )
    start: Mapped[dt.date] = mapped_column(info={"label": _l("Period start")})
    amount: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Quota"), "money": True}
    )

    colleague: Mapped[Colleague] = relationship()

    @property
    def display_name(self) -> str:
        name = self.colleague.name if self.colleague else f"#{self.colleague_id}"
        return f"{name} {self.period_kind} {self.start.isoformat()}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.period_kind + " " + sa.cast(cls.start, sa.String)


class ForecastSubmission(Timestamped, Audited):
    """A forecast as submitted: the figures frozen at that moment, an adjustment
    with its reason, and a comment. Later changes to deals leave it alone."""

    __tablename__ = "forecast_submission"
    __table_args__ = (sa.Index("ix_forecast_period", "period_start", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_kind: Mapped[str] = mapped_column(
        sa.String(10), info={"label": _l("Period"), "codes": "forecast_period"}
    )
    period_start: Mapped[dt.date] = mapped_column(info={"label": _l("Period start")})
    period_end: Mapped[dt.date] = mapped_column(info={"label": _l("Period end")})
    #: How the period is named ("2026-11", "FY2026 Q2"), the same in every language.
    period_label: Mapped[str] = mapped_column(
        sa.String(20), info={"label": _l("Period")}
    )
    #: The colleague forecast for; empty for the whole team.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Forecast for")},
    )
    closed: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Closed"), "money": True}
    )
    commit_amount: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Commit"), "money": True}
    )
    best_case: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Best case"), "money": True}
    )
    pipeline: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Pipeline"), "money": True}
    )
    weighted_pipeline: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Weighted pipeline"), "money": True}
    )
    quota: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Quota"), "money": True}
    )
    adjustment: Mapped[Decimal] = mapped_column(
        Money, default=Decimal("0"), info={"label": _l("Adjustment"), "money": True}
    )
    #: Commit plus the adjustment: the figure the student stands behind.
    forecast: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Submitted forecast"), "money": True}
    )
    reason: Mapped[str | None] = mapped_column(
        sa.String(500), info={"label": _l("Reason for the adjustment")}
    )
    comment: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Comment"), "multiline": True}
    )
    submitted_at: Mapped[dt.datetime] = mapped_column(
        index=True, info={"label": _l("Submitted on")}
    )

    owner: Mapped[Colleague | None] = relationship()
    #: What was actually won in the period (set by the query that lists them).
    outcome: Mapped[Decimal | None] = query_expression()

    @property
    def display_name(self) -> str:
        return f"{self.period_label} #{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.period_label + " #" + sa.cast(cls.id, sa.String)
