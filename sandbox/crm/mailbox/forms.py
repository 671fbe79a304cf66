from __future__ import annotations

from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from sandbox.crm.forms import RecordForm, label_for
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.mailbox import EmailTemplate


class TemplateForm(RecordForm):
    name = StringField(
        label_for(EmailTemplate, "name"), validators=[InputRequired(), Length(max=200)]
    )
    subject = StringField(
        label_for(EmailTemplate, "subject"),
        validators=[InputRequired(), Length(max=300)],
    )
    body = TextAreaField(
        label_for(EmailTemplate, "body"),
        validators=[InputRequired(), Length(max=20000)],
    )
    submit = SubmitField(_l("Save"))


class ComposeForm(RecordForm):
    subject = StringField(
        label_for(EmailTemplate, "subject"),
        validators=[InputRequired(), Length(max=300)],
    )
    body = TextAreaField(
        label_for(EmailTemplate, "body"),
        validators=[InputRequired(), Length(max=20000)],
    )
    submit = SubmitField(_l("Send"))


class CampaignMailForm(RecordForm):
    campaign_id = SelectField(_l("Campaign"), coerce=int, validate_choice=True)
    template_id = SelectField(_l("Template"), coerce=int, validate_choice=True)
    submit = SubmitField(_l("Send to the members"))


class RepliesForm(RecordForm):
    days = SelectField(_l("Simulate the next"), default="7")
    submit = SubmitField(_l("Deliver simulated replies"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not in the field: newer WTForms warns about tuple choices there.
        self.days.choices = [(n, n) for n in ("1", "3", "7", "14")]
