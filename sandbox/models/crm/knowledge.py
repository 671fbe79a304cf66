"""Knowledge base (解决方案): articles that say how a problem is solved."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Timestamped
from sandbox.models.crm.team import Colleague


class Article(Timestamped, Audited):
    """A solution article: Draft → In review → Published → Archived."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Title")}
    )
    category: Mapped[str | None] = mapped_column(
        sa.String(40), info={"label": _l("Category"), "codes": "article_category"}
    )
    keywords: Mapped[str | None] = mapped_column(
        sa.String(300), info={"label": _l("Keywords")}
    )
    body: Mapped[str] = mapped_column(
        sa.Text, default="", info={"label": _l("Solution"), "multiline": True}
    )
    status: Mapped[str] = mapped_column(
        sa.String(20),
        default="draft",
        index=True,
        info={"label": _l("Status"), "codes": "article_status"},
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("colleague.id", ondelete="SET NULL"),
        info={"label": _l("Author")},
    )
    published_at: Mapped[dt.datetime | None] = mapped_column(
        info={"label": _l("Published on")}
    )

    owner: Mapped[Colleague | None] = relationship()

    @property
    def display_name(self) -> str:
        return self.title or f"#{self.id}"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.title

    def __repr__(self) -> str:
        return f"<Article {self.id} {self.title!r}>"
