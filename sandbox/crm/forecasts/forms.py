import unicodedata
from decimal import Decimal, InvalidOperation

from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from sandbox.crm.forms import MoneyField, RecordForm
from sandbox.forms import Form
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l

MAXIMUM = Decimal(10**13)


def parse_amount(text: str | None, *, signed: bool = False) -> Decimal | None:
    """An amount typed by a person (commas, full-width digits and spaces allowed),
    with at most two decimals; None when empty.

    :raise ValueError: not such an amount (the message says what is expected).
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace(",", "").replace(" ", "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    low = -MAXIMUM if signed else Decimal(0)
    if (
        amount is None
        or not amount.is_finite()
        or amount.as_tuple().exponent < -2
        or not (low < amount < MAXIMUM if signed else low <= amount < MAXIMUM)
    ):
        if signed:
            raise ValueError(
                _(
                    "Enter an amount with at most two decimals, such as -1500 or "
                    "2000.50."
                )
            )
        raise ValueError(
            _(
                "Enter an amount of at least 0 with at most two decimals, such as "
                "1234.50."
            )
        )
    return amount.quantize(Decimal("0.01"))


class SignedMoneyField(MoneyField):
    """An amount that may be negative (a forecast adjustment goes either way)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rendered like any amount: right-aligned, with the currency beside it.
        self.type = "MoneyField"

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.data = None
        self.data = parse_amount(valuelist[0] if valuelist else "", signed=True)


class SubmitForecastForm(RecordForm):
    adjustment = SignedMoneyField(
        _l("Adjustment"),
        description=_l(
            "Added to Commit to give the forecast you stand behind; negative to "
            "lower it."
        ),
    )
    reason = StringField(
        _l("Reason for the adjustment"),
        validators=[Optional(), Length(max=500)],
        description=_l("Required when the adjustment is not 0."),
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Submit forecast"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.adjustment.data and not self.reason.data:
            self.reason.errors.append(
                _("Say why you adjust the forecast (required when it is not 0).")
            )
            return False
        return valid


class QuotaForm(Form):
    """The quota grid; its cells are read from the request by the view."""

    submit = SubmitField(_l("Save quotas"))
