"""The columns every product line has, on opportunities, contracts and orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.base import Money

if TYPE_CHECKING:
    from sandbox.models.crm.products import Product


#: What a line copied to another document takes over (all but its id and document).
LINE_FIELDS = ("product_id", "position", "quantity", "unit_price", "discount", "total")


class ProductLine:
    """A product on a document: quantity × unit price less the discount.

    The line model adds its ``id``, the column holding the document's id and the
    relationship back to the document; the figures' columns come from here.
    """

    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="RESTRICT"),
        index=True,
        info={"label": _l("Product")},
    )
    position: Mapped[int] = mapped_column(default=0)
    #: Exact to two decimals (Money's storage), so "2.5 tonnes" works.
    quantity: Mapped[Decimal] = mapped_column(Money, info={"label": _l("Quantity")})
    unit_price: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Unit price"), "money": True}
    )
    #: Percent off the line, 0–100.
    discount: Mapped[Decimal] = mapped_column(
        Money, default=Decimal("0"), info={"label": _l("Discount (%)")}
    )
    total: Mapped[Decimal] = mapped_column(
        Money, info={"label": _l("Line total"), "money": True}
    )

    @declared_attr
    def product(cls) -> Mapped[Product]:
        return relationship("Product")

    @classmethod
    def copied_from(cls, line: ProductLine) -> ProductLine:
        """A new line of this kind with the product and figures of ``line`` (a line
        of another document: a deal's for a contract, a contract's for an order)."""
        return cls(**{name: getattr(line, name) for name in LINE_FIELDS})

    @property
    def display_name(self) -> str:
        return self.product.display_name if self.product else f"#{self.id}"
