"""Product rules: unique codes, categories without loops, active products only in
new deals, and deactivating instead of deleting what deals still use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.service import apply_changes, commit, same_name, save_with_unique_name
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.products import Product, ProductCategory
from sandbox.models.crm.sales import LineItem

FIELDS = (
    "code",
    "name",
    "category_id",
    "unit",
    "list_price",
    "cost",
    "description",
)
CATEGORY_FIELDS = ("name", "parent_id")

define_action("deactivate", _l("Deactivated %(entity)s %(record)s"))
define_action("activate", _l("Reactivated %(entity)s %(record)s"))


class DuplicateProductCode(ValueError):
    """Another product already has this code."""

    def __init__(self, existing: Product) -> None:
        super().__init__(f"the product code {existing.code!r} is taken")
        self.existing = existing


class DuplicateCategoryName(ValueError):
    def __init__(self, existing: ProductCategory) -> None:
        super().__init__(f"a category named {existing.name!r} already exists")
        self.existing = existing


class CategoryLoop(ValueError):
    """The chosen parent is the category itself or one of its sub-categories."""


class InactiveProduct(ValueError):
    """An inactive product cannot be added to a deal."""

    def __init__(self, product: Product) -> None:
        super().__init__(f"{product.code} is inactive")
        self.product = product


def active_products() -> sa.Select:
    """Products a new deal line may use: the active ones, by name."""
    return sa.select(Product).where(Product.active).order_by(Product.name, Product.id)


def ensure_can_add(product: Product) -> Product:
    """:raise InactiveProduct: the product is inactive (not offered to new deals)."""
    if not product.active:
        raise InactiveProduct(product)
    return product


def normalize_code(code: str) -> str:
    return code.strip().upper()


def find_code(
    session: Session, code: str, exclude_id: int | None = None
) -> Product | None:
    stmt = sa.select(Product).where(sa.func.upper(Product.code) == normalize_code(code))
    if exclude_id is not None:
        stmt = stmt.where(Product.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def _save(session: Session, product: Product) -> Product:
    product.code = normalize_code(product.code)
    with session.no_autoflush:
        same = find_code(session, product.code, product.id)
    if same is not None:
        session.rollback()
        raise DuplicateProductCode(same)
    session.add(product)
    try:
        commit(session)
    except IntegrityError:
        same = find_code(session, product.code)
        if same is None:
            raise
        raise DuplicateProductCode(same) from None
    return product


def create_product(session: Session, data: dict[str, Any]) -> Product:
    """:raise DuplicateProductCode: the code is taken (nothing is written)."""
    product = Product(active=True)
    apply_changes(product, data, FIELDS)
    return _save(session, product)


def update_product(session: Session, product: Product, data: dict[str, Any]) -> Product:
    """:raise DuplicateProductCode: the new code is taken (nothing is written)."""
    apply_changes(product, data, FIELDS)
    return _save(session, product)


def set_active(session: Session, product: Product, active: bool) -> Product:
    """Deactivate (no longer offered to new deals) or reactivate a product."""
    if product.active == active:
        return product
    product.active = active
    record_action(product, "activate" if active else "deactivate")
    commit(session)
    return product


def times_used(session: Session, product: Product) -> int:
    """How many deal lines use the product (they keep it; it cannot be deleted)."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(LineItem)
        .where(LineItem.product_id == product.id)
    )


# ----------------------------------------------------------------- categories


def find_category_name(
    session: Session, name: str, exclude_id: int | None = None
) -> ProductCategory | None:
    stmt = sa.select(ProductCategory).where(same_name(ProductCategory.name, name))
    if exclude_id is not None:
        stmt = stmt.where(ProductCategory.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def ancestors(session: Session, category_id: int | None) -> list[int]:
    """The ids from ``category_id`` up to its root (stops at a loop)."""
    seen: list[int] = []
    while category_id is not None and category_id not in seen:
        seen.append(category_id)
        category_id = session.scalar(
            sa.select(ProductCategory.parent_id).where(
                ProductCategory.id == category_id
            )
        )
    return seen


def _save_category(session: Session, category: ProductCategory) -> ProductCategory:
    with session.no_autoflush:
        loop = category.id is not None and category.id in ancestors(
            session, category.parent_id
        )
    if loop:
        session.rollback()
        raise CategoryLoop("a category cannot sit under itself")
    return save_with_unique_name(
        session, category, find_category_name, DuplicateCategoryName
    )


def create_category(session: Session, data: dict[str, Any]) -> ProductCategory:
    category = ProductCategory()
    apply_changes(category, data, CATEGORY_FIELDS)
    return _save_category(session, category)


def update_category(
    session: Session, category: ProductCategory, data: dict[str, Any]
) -> ProductCategory:
    """:raise CategoryLoop: the parent is the category or one below it."""
    apply_changes(category, data, CATEGORY_FIELDS)
    return _save_category(session, category)


def category_paths(session: Session) -> list[tuple[int, str]]:
    """Every category as ``(id, "Parent › Child")``, sorted by that path."""
    rows = session.execute(
        sa.select(ProductCategory.id, ProductCategory.name, ProductCategory.parent_id)
    ).all()
    by_id = {i: (name, parent) for i, name, parent in rows}

    def path(category_id: int) -> str:
        names, seen, current = [], set(), category_id
        while current in by_id and current not in seen:
            seen.add(current)
            name, current = by_id[current]
            names.append(name)
        return " › ".join(reversed(names))

    return sorted(((i, path(i)) for i in by_id), key=lambda pair: pair[1].lower())
