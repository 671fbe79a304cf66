import sqlalchemy as sa
from flask import flash, redirect, render_template
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.display import field_label
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.products import MODULE, bp
from sandbox.crm.products.forms import ProductForm
from sandbox.crm.products.service import (
    DuplicateProductCode,
    category_paths,
    create_product,
    set_active,
    times_used,
    update_product,
)
from sandbox.crm.registry import writes
from sandbox.crm.views import delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.products import Product

ACTIVE_STATE = sa.case((Product.active, "active"), else_="inactive")


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Product)
        .outerjoin(Product.category)
        .options(contains_eager(Product.category))
    )
    listing = module_listing(
        MODULE,
        stmt,
        filters=(
            ListFilter(
                "category",
                Product.category_id,
                field_label(Product, "category_id"),
                choices=lambda: [
                    (str(i), path) for i, path in category_paths(db.session)
                ],
            ),
            ListFilter(
                "active",
                ACTIVE_STATE,
                _l("Status"),
                choices=lambda: [("active", _("Active")), ("inactive", _("Inactive"))],
            ),
        ),
    )
    return render_template(
        "products/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Code, name or description"),
        new_label=_("New product"),
        no_match=_("No products match your search."),
        no_records=_("There are no products yet."),
        first_label=_("Add the first product"),
    )


def _code_taken(form: ProductForm, error: DuplicateProductCode) -> None:
    form.code.errors.append(
        _(
            "The product code “%(code)s” is already used by “%(name)s”.",
            code=error.existing.code,
            name=error.existing.name,
        )
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = create_product(db.session, form.data)
        except DuplicateProductCode as error:
            _code_taken(form, error)
        else:
            flash(
                _("Product “%(name)s” created.", name=product.display_name), "success"
            )
            return redirect(MODULE.record_url(product.id))
    return render_form(MODULE, form)


@bp.route("/<id:product_id>")
@login_required
def detail(product_id: int):
    product = db.get_or_404(Product, product_id)
    return render_template(
        "products/detail.html",
        module=MODULE,
        product=product,
        used=times_used(db.session, product),
        confirm=ConfirmForm(),
        history=timeline(db.session, product),
    )


@bp.route("/<id:product_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            update_product(db.session, product, form.data)
        except DuplicateProductCode as error:
            _code_taken(form, error)
        else:
            flash(_("Product “%(name)s” saved.", name=product.display_name), "success")
            return redirect(MODULE.record_url(product.id))
    return render_form(MODULE, form, product)


@bp.route("/<id:product_id>/deactivate", methods=["POST"])
@login_required
@writes
def deactivate(product_id: int):
    product = db.get_or_404(Product, product_id)
    if ConfirmForm().validate_on_submit():
        set_active(db.session, product, False)
        flash(
            _(
                "Product “%(name)s” deactivated: new deals no longer offer it.",
                name=product.display_name,
            ),
            "success",
        )
    return redirect(MODULE.record_url(product.id))


@bp.route("/<id:product_id>/activate", methods=["POST"])
@login_required
@writes
def activate(product_id: int):
    product = db.get_or_404(Product, product_id)
    if ConfirmForm().validate_on_submit():
        set_active(db.session, product, True)
        flash(
            _("Product “%(name)s” reactivated.", name=product.display_name), "success"
        )
    return redirect(MODULE.record_url(product.id))


@bp.route("/<id:product_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(product_id: int):
    return delete_page(MODULE, db.get_or_404(Product, product_id))
