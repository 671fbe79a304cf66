import sqlalchemy as sa
from flask import flash, redirect, render_template
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.listing import module_listing
from sandbox.crm.products import CATEGORIES, PARENT
from sandbox.crm.products import categories_bp as bp
from sandbox.crm.products.forms import CategoryForm
from sandbox.crm.products.service import (
    CategoryLoop,
    DuplicateCategoryName,
    category_paths,
    create_category,
    update_category,
)
from sandbox.crm.registry import writes
from sandbox.crm.views import delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.products import Product, ProductCategory


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(ProductCategory)
        .outerjoin(PARENT, ProductCategory.parent)
        .options(contains_eager(ProductCategory.parent.of_type(PARENT)))
    )
    return render_template(
        "crm/list.html",
        module=CATEGORIES,
        listing=module_listing(CATEGORIES, stmt),
        search_hint=_("Category name"),
        new_label=_("New category"),
        no_match=_("No categories match your search."),
        no_records=_("There are no product categories yet."),
        first_label=_("Add the first category"),
    )


def _category_error(form: CategoryForm, error: Exception) -> None:
    if isinstance(error, DuplicateCategoryName):
        form.name.errors.append(
            _("A category named “%(name)s” already exists.", name=error.existing.name)
        )
    else:
        form.parent_id.errors.append(
            _("A category cannot sit under itself or one of its sub-categories.")
        )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            category = create_category(db.session, form.data)
        except (DuplicateCategoryName, CategoryLoop) as error:
            _category_error(form, error)
        else:
            flash(_("Category “%(name)s” created.", name=category.name), "success")
            return redirect(CATEGORIES.record_url(category.id))
    return render_form(CATEGORIES, form)


@bp.route("/<id:category_id>")
@login_required
def detail(category_id: int):
    category = db.get_or_404(ProductCategory, category_id)
    products = db.session.scalars(
        sa.select(Product)
        .where(Product.category_id == category.id)
        .order_by(Product.code)
    ).all()
    children = db.session.scalars(
        sa.select(ProductCategory)
        .where(ProductCategory.parent_id == category.id)
        .order_by(ProductCategory.name)
    ).all()
    return render_template(
        "products/category_detail.html",
        module=CATEGORIES,
        category=category,
        path=dict(category_paths(db.session))[category.id],
        products=products,
        children=children,
        history=timeline(db.session, category),
    )


@bp.route("/<id:category_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(category_id: int):
    category = db.get_or_404(ProductCategory, category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        try:
            update_category(db.session, category, form.data)
        except (DuplicateCategoryName, CategoryLoop) as error:
            _category_error(form, error)
        else:
            flash(_("Category “%(name)s” saved.", name=category.name), "success")
            return redirect(CATEGORIES.record_url(category.id))
    return render_form(CATEGORIES, form, category)


@bp.route("/<id:category_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(category_id: int):
    return delete_page(CATEGORIES, db.get_or_404(ProductCategory, category_id))
