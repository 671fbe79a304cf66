from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from sandbox.crm.forms import RecordForm
from sandbox.crm.labels import FIELD_LABELS
from sandbox.forms import choices
from sandbox.i18n import lazy_gettext as _l

L = FIELD_LABELS


def _account_id(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class ContactForm(RecordForm):
    first_name = StringField(L["first_name"], validators=[Optional(), Length(max=80)])
    last_name = StringField(L["last_name"], validators=[DataRequired(), Length(max=80)])
    account_id = SelectField(
        L["account_id"],
        coerce=_account_id,
        validators=[Optional()],
        validate_choice=True,
    )
    title = StringField(L["title"], validators=[Optional(), Length(max=120)])
    department = StringField(L["department"], validators=[Optional(), Length(max=120)])
    email = StringField(L["email"], validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(L["phone"], validators=[Optional(), Length(max=40)])
    mobile = StringField(L["mobile"], validators=[Optional(), Length(max=40)])
    notes = TextAreaField(L["notes"], validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))

    def set_account_choices(self, accounts):
        self.account_id.choices = choices(
            [("", _l("— No account —")), *((str(a.id), a.name) for a in accounts)]
        )
