from flask import request
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from sandbox.crm.forms import CodeSelectField, RecordForm, label_for
from sandbox.crm.settings.service import LOST, OPEN, WON, CodeRow
from sandbox.forms import Form, IntegerField, choices
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.sales import Stage
from sandbox.models.crm.team import Colleague


class CodeListForm(Form):
    """The code-list editor's rows are read from the request (see
    :func:`posted_rows`); this form carries the CSRF token."""


def posted_rows() -> tuple[list[CodeRow], str]:
    """The editor's rows as posted, in order, the new entry last if typed, and the
    button pressed (``save``, ``up-<n>`` or ``down-<n>``)."""
    form = request.form
    rows = []
    index = 0
    while f"rows-{index}-code" in form and index < 500:
        prefix = f"rows-{index}-"
        rows.append(
            CodeRow(
                code=form.get(prefix + "code", "").strip(),
                en=form.get(prefix + "en", ""),
                zh=form.get(prefix + "zh", ""),
                color=form.get(prefix + "color") or None,
                active=bool(form.get(prefix + "active")),
                remove=bool(form.get(prefix + "remove")),
            )
        )
        index += 1
    code = form.get("new-code", "").strip()
    if code or form.get("new-en", "").strip() or form.get("new-zh", "").strip():
        rows.append(
            CodeRow(
                code=code,
                en=form.get("new-en", ""),
                zh=form.get("new-zh", ""),
                color=form.get("new-color") or None,
                active=True,
                new=True,
            )
        )
    return rows, form.get("action", "save")


KIND_CHOICES = [
    (OPEN, _l("Open")),
    (WON, _l("Closed won")),
    (LOST, _l("Closed lost")),
]


class StageForm(RecordForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("A stable key lessons and reports use, such as “demo”."),
    )
    name = StringField(
        label_for(Stage, "name"), validators=[DataRequired(), Length(max=80)]
    )
    name_zh = StringField(
        label_for(Stage, "name_zh"), validators=[DataRequired(), Length(max=80)]
    )
    probability = IntegerField(
        label_for(Stage, "probability"),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    forecast_category = CodeSelectField(
        label_for(Stage, "forecast_category"), codes="forecast_category"
    )
    kind = SelectField(_l("Kind of stage"), choices=choices(KIND_CHOICES), default=OPEN)
    submit = SubmitField(_l("Save"))


class StageEditForm(StageForm):
    """Editing keeps the stage's code (lessons and checks refer to it)."""

    code = None


class ColleagueForm(RecordForm):
    name = StringField(
        label_for(Colleague, "name"), validators=[DataRequired(), Length(max=100)]
    )
    role = CodeSelectField(
        label_for(Colleague, "role"), codes="colleague_role", default="sales_rep"
    )
    email = StringField(
        label_for(Colleague, "email"), validators=[Optional(), Email(), Length(max=254)]
    )
    submit = SubmitField(_l("Save"))
