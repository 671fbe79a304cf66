import sqlalchemy as sa
from wtforms import (
    BooleanField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from sandbox.crm.accounts.service import clean_name, name_problem
from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    MoneyField,
    RecordForm,
    RecordPickerField,
    label_for,
)
from sandbox.extensions import db
from sandbox.forms import Form, IntegerField
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Colleague
from sandbox.text import name_key


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Account, field)


def follows_naming_rules(form: Form, field: StringField) -> None:
    """A new or changed name must follow the naming rules; a name the account had
    before the rules existed may stay as it is."""
    if not field.data:
        return
    name = clean_name(field.data)
    if field.object_data and name_key(name) == name_key(field.object_data):
        return
    problem = name_problem(name)
    if problem is not None:
        raise ValidationError(str(problem))


class AccountForm(RecordForm):
    name = StringField(
        L("name"),
        validators=[DataRequired(), Length(max=200), follows_naming_rules],
    )
    #: Shown only when similar accounts exist: creating one anyway is a choice.
    create_anyway = BooleanField(
        _l("Create it anyway: none of the similar accounts is this company")
    )
    account_type = CodeSelectField(
        L("account_type"), codes="account_type", default="prospect"
    )
    industry = CodeSelectField(
        L("industry"), codes="industry", blank=True, validators=[Optional()]
    )
    owner_id = ColleagueSelectField(L("owner_id"))
    source = CodeSelectField(
        L("source"), codes="account_source", blank=True, validators=[Optional()]
    )
    status = CodeSelectField(
        L("status"), codes="account_status", blank=True, validators=[Optional()]
    )
    intention = CodeSelectField(
        L("intention"), codes="account_intention", blank=True, validators=[Optional()]
    )
    rating = CodeSelectField(
        L("rating"), codes="account_rating", blank=True, validators=[Optional()]
    )
    parent_id = RecordPickerField(L("parent_id"), module="accounts")
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


class ColleagueMultiSelectField(SelectMultipleField):
    """Several colleagues at once, as checkboxes (the active ones, and any already
    chosen)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("coerce", int)
        super().__init__(label, validators, **kw)

    def load_choices(self) -> None:
        chosen = set(self.object_data or ())
        rows = db.session.execute(
            sa.select(Colleague.id, Colleague.name, Colleague.active).order_by(
                Colleague.name
            )
        ).all()
        self.choices = [(i, n) for i, n, active in rows if active or i in chosen]

    def pre_validate(self, form):
        values = dict(self.choices)
        for value in self.data or ():
            if value not in values:
                raise ValidationError(_("Choose colleagues from the list."))


class ShareForm(RecordForm):
    owner_id = ColleagueSelectField(L("owner_id"))
    co_owner_ids = ColleagueMultiSelectField(
        _l("Co-owners"),
        description=_l("Colleagues who share this account with its owner."),
    )
    submit = SubmitField(_l("Save"))

    def validate_co_owner_ids(self, field):
        if self.owner_id.data is not None and self.owner_id.data in (field.data or ()):
            raise ValidationError(_("The owner cannot also be a co-owner."))


class RelationForm(RecordForm):
    related_id = RecordPickerField(
        _l("Related account"), validators=[DataRequired()], module="accounts"
    )
    relation = CodeSelectField(
        _l("Relationship"), codes="account_relation", default="serves"
    )
    submit = SubmitField(_l("Add"))


class RejectForm(RecordForm):
    note = TextAreaField(
        _l("Why is it rejected?"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Reject"))


class DeactivateForm(RecordForm):
    reason = TextAreaField(
        _l("Why is it inactive?"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Mark inactive"))


class RenameForm(RecordForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=200)])
    reason = TextAreaField(
        _l("Why is it renamed?"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("For example: the company changed its registered name."),
    )
    submit = SubmitField(_l("Rename"))


class ActionForm(Form):
    """A button that performs one action (the CSRF token is all it sends)."""
