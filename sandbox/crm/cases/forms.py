from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from sandbox.crm.cases.service import ESCALATION_LEVELS, TRANSITIONS
from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    RecordForm,
    RecordPickerField,
    label_for,
)
from sandbox.crm.registry import get_module
from sandbox.forms import choices
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.service import Case


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Case, field)


class CaseForm(RecordForm):
    subject = StringField(L("subject"), validators=[DataRequired(), Length(max=200)])
    account_id = RecordPickerField(
        L("account_id"), module="accounts", validators=[DataRequired()]
    )
    contact_id = RecordPickerField(L("contact_id"), module="contacts")
    case_type = CodeSelectField(L("case_type"), codes="case_type", default="question")
    origin = CodeSelectField(L("origin"), codes="case_origin", default="phone")
    priority = CodeSelectField(L("priority"), codes="case_priority", default="p3")
    product_id = RecordPickerField(L("product_id"), module="products")
    queue = CodeSelectField(
        L("queue"), codes="case_queue", blank=True, validators=[Optional()]
    )
    description = TextAreaField(
        L("description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_module("products"):
            # Products are picked only where the product catalogue is installed.
            del self.product_id


def has_module(key: str) -> bool:
    try:
        get_module(key)
    except KeyError:
        return False
    return True


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def _level_choices():
    return choices([("", "—")] + [(str(n), str(n)) for n in ESCALATION_LEVELS])


def _satisfaction_choices():
    return choices(SATISFACTION_CHOICES)


SATISFACTION_CHOICES = [
    ("", "—"),
    ("5", _l("5 – Very satisfied")),
    ("4", _l("4 – Satisfied")),
    ("3", _l("3 – Neutral")),
    ("2", _l("2 – Dissatisfied")),
    ("1", _l("1 – Very dissatisfied")),
]

#: The input each lifecycle field is asked with.
ACTION_FIELDS = {
    "owner_id": lambda: ColleagueSelectField(L("owner_id")),
    "queue": lambda: CodeSelectField(
        L("queue"), codes="case_queue", blank=True, validators=[Optional()]
    ),
    "level": lambda: SelectField(
        L("escalation_level"), choices=_level_choices(), coerce=_optional_int
    ),
    "reason": lambda: TextAreaField(_l("Reason"), validators=[Length(max=2000)]),
    "resolution": lambda: TextAreaField(
        L("resolution"),
        validators=[Length(max=5000)],
        description=_l("Describe the fix, or link the article below."),
    ),
    "article_id": lambda: RecordPickerField(L("article_id"), module="knowledge"),
    "satisfaction": lambda: SelectField(
        L("satisfaction"), choices=_satisfaction_choices(), coerce=_optional_int
    ),
    "comment": lambda: TextAreaField(
        L("callback_comment"), validators=[Length(max=2000)]
    ),
    "analysis": lambda: TextAreaField(L("analysis"), validators=[Length(max=5000)]),
    "target_id": lambda: RecordPickerField(_l("Merge into case"), module="cases"),
}


def action_form(action: str) -> RecordForm:
    """The form of one lifecycle action: its fields, then its button."""
    transition = TRANSITIONS[action]

    class ActionForm(RecordForm):
        pass

    for name in transition.fields:
        setattr(ActionForm, name, ACTION_FIELDS[name]())
    ActionForm.submit = SubmitField(transition.label)
    form = ActionForm()
    for name in transition.required:
        form[name].flags.required = True
    return form
