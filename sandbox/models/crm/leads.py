"""Leads: people and companies that may become customers (线索)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import Audited, Timestamped
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.team import Colleague


class Lead(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(120), index=True, info={"label": _l("Lead name")}
    )
    company: Mapped[str | None] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Company")}
    )
    title: Mapped[str | None] = mapped_column(
        sa.String(120), info={"label": _l("Job title")}
    )
    email: Mapped[str | None] = mapped_column(
        sa.String(254), index=True, info={"label": _l("Email")}
    )
    phone: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Phone")}
    )
    source: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Lead source"), "codes": "lead_source"}
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="new",
        index=True,
        info={"label": _l("Lead status"), "codes": "lead_status"},
    )
    rating: Mapped[str | None] = mapped_column(
        sa.String(10), info={"label": _l("Rating"), "codes": "lead_rating"}
    )
    unqualified_reason: Mapped[str | None] = mapped_column(
        sa.String(40),
        info={"label": _l("Reason unqualified"), "codes": "unqualified_reason"},
    )
    industry: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Industry"), "codes": "industry"}
    )
    city: Mapped[str | None] = mapped_column(sa.String(100), info={"label": _l("City")})
    #: The campaign that brought the lead in; it credits the campaign.
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Campaign")},
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Owner")},
    )
    notes: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Notes"), "multiline": True}
    )
    # What conversion produced; set together when the lead is converted.
    converted_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Converted on")}
    )
    converted_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL"),
        info={"label": _l("Converted to account")},
    )
    converted_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        info={"label": _l("Converted to contact")},
    )
    converted_opportunity_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("opportunity.id", ondelete="SET NULL"),
        info={"label": _l("Converted to opportunity")},
    )

    owner: Mapped[Colleague | None] = relationship()
    converted_account: Mapped[Account | None] = relationship()
    converted_contact: Mapped[Contact | None] = relationship()
    converted_opportunity: Mapped[Opportunity | None] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<Lead {self.id} {self.name!r}>"
