"""Forms of the instructor pages."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from sandbox.auth.service import PASSWORD_MIN_LENGTH
from sandbox.forms import Form, choices
from sandbox.i18n import lazy_gettext as _l

MONTHS = (
    _l("January"),
    _l("February"),
    _l("March"),
    _l("April"),
    _l("May"),
    _l("June"),
    _l("July"),
    _l("August"),
    _l("September"),
    _l("October"),
    _l("November"),
    _l("December"),
)


class CourseForm(Form):
    name = StringField(_l("Course name"), validators=[DataRequired(), Length(max=120)])
    code = StringField(
        _l("Course code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Unique, for example CRM101-2026A."),
    )
    scenario = SelectField(_l("Scenario"), validators=[DataRequired()])
    timezone = StringField(
        _l("Time zone"),
        validators=[Optional(), Length(max=64)],
        description=_l(
            "An IANA time zone such as Asia/Shanghai; empty takes the scenario's."
        ),
    )
    fiscal_year_start = SelectField(
        _l("Fiscal year starts in"),
        coerce=int,
        choices=choices((n, month) for n, month in enumerate(MONTHS, start=1)),
    )
    instructors = SelectMultipleField(_l("Instructors"), coerce=int)
    submit = SubmitField(_l("Save course"))


class RosterImportForm(Form):
    file = FileField(
        _l("Class list (.csv or .xlsx)"),
        validators=[FileRequired(_l("Choose a file to import."))],
        render_kw={
            "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats"
            "-officedocument.spreadsheetml.sheet"
        },
    )
    import_good_rows = BooleanField(
        _l("Import the good rows even if some rows have errors")
    )
    submit = SubmitField(_l("Import"))


class StudentForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional(), Length(min=PASSWORD_MIN_LENGTH, max=200)],
        description=_l("Leave empty to generate one."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Add student"))


class AssignForm(Form):
    lesson = SelectField(_l("Lab lesson"), validators=[DataRequired()])
    due_date = DateField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("Empty: no due date. Work after it is marked late."),
    )
    due_time = TimeField(_l("Due time"), validators=[Optional()])
    submit = SubmitField(_l("Assign"))


class GradeForm(Form):
    lesson = SelectField(_l("Lab lesson"))
    submit = SubmitField(_l("Grade the class"))
