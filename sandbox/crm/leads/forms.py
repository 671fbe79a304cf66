from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    MoneyField,
    RecordForm,
    RecordPickerField,
    label_for,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Contact
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Lead, field)


class LeadStatusField(CodeSelectField):
    """The lead statuses a person may set; "converted" comes only from converting."""

    def load_choices(self) -> None:
        super().load_choices()
        self.choices = [(c, label) for c, label in self.choices if c != "converted"]


class LeadForm(RecordForm):
    name = StringField(L("name"), validators=[DataRequired(), Length(max=120)])
    company = StringField(L("company"), validators=[Optional(), Length(max=200)])
    title = StringField(L("title"), validators=[Optional(), Length(max=120)])
    email = StringField(L("email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(L("phone"), validators=[Optional(), Length(max=40)])
    source = CodeSelectField(
        L("source"), codes="lead_source", blank=True, validators=[Optional()]
    )
    status = LeadStatusField(L("status"), codes="lead_status", default="new")
    unqualified_reason = CodeSelectField(
        L("unqualified_reason"),
        codes="unqualified_reason",
        blank=True,
        validators=[Optional()],
        description=_l("Required when the status is Unqualified."),
    )
    rating = CodeSelectField(
        L("rating"), codes="lead_rating", blank=True, validators=[Optional()]
    )
    industry = CodeSelectField(
        L("industry"), codes="industry", blank=True, validators=[Optional()]
    )
    city = StringField(L("city"), validators=[Optional(), Length(max=100)])
    campaign_id = RecordPickerField(L("campaign_id"), module="campaigns")
    owner_id = ColleagueSelectField(L("owner_id"))
    notes = TextAreaField(L("notes"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))


class UnqualifyForm(RecordForm):
    unqualified_reason = CodeSelectField(
        L("unqualified_reason"), codes="unqualified_reason", blank=True
    )
    submit = SubmitField(_l("Mark unqualified"))


class AssignForm(RecordForm):
    owner_id = ColleagueSelectField(_l("Assign to"), blank=False)
    submit = SubmitField(_l("Assign"))


class ConvertForm(RecordForm):
    """The conversion page: account, contact, optional opportunity, owner.

    ``account_choice`` is ``new``, ``existing`` (the picker) or the id of one of the
    similar accounts the page suggests; the view sets its choices.
    """

    account_choice = RadioField(_l("Account"), validate_choice=False, default="new")
    account_id = RecordPickerField(_l("Existing account"), module="accounts")
    account_name = StringField(
        _l("New account name"), validators=[Optional(), Length(max=200)]
    )
    create_anyway = BooleanField(_l("Create a new account anyway"))
    contact_choice = RadioField(_l("Contact"), default="new")
    contact_id = RecordPickerField(_l("Existing contact"), module="contacts")
    last_name = StringField(
        label_for(Contact, "last_name"), validators=[Optional(), Length(max=80)]
    )
    first_name = StringField(
        label_for(Contact, "first_name"), validators=[Optional(), Length(max=80)]
    )
    create_opportunity = BooleanField(_l("Create an opportunity"), default=True)
    opportunity_name = StringField(
        label_for(Opportunity, "name"), validators=[Optional(), Length(max=200)]
    )
    amount = MoneyField(label_for(Opportunity, "amount"))
    close_date = DateField(
        label_for(Opportunity, "close_date"), validators=[Optional()]
    )
    stage_id = SelectField(
        label_for(Opportunity, "stage_id"), coerce=int, validate_choice=False
    )
    owner_id = ColleagueSelectField(_l("Record owner"))
    submit = SubmitField(_l("Convert"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not in the field: newer WTForms warns about tuple choices there.
        self.contact_choice.choices = [
            ("new", _l("Create a new contact")),
            ("existing", _l("Use an existing contact")),
        ]
