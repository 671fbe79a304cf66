from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, NumberRange, Optional

from sandbox.crm.forms import RecordForm
from sandbox.crm.labels import ACCOUNT_TYPE_LABELS, FIELD_LABELS, INDUSTRY_LABELS
from sandbox.forms import choices
from sandbox.i18n import lazy_gettext as _l

L = FIELD_LABELS


class AccountForm(RecordForm):
    name = StringField(L["name"], validators=[DataRequired(), Length(max=200)])
    account_type = SelectField(
        L["account_type"],
        choices=choices(ACCOUNT_TYPE_LABELS.items()),
        default="prospect",
    )
    industry = SelectField(
        L["industry"],
        choices=choices([("", _l("— None —")), *INDUSTRY_LABELS.items()]),
        validators=[Optional()],
    )
    phone = StringField(L["phone"], validators=[Optional(), Length(max=40)])
    email = StringField(L["email"], validators=[Optional(), Email(), Length(max=254)])
    website = StringField(L["website"], validators=[Optional(), URL(), Length(max=200)])
    address = StringField(L["address"], validators=[Optional(), Length(max=300)])
    city = StringField(L["city"], validators=[Optional(), Length(max=100)])
    country = StringField(L["country"], validators=[Optional(), Length(max=100)])
    annual_revenue = IntegerField(
        L["annual_revenue"], validators=[Optional(), NumberRange(min=0, max=10**15)]
    )
    employees = IntegerField(
        L["employees"], validators=[Optional(), NumberRange(min=0, max=10**8)]
    )
    owner = StringField(L["owner"], validators=[Optional(), Length(max=100)])
    description = TextAreaField(
        L["description"], validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))
