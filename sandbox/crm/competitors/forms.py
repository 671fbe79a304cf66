from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional

from sandbox.crm.forms import RecordForm, label_for
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.competitors import Competitor


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Competitor, field)


def _text(field: str) -> TextAreaField:
    return TextAreaField(L(field), validators=[Optional(), Length(max=5000)])


class CompetitorForm(RecordForm):
    name = StringField(L("name"), validators=[DataRequired(), Length(max=200)])
    website = StringField(L("website"), validators=[Optional(), URL(), Length(max=200)])
    strengths = _text("strengths")
    weaknesses = _text("weaknesses")
    products = _text("products")
    pricing = _text("pricing")
    submit = SubmitField(_l("Save"))
