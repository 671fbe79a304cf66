"""Contacts: the people at accounts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import Audited, Timestamped


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class Contact(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Account")},
    )
    first_name: Mapped[str | None] = mapped_column(
        sa.String(80), info={"label": _l("First name")}
    )
    last_name: Mapped[str] = mapped_column(
        sa.String(80), index=True, info={"label": _l("Last name")}
    )
    title: Mapped[str | None] = mapped_column(
        sa.String(120), info={"label": _l("Job title")}
    )
    department: Mapped[str | None] = mapped_column(
        sa.String(120), info={"label": _l("Department")}
    )
    email: Mapped[str | None] = mapped_column(
        sa.String(254), info={"label": _l("Email")}
    )
    phone: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Phone")}
    )
    mobile: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Mobile")}
    )
    notes: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Notes"), "multiline": True}
    )
    role: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Role"), "codes": "contact_role"}
    )
    reports_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        info={"label": _l("Reports to")},
    )

    account: Mapped[Account | None] = relationship(back_populates="contacts")
    reports_to: Mapped[Contact | None] = relationship(remote_side="Contact.id")

    @property
    def full_name(self) -> str:
        first, last = self.first_name or "", self.last_name or ""
        # Chinese names read family name first, with no space.
        if _is_chinese(last + first):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    @property
    def display_name(self) -> str:
        return self.full_name

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        first = sa.func.coalesce(cls.first_name, "")
        chinese = sa.func.unicode(cls.last_name).between(0x4E00, 0x9FFF)
        return sa.case(
            (chinese, cls.last_name + first),
            else_=sa.func.trim(first + " " + cls.last_name),
        )

    @classmethod
    def name_search_expressions(cls) -> tuple[sa.ColumnElement, ...]:
        """Full names in every order people type them: 王小明, "Ann Lee", "Lee Ann"."""
        first = sa.func.coalesce(cls.first_name, "")
        return (
            cls.last_name + first,
            first + " " + cls.last_name,
            cls.last_name + " " + first,
        )

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.full_name!r}>"
