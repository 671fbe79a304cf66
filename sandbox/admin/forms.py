"""Forms of the administration pages."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from sandbox.auth.service import PASSWORD_MIN_LENGTH
from sandbox.forms import Form, choices
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.control import Role

ROLE_CHOICES = (
    (Role.INSTRUCTOR.value, _l("Instructor")),
    (Role.ADMIN.value, _l("Administrator")),
    (Role.STUDENT.value, _l("Student")),
)


class EditUserForm(Form):
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(), Length(max=120)]
    )
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES))
    submit = SubmitField(_l("Save user"))


class NewUserForm(EditUserForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                r"^(?=.*[^\W_])[\w.-]+$",
                message=_l(
                    "A username uses letters, digits, '.', '_' or '-', and at least "
                    "one letter or digit."
                ),
            ),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional(), Length(min=PASSWORD_MIN_LENGTH, max=200)],
        description=_l("Leave empty to generate one."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create user"))
