"""The simulated mailbox (邮件管理): email templates and the tenant's outbox.

Mail never leaves the machine: a sent message is a row here (and an activity of
kind ``email`` linked to its recipient); simulated replies are rows too.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Timestamped
from sandbox.models.crm.campaigns import Campaign
from sandbox.models.crm.contacts import Contact


class EmailTemplate(Timestamped, Audited):
    """A message with merge fields such as ``{name}`` and ``{company}``."""

    __tablename__ = "email_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), unique=True, info={"label": _l("Template name")}
    )
    subject: Mapped[str] = mapped_column(
        sa.String(300), info={"label": _l("Email subject")}
    )
    body: Mapped[str] = mapped_column(
        sa.Text, info={"label": _l("Message"), "multiline": True}
    )

    def __repr__(self) -> str:
        return f"<EmailTemplate {self.id} {self.name!r}>"


class EmailMessage(Timestamped, Audited):
    """One email in the outbox (``out``) or a simulated reply (``in``)."""

    __tablename__ = "email_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(
        sa.String(3),
        default="out",
        index=True,
        info={"label": _l("Folder"), "codes": "mail_direction"},
    )
    to_name: Mapped[str] = mapped_column(
        sa.String(200), default="", info={"label": _l("Recipient")}
    )
    to_address: Mapped[str] = mapped_column(
        sa.String(254), default="", info={"label": _l("Recipient's address")}
    )
    from_address: Mapped[str] = mapped_column(
        sa.String(254), default="", info={"label": _l("Sender")}
    )
    subject: Mapped[str] = mapped_column(
        sa.String(300), index=True, info={"label": _l("Email subject")}
    )
    body: Mapped[str] = mapped_column(
        sa.Text, default="", info={"label": _l("Message"), "multiline": True}
    )
    sent_at: Mapped[dt.datetime] = mapped_column(
        index=True, info={"label": _l("Sent on")}
    )
    lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lead.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Lead")},
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Contact")},
    )
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Campaign")},
    )
    template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("email_template.id", ondelete="SET NULL"),
        info={"label": _l("Template")},
    )
    #: A reply names the message it answers.
    reply_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("email_message.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("In reply to")},
    )

    lead: Mapped[Lead | None] = relationship()  # noqa: F821
    contact: Mapped[Contact | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    template: Mapped[EmailTemplate | None] = relationship()
    reply_to: Mapped[EmailMessage | None] = relationship(remote_side="EmailMessage.id")

    @property
    def display_name(self) -> str:
        return self.subject or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.subject

    def __repr__(self) -> str:
        return f"<EmailMessage {self.id} {self.direction} {self.subject!r}>"
