from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from sandbox.auth.service import PASSWORD_MIN_LENGTH
from sandbox.forms import Form, choices
from sandbox.i18n import LANGUAGES
from sandbox.i18n import lazy_gettext as _l


class LoginForm(Form):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN_LENGTH, max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))

    def validate_new_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError(
                _l("Choose a password different from the current one.")
            )


class ProfileForm(Form):
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(), Length(max=120)]
    )
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    preferred_language = SelectField(
        _l("Language"),
        choices=choices([("", _l("Same as my browser")), *LANGUAGES.items()]),
    )
    submit = SubmitField(_l("Save profile"))


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=choices(LANGUAGES.items()))
