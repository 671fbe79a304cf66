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
from sandbox.models.crm.orders import Invoice, Payment, SalesOrder


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(SalesOrder, field)


class OrderForm(RecordForm):
    contract_id = RecordPickerField(
        L("contract_id"),
        module="contracts",
        description=_l("An active contract, or leave empty and choose a won deal."),
    )
    opportunity_id = RecordPickerField(
        L("opportunity_id"),
        module="opportunities",
        description=_l("A won opportunity, when the order has no contract."),
    )
    owner_id = ColleagueSelectField(L("owner_id"))
    order_date = DateField(L("order_date"), validators=[InputRequired()])
    delivery_date = DateField(L("delivery_date"), validators=[InputRequired()])
    amount = MoneyField(
        L("amount"), description=_l("With product lines, the amount is their sum.")
    )
    description = TextAreaField(
        L("description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))


class InvoiceForm(RecordForm):
    amount = MoneyField(label_for(Invoice, "amount"), validators=[InputRequired()])
    issued_on = DateField(label_for(Invoice, "issued_on"), validators=[InputRequired()])
    due_on = DateField(label_for(Invoice, "due_on"), validators=[InputRequired()])
    submit = SubmitField(_l("Issue invoice"))


class PaymentForm(RecordForm):
    amount = MoneyField(label_for(Payment, "amount"), validators=[InputRequired()])
    received_on = DateField(
        label_for(Payment, "received_on"), validators=[InputRequired()]
    )
    method = CodeSelectField(
        label_for(Payment, "method"),
        codes="payment_method",
        blank=True,
        validators=[Optional()],
    )
    reference = StringField(
        label_for(Payment, "reference"), validators=[Optional(), Length(max=100)]
    )
    submit = SubmitField(_l("Record payment"))


class CancelForm(RecordForm):
    reason = TextAreaField(
        L("cancel_reason"), validators=[DataRequired(), Length(max=2000)]
    )
    submit = SubmitField(_l("Cancel order"))
