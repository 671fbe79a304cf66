"""Form pieces shared by CRM modules."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField

from sandbox.i18n import lazy_gettext as _l


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RecordForm(FlaskForm):
    """A CRM record form: surrounding blanks are never meaningful, so they go."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (StringField, TextAreaField)):
                filters = unbound_field.kwargs.get("filters", [])
                unbound_field.kwargs["filters"] = [*filters, _strip]
            return unbound_field.bind(form=form, **options)


class ConfirmForm(FlaskForm):
    """An empty form: a POST with a CSRF token confirms a destructive action."""

    submit = SubmitField(_l("Delete"))
