"""Products (产品) and their categories (产品类别): what the company sells."""

from sqlalchemy.orm import aliased

from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.products import Product, ProductCategory

bp = module_blueprint("products", __name__)
categories_bp = module_blueprint("product_categories", __name__)
#: A category's parent, as the category list joins it.
PARENT = aliased(ProductCategory)

MODULE = register_module(
    Module(
        key="products",
        label=_l("Products"),
        entity_label=_l("Product"),
        noun=_l("product"),
        icon="box-seam",
        model=Product,
        blueprint=bp,
        group="sales",
        order=70,
        id_arg="product_id",
        search=(Product.code, Product.name, Product.description),
        default_sort="code",
        columns=(
            column(Product.code, kind="link", nowrap=True),
            column(Product.name),
            column(
                Product.category_id,
                key="category",
                kind="ref",
                ref="product_categories",
                sort=ProductCategory.name,
                value=lambda product: product.category,
            ),
            column(Product.unit),
            column(Product.list_price, key="price"),
            column(
                Product.active,
                value=lambda product: (
                    _l("Active") if product.active else _l("Inactive")
                ),
            ),
        ),
    )
)

CATEGORIES = register_module(
    Module(
        key="product_categories",
        label=_l("Product categories"),
        entity_label=_l("Product category"),
        noun=_l("product category"),
        icon="tags",
        model=ProductCategory,
        blueprint=categories_bp,
        on_workbench=False,
        group="sales",
        order=71,
        id_arg="category_id",
        search=(ProductCategory.name,),
        columns=(
            column(ProductCategory.name, kind="link"),
            column(
                ProductCategory.parent_id,
                key="parent",
                kind="ref",
                ref="product_categories",
                sort=PARENT.name,
                value=lambda category: category.parent,
            ),
        ),
    )
)

from sandbox.crm.products import categories, routes  # noqa: E402, F401
