from wtforms import IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, NumberRange, Optional

from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    MoneyField,
    RecordForm,
    label_for,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Account, field)


class AccountForm(RecordForm):
    name = StringField(L("name"), validators=[DataRequired(), Length(max=200)])
    account_type = CodeSelectField(
        L("account_type"), codes="account_type", default="prospect"
    )
    industry = CodeSelectField(
        L("industry"), codes="industry", blank=True, validators=[Optional()]
    )
    owner_id = ColleagueSelectField(L("owner_id"))
    phone = StringField(L("phone"), validators=[Optional(), Length(max=40)])
    email = StringField(L("email"), validators=[Optional(), Email(), Length(max=254)])
    website = StringField(L("website"), validators=[Optional(), URL(), Length(max=200)])
    address = StringField(L("address"), validators=[Optional(), Length(max=300)])
    city = StringField(L("city"), validators=[Optional(), Length(max=100)])
    country = StringField(L("country"), validators=[Optional(), Length(max=100)])
    annual_revenue = MoneyField(L("annual_revenue"))
    employees = IntegerField(
        L("employees"), validators=[Optional(), NumberRange(min=0, max=10**8)]
    )
    description = TextAreaField(
        L("description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))
