from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from sandbox.crm.forms import CodeSelectField, RecordForm, RecordPickerField, label_for
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Contact


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Contact, field)


class ContactForm(RecordForm):
    first_name = StringField(L("first_name"), validators=[Optional(), Length(max=80)])
    last_name = StringField(L("last_name"), validators=[DataRequired(), Length(max=80)])
    account_id = RecordPickerField(L("account_id"), module="accounts")
    title = StringField(L("title"), validators=[Optional(), Length(max=120)])
    department = StringField(L("department"), validators=[Optional(), Length(max=120)])
    role = CodeSelectField(
        L("role"), codes="contact_role", blank=True, validators=[Optional()]
    )
    reports_to_id = RecordPickerField(L("reports_to_id"), module="contacts")
    email = StringField(L("email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(L("phone"), validators=[Optional(), Length(max=40)])
    mobile = StringField(L("mobile"), validators=[Optional(), Length(max=40)])
    notes = TextAreaField(L("notes"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))

    # A Chinese name is written family name (姓) first.
    zh_order = ("last_name", "first_name")
