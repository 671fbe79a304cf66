from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from sandbox.crm.forms import (
    NONE_CHOICE,
    CodeSelectField,
    MoneyField,
    RecordForm,
    label_for,
)
from sandbox.extensions import db
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.products import Product, ProductCategory


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class CategorySelectField(SelectField):
    """A select of the product categories, shown with their parents."""

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("coerce", _optional_int)
        super().__init__(label, validators, **kw)

    def load_choices(self) -> None:
        from sandbox.crm.products.service import category_paths

        self.choices = [("", str(NONE_CHOICE))] + [
            (str(i), path) for i, path in category_paths(db.session)
        ]

    def pre_validate(self, form):
        if self.data is None:
            return
        super().pre_validate(form)


class ProductForm(RecordForm):
    code = StringField(
        label_for(Product, "code"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                message=_l(
                    "Use letters, digits, dots, dashes and underscores, "
                    "starting with a letter or digit."
                ),
            ),
        ],
    )
    name = StringField(
        label_for(Product, "name"), validators=[DataRequired(), Length(max=200)]
    )
    category_id = CategorySelectField(label_for(Product, "category_id"))
    unit = CodeSelectField(label_for(Product, "unit"), codes="product_unit")
    list_price = MoneyField(
        label_for(Product, "list_price"), validators=[InputRequired()]
    )
    cost = MoneyField(label_for(Product, "cost"))
    description = TextAreaField(
        label_for(Product, "description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))


class CategoryForm(RecordForm):
    name = StringField(
        label_for(ProductCategory, "name"),
        validators=[DataRequired(), Length(max=100)],
    )
    parent_id = CategorySelectField(label_for(ProductCategory, "parent_id"))
    submit = SubmitField(_l("Save"))
