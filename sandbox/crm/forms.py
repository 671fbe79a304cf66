"""Form pieces shared by CRM modules.

Every text field of a :class:`RecordForm` is stripped, treats text that shows nothing
(spaces of any kind, zero-width characters) as empty (a required field refuses it),
and refuses control characters such as NUL. Code-list selects, colleague selects and
record pickers fill their choices from the current tenant when the form is made.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, StopValidation, ValidationError

from sandbox.crm.codes import code_list
from sandbox.crm.display import currency
from sandbox.crm.registry import get_module
from sandbox.extensions import db
from sandbox.forms import Form
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.routing import record_id
from sandbox.text import fold, has_control_characters, is_blank

NONE_CHOICE = _l("— None —")
#: The empty first entry of a required drop-down: nothing is chosen for the user.
CHOOSE_CHOICE = _l("— Choose —")


def _clean(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return "" if is_blank(value) else value.strip()


def _required_after_cleaning(validators: list[Any]) -> list[Any]:
    """``InputRequired`` looks at what was typed, so "   " passed it and saved an
    empty name: on cleaned text fields it is followed by a check that the cleaned
    text shows something (fields that read text into numbers keep their own
    messages)."""
    out = []
    for validator in validators:
        out.append(validator)
        if isinstance(validator, InputRequired):
            out.append(_shows_something(validator.message))
    return out


def _shows_something(message: Any) -> Any:
    def check(form: Form, field: Any) -> None:
        if isinstance(field.data, str) and not field.data:
            field.errors[:] = []
            raise StopValidation(message or field.gettext("This field is required."))

    return check


def no_control_characters(form: Form, field: Any) -> None:
    multiline = isinstance(field, TextAreaField)
    if isinstance(field.data, str) and has_control_characters(
        field.data, multiline=multiline
    ):
        raise ValidationError(
            _("Remove the control characters (such as NUL) from this field.")
        )


def coerce_record_id(value: object) -> int:
    """A field's ``coerce`` for record ids: anything no row can have is refused as
    it is read, before a view looks it up (SQLite cannot even compare an id past its
    INTEGER)."""
    found = record_id(value)
    if found is None:
        raise ValueError(f"not a record id: {value!r}")
    return found


class RecordForm(Form):
    """A CRM record form (see the module docstring)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (StringField, TextAreaField)):
                kwargs = unbound_field.kwargs
                kwargs["filters"] = [*kwargs.get("filters", []), _clean]
                kwargs["validators"] = [
                    no_control_characters,
                    *_required_after_cleaning(kwargs.get("validators", [])),
                ]
            return unbound_field.bind(form=form, **options)

    #: Field names in the order a Chinese form asks for them, where it differs.
    zh_order: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            if hasattr(field, "load_choices"):
                field.load_choices()

    def ordered_fields(self, language: str) -> list[Any]:
        """The fields in the order this language's users expect."""
        fields = list(self)
        if language == "zh" and self.zh_order:
            rank = {name: i for i, name in enumerate(self.zh_order)}
            fields.sort(key=lambda f: rank.get(f.name, len(rank)))
        return fields


def label_for(model: type, field: str) -> Any:
    """The (lazy) label of a model's column, so forms say what lists and pages say."""
    from sandbox.crm.display import COMMON_LABELS

    column = model.__table__.columns[field]
    return column.info.get("label") or COMMON_LABELS[field]


class CodeSelectField(SelectField):
    """A select of one code list's active entries (the current value kept).

    ``blank`` puts an empty entry first: ``True`` for "— None —", or the label of
    its own (``CHOOSE_CHOICE`` where a choice is required, so none is preselected).
    """

    def __init__(self, label=None, validators=None, *, codes: str, blank=False, **kw):
        super().__init__(label, validators, **kw)
        self.codes, self.blank = codes, blank

    def load_choices(self) -> None:
        blank = NONE_CHOICE if self.blank is True else self.blank or None
        choices = code_list(self.codes).choices(blank)
        # A record may keep a code since retired from the list; nothing else goes.
        stored = self.object_data
        if stored and stored not in {code for code, _ in choices}:
            choices.append((stored, code_list(self.codes).label_of(stored)))
        self.choices = choices

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data == "":
            self.data = None

    def pre_validate(self, form):
        if self.data is None and self.blank:
            return
        super().pre_validate(form)


def _optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class ColleagueSelectField(SelectField):
    """A select of the company's active colleagues (a small table)."""

    def __init__(self, label=None, validators=None, *, blank=True, **kw):
        kw.setdefault("coerce", _optional_int)
        super().__init__(label, validators, **kw)
        self.blank = blank

    def load_choices(self) -> None:
        from sandbox.models.crm import Colleague

        rows = db.session.execute(
            sa.select(Colleague.id, Colleague.name, Colleague.active).order_by(
                Colleague.name
            )
        ).all()
        choices = [
            (str(i), n) for i, n, active in rows if active or i == self.object_data
        ]
        self.choices = [("", str(NONE_CHOICE))] * self.blank + choices

    def pre_validate(self, form):
        if self.data is None and self.blank:
            return
        super().pre_validate(form)


class MoneyField(StringField):
    """An amount with at most two decimals; a bad value gives one clear message."""

    def __init__(self, label=None, validators=None, *, maximum=Decimal(10**13), **kw):
        super().__init__(label, validators, **kw)
        self.maximum = maximum

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = unicodedata.normalize("NFKC", valuelist[0] if valuelist else "")
        text = text.replace(",", "").replace(" ", "").strip()
        if not text:
            self.data = None
            return
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if (
            amount is None
            or not amount.is_finite()
            or amount.as_tuple().exponent < -2
            or not (0 <= amount < self.maximum)
        ):
            self.data = None
            raise ValueError(
                _(
                    "Enter an amount of at least 0 with at most two decimals, "
                    "such as 1234.50."
                )
            )
        self.data = amount.quantize(Decimal("0.01"))

    def currency(self) -> str:
        return currency()


class RecordPickerWidget:
    """A text box that searches records as you type (JSON lookup) and keeps the
    chosen record's id in a hidden input. Without JavaScript the typed name is
    matched on the server."""

    def __call__(self, field: RecordPickerField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        css = kwargs.pop("class", "") or kwargs.pop("class_", "")
        listbox = f"{field.id}-options"
        return Markup(
            '<div class="record-picker" data-lookup="{lookup}">'
            '<input type="hidden" name="{name}" value="{value}">'
            '<input type="text" class="{css}" id="{id}" name="{name}_label" '
            'value="{label}" autocomplete="off" role="combobox" '
            'aria-autocomplete="list" aria-expanded="false" aria-controls="{listbox}"'
            "{invalid}>"
            '<ul class="list-group record-picker-options shadow-sm" id="{listbox}" '
            'role="listbox" hidden></ul></div>'
        ).format(
            lookup=field.lookup_url(),
            name=field.name,
            value="" if field.data is None else field.data,
            css=css,
            id=kwargs["id"],
            label=field.label_text(),
            listbox=listbox,
            invalid=Markup(' aria-invalid="true"') if field.errors else "",
        )


class RecordPickerField(StringField):
    """A link to a record of another module, chosen by searching its name."""

    widget = RecordPickerWidget()

    def __init__(self, label=None, validators=None, *, module: str, **kw):
        super().__init__(label, validators, **kw)
        self.module_key = module
        self._typed: str | None = None

    @property
    def module(self):
        return get_module(self.module_key)

    def lookup_url(self) -> str:
        from flask import url_for

        return url_for("search.lookup", key=self.module_key)

    def label_text(self) -> str:
        if self._typed is not None:
            return self._typed
        if self.data is None:
            return ""
        record = db.session.get(self.module.model, self.data)
        return record.display_name if record else ""

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        from flask import request

        self._typed = request.form.get(f"{self.name}_label", "").strip()[:300]
        raw = valuelist[0] if valuelist else ""
        if raw.strip():
            self.data = record_id(raw)
            if self.data is None:
                raise ValueError(_("Choose a record from the list."))
        elif self._typed:
            self.data = self._match_typed(self._typed)
        else:
            self.data = None

    def _match_typed(self, typed: str) -> int:
        model = self.module.model
        expression = model.display_expression()
        ids = db.session.execute(
            sa.select(model.id, expression).where(expression.ilike(typed)).limit(5)
        ).all()
        exact = [i for i, name in ids if fold(name) == fold(typed)]
        if len(exact) != 1:
            raise ValueError(
                _(
                    "Choose one record from the list: no single record is named "
                    "“%(name)s”.",
                    name=typed,
                )
            )
        return exact[0]

    def pre_validate(self, form):
        if self.process_errors:
            # A typed name that matched nothing says so; a required field's own
            # check would replace it with "This field is required".
            raise StopValidation()
        if (
            self.data is not None
            and db.session.get(self.module.model, self.data) is None
        ):
            raise ValidationError(_("The chosen record no longer exists."))


class ConfirmForm(Form):
    """An empty form: a POST with a CSRF token confirms a destructive action."""

    submit = SubmitField(_l("Delete"))


class DeleteForm(Form):
    """Confirms a delete; ``detach`` chooses to unlink what links to the record."""

    detach = BooleanField(_l("Unlink them and delete"))
    submit = SubmitField(_l("Delete"))
