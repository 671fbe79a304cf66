"""Service desk (客户服务): cases (工单) and the history of their states."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import Audited, TenantModel, Timestamped
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.knowledge import Article
from sandbox.models.crm.products import Product
from sandbox.models.crm.team import Colleague


class Case(Timestamped, Audited):
    """A customer's question, fault, request, complaint or suggestion.

    ``response_due_at`` and ``resolution_due_at`` are the SLA deadlines (UTC), and
    ``next_due_at`` the earliest one not yet met; they are recomputed on every
    change of state, so the overdue view is one indexed query.
    """

    __tablename__ = "service_case"
    #: Open cases by their next deadline (the workbench's SLA alarms): a range on
    #: each open status instead of every open case read and sorted.
    __table_args__ = (sa.Index("ix_service_case_status_due", "status", "next_due_at"),)
    #: The SLA clock's own bookkeeping: the timeline tells of the action instead
    #: (put on hold, customer replied) in words, not as these columns' codes.
    __audit_ignore__ = Audited.__audit_ignore__ | {"resume_status", "next_due_at"}

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(
        sa.String(20), unique=True, info={"label": _l("Case number")}
    )
    subject: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Subject")}
    )
    case_type: Mapped[str] = mapped_column(
        sa.String(20),
        default="question",
        info={"label": _l("Case type"), "codes": "case_type"},
    )
    origin: Mapped[str] = mapped_column(
        sa.String(20),
        default="phone",
        info={"label": _l("Origin"), "codes": "case_origin"},
    )
    priority: Mapped[str] = mapped_column(
        sa.String(2),
        default="p3",
        info={"label": _l("Priority"), "codes": "case_priority"},
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="new",
        info={"label": _l("Status"), "codes": "case_status"},
    )
    queue: Mapped[str | None] = mapped_column(
        sa.String(20), info={"label": _l("Queue"), "codes": "case_queue"}
    )
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Account")},
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Contact")},
    )
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product.id", ondelete="SET NULL"),
        info={"label": _l("Product")},
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Handler")},
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )
    #: 0 until escalated; then the level it was escalated to (1 … 3).
    escalation_level: Mapped[int] = mapped_column(
        default=0, info={"label": _l("Escalation level")}
    )
    #: The handler before the first escalation (原处理人).
    escalated_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        info={"label": _l("Original handler")},
    )
    #: The state a suspended case resumes to.
    resume_status: Mapped[str | None] = mapped_column(sa.String(20))
    resolution: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Resolution"), "multiline": True}
    )
    article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("article.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Solution article")},
    )
    satisfaction: Mapped[int | None] = mapped_column(info={"label": _l("Satisfaction")})
    callback_comment: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Callback comment"), "multiline": True}
    )
    analysis: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Analysis"), "multiline": True}
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_case.id", ondelete="SET NULL"),
        info={"label": _l("Merged into")},
    )
    opened_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, info={"label": _l("Opened on")}
    )
    responded_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Responded on")}
    )
    resolved_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Resolved on")}
    )
    closed_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Closed on")}
    )
    response_due_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Response due")}
    )
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Resolution due")}
    )
    next_due_at: Mapped[dt.datetime | None] = mapped_column(
        index=True, info={"label": _l("Due")}
    )

    account: Mapped[Account | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    product: Mapped[Product | None] = relationship()
    owner: Mapped[Colleague | None] = relationship(foreign_keys=[owner_id])
    escalated_from: Mapped[Colleague | None] = relationship(
        foreign_keys=[escalated_from_id]
    )
    article: Mapped[Article | None] = relationship()
    merged_into: Mapped[Case | None] = relationship(remote_side="Case.id")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by="CaseEvent.id",
    )

    @property
    def display_name(self) -> str:
        return f"{self.number} {self.subject}" if self.number else self.subject or ""

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.number + " " + cls.subject

    def __repr__(self) -> str:
        return f"<Case {self.number}>"


class CaseEvent(TenantModel):
    """One action on a case and the state it moved the case from and to.

    The SLA clock reads it for the time spent pending the customer.
    """

    __tablename__ = "service_case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_case.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(30))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    actor: Mapped[str] = mapped_column(sa.String(64), default="system")

    case: Mapped[Case] = relationship(back_populates="events")
