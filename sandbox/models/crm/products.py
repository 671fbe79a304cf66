"""Products (产品) and their categories (产品类别)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Audited, Money, Timestamped


class ProductCategory(Timestamped, Audited):
    __tablename__ = "product_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(100), unique=True, info={"label": _l("Category name")}
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_category.id", ondelete="SET NULL"),
        info={"label": _l("Parent category")},
    )

    parent: Mapped[ProductCategory | None] = relationship(
        remote_side="ProductCategory.id"
    )


class Product(Timestamped, Audited):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(
        sa.String(40), unique=True, info={"label": _l("Product code")}
    )
    name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info={"label": _l("Product name")}
    )
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_category.id", ondelete="SET NULL"),
        index=True,
        info={"label": _l("Category")},
    )
    unit: Mapped[str] = mapped_column(
        sa.String(20),
        default="each",
        info={"label": _l("Unit"), "codes": "product_unit"},
    )
    list_price: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("List price"), "money": True}
    )
    cost: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": _l("Cost"), "money": True}
    )
    active: Mapped[bool] = mapped_column(default=True, info={"label": _l("Active")})
    description: Mapped[str | None] = mapped_column(
        sa.Text, info={"label": _l("Description"), "multiline": True}
    )

    category: Mapped[ProductCategory | None] = relationship()

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.code})"

    @classmethod
    def display_expression(cls) -> sa.ColumnElement:
        return cls.name + " (" + cls.code + ")"

    def __repr__(self) -> str:
        return f"<Product {self.code}>"
