from wtforms import (
    DateField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    MoneyField,
    RecordForm,
    RecordPickerField,
    label_for,
)
from sandbox.forms import Form, IntegerField
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.routing import record_ids


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Campaign, field)


class CampaignForm(RecordForm):
    name = StringField(L("name"), validators=[DataRequired(), Length(max=200)])
    campaign_type = CodeSelectField(
        L("campaign_type"), codes="campaign_type", blank=True, validators=[Optional()]
    )
    status = CodeSelectField(L("status"), codes="campaign_status", default="planning")
    start_date = DateField(L("start_date"), validators=[Optional()])
    end_date = DateField(L("end_date"), validators=[Optional()])
    owner_id = ColleagueSelectField(L("owner_id"))
    budget = MoneyField(L("budget"))
    expected_cost = MoneyField(L("expected_cost"))
    actual_cost = MoneyField(L("actual_cost"))
    expected_revenue = MoneyField(L("expected_revenue"))
    expected_responses = IntegerField(
        L("expected_responses"), validators=[Optional(), NumberRange(min=0, max=10**9)]
    )
    description = TextAreaField(
        L("description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))


class AddMemberForm(RecordForm):
    """Add one lead or one contact, chosen by searching its name."""

    lead_id = RecordPickerField(label_for(CampaignMember, "lead_id"), module="leads")
    contact_id = RecordPickerField(
        label_for(CampaignMember, "contact_id"), module="contacts"
    )
    submit = SubmitField(_l("Add member"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.lead_id.data is None and self.contact_id.data is None:
            self.lead_id.errors.append(_l("Choose a lead or a contact to add."))
            return False
        return True


class IdsField(SelectMultipleField):
    """Record ids ticked in a list (any number; the service checks they exist)."""

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("coerce", int)
        kw.setdefault("validate_choice", False)
        super().__init__(label, validators, **kw)

    def process_formdata(self, valuelist):
        self.data = record_ids(valuelist)


class BulkAddForm(Form):
    ids = IdsField()
    submit = SubmitField(_l("Add the ticked records"))


class MarkMembersForm(Form):
    member_ids = IdsField()
    status = CodeSelectField(_l("New status"), codes="member_status")
    on = DateField(_l("On"), validators=[Optional()])
    submit = SubmitField(_l("Change status"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.load_choices()


class ActionForm(Form):
    """A button that performs one action (the CSRF token is all it sends)."""
