from __future__ import annotations

import sqlalchemy as sa
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    RecordForm,
    coerce_record_id,
    label_for,
)
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Colleague, Contact
from sandbox.models.crm.activities import Activity

L = lambda field: label_for(Activity, field)  # noqa: E731


class LocalDateTimeField(DateTimeLocalField):
    """A date and time in the course's time zone, with a clear message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                _("Enter a date and time, such as 2026-03-02 09:30.")
            ) from None


class LocalDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a date, such as 2026-03-02.")) from None


#: How a kind of activity is usually held (a meeting may as well be a visit).
USUAL_COMMUNICATION = {"call": "phone", "meeting": "meeting", "email": "email"}


class ActivityForm(RecordForm):
    subject = StringField(L("subject"), validators=[InputRequired(), Length(max=200)])
    due_date = LocalDateField(L("due_date"), validators=[Optional()])
    starts_at = LocalDateTimeField(L("starts_at"), validators=[Optional()])
    ends_at = LocalDateTimeField(L("ends_at"), validators=[Optional()])
    all_day = BooleanField(L("all_day"))
    status = CodeSelectField(L("status"), codes="activity_status")
    priority = CodeSelectField(
        L("priority"), codes="activity_priority", default="normal"
    )
    communication_type = CodeSelectField(
        L("communication_type"), codes="communication_type", blank=True
    )
    owner_id = ColleagueSelectField(L("owner_id"))
    location = StringField(L("location"), validators=[Optional(), Length(max=200)])
    colleague_ids = SelectMultipleField(
        _l("Colleagues taking part"), coerce=coerce_record_id, validators=[Optional()]
    )
    contact_ids = SelectMultipleField(
        _l("Contacts taking part"), coerce=coerce_record_id, validators=[Optional()]
    )
    remind_at = LocalDateTimeField(L("remind_at"), validators=[Optional()])
    description = TextAreaField(L("description"), validators=[Optional()])
    outcome = TextAreaField(L("outcome"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    #: Fields each kind leaves out.
    HIDDEN = {
        "task": (
            "communication_type",
            "starts_at",
            "ends_at",
            "all_day",
            "location",
            "colleague_ids",
            "contact_ids",
        ),
        "call": ("due_date", "all_day", "location", "colleague_ids"),
        "meeting": ("due_date",),
        "event": ("due_date", "communication_type"),
        "email": (
            "due_date",
            "all_day",
            "location",
            "colleague_ids",
            "contact_ids",
            "remind_at",
        ),
    }

    def for_kind(self, kind: str, account_id: int | None, contact_id: int | None):
        """Keep the fields ``kind`` uses and fill the attendee choices: colleagues,
        and the contacts of the account the activity is about."""
        for name in self.HIDDEN.get(kind, ()):
            delattr(self, name)
        if "starts_at" in self:
            self.starts_at.flags.required = True
        if "colleague_ids" in self:
            self.colleague_ids.choices = [
                (i, n)
                for i, n in db.session.execute(
                    sa.select(Colleague.id, Colleague.name)
                    .where(Colleague.active)
                    .order_by(Colleague.name)
                )
            ]
        if "contact_ids" in self:
            chosen = set(self.contact_ids.data or [])
            conditions = []
            if account_id is not None:
                conditions.append(Contact.account_id == account_id)
            if contact_id is not None:
                conditions.append(Contact.id == contact_id)
            if chosen:
                conditions.append(Contact.id.in_(chosen))
            rows = (
                db.session.scalars(
                    sa.select(Contact).where(sa.or_(*conditions)).limit(200)
                ).all()
                if conditions
                else []
            )
            if rows:
                self.contact_ids.choices = sorted(
                    ((c.id, c.full_name) for c in rows), key=lambda pair: pair[1]
                )
            else:
                delattr(self, "contact_ids")
        return self


class CompleteForm(RecordForm):
    outcome = TextAreaField(L("outcome"), validators=[Optional()])
    submit = SubmitField(_l("Mark done"))
