from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    MoneyField,
    RecordForm,
    RecordPickerField,
    label_for,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.contracts import Contract


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Contract, field)


class ContractForm(RecordForm):
    title = StringField(L("title"), validators=[DataRequired(), Length(max=200)])
    account_id = RecordPickerField(
        L("account_id"), validators=[DataRequired()], module="accounts"
    )
    contact_id = RecordPickerField(L("contact_id"), module="contacts")
    owner_id = ColleagueSelectField(L("owner_id"))
    signed_on = DateField(L("signed_on"), validators=[Optional()])
    start_date = DateField(L("start_date"), validators=[InputRequired()])
    end_date = DateField(L("end_date"), validators=[InputRequired()])
    amount = MoneyField(
        L("amount"), description=_l("With product lines, the amount is their sum.")
    )
    payment_terms = CodeSelectField(
        L("payment_terms"), codes="payment_terms", blank=True, validators=[Optional()]
    )
    description = TextAreaField(
        L("description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))


class SubmitForm(RecordForm):
    justification = TextAreaField(
        L("justification"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "Required when a discount is above the limit approved at once: say why "
            "the customer should have it."
        ),
    )
    submit = SubmitField(_l("Submit for approval"))


class TerminateForm(RecordForm):
    reason = TextAreaField(
        L("termination_reason"), validators=[DataRequired(), Length(max=2000)]
    )
    submit = SubmitField(_l("Terminate"))


#: The form each lifecycle action with input asks with.
ACTION_FORMS = {"submit": SubmitForm, "terminate": TerminateForm}
