"""The student's company: its colleagues, who own and work on records."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Timestamped


class Colleague(Timestamped, Audited):
    """A member of the scenario's virtual team; the student is one of them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), info={"label": _l("Name")})
    role: Mapped[str] = mapped_column(
        sa.String(40),
        default="sales_rep",
        info={"label": _l("Role"), "codes": "colleague_role"},
    )
    email: Mapped[str | None] = mapped_column(
        sa.String(254), info={"label": _l("Email")}
    )
    #: The colleague the student plays ("me" in "my records").
    is_self: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True, info={"label": _l("Active")})

    def __repr__(self) -> str:
        return f"<Colleague {self.id} {self.name!r}>"


class CodeListVersion(Timestamped, Audited):
    """A code list the company keeps its own version of (its entries are
    ``code_item`` rows); the record its edits are logged against."""

    __tablename__ = "code_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_key: Mapped[str] = mapped_column(
        sa.String(40), unique=True, info={"label": _l("Code list")}
    )

    @property
    def display_name(self) -> str:
        from sandbox.crm.codes import CODE_LISTS

        known = CODE_LISTS.get(self.list_key)
        return str(known.label) if known else self.list_key

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.list_key
