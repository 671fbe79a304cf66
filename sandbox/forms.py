"""Form helpers shared across the app."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import wtforms.widgets
from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import IntegerField as _IntegerField
from wtforms import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation
from wtforms.widgets import core as widgets

from sandbox.routing import SQLITE_MAX_INT

#: WTForms' own ``html_params``, kept for comparison (see :func:`html_params`).
wtforms_html_params = widgets.html_params
_QUOTE, _ENTITY = Markup('"'), Markup("&quot;")


def html_params(**kwargs: object) -> Markup:
    """WTForms' ``html_params``, giving the same markup, built with f-strings.

    WTForms builds each attribute through ``Markup.format``, which runs Python's
    ``string.Formatter`` field by field. A form page has a couple of hundred
    attributes (every input and every option of every select), and that was about a
    fifth of its time. :func:`install_html_params` makes WTForms' widgets use this.
    """
    params = []
    for key, value in sorted(kwargs.items()):
        name = widgets.clean_key(key)
        if value is True:
            params.append(name)
        elif value is not False:
            quoted = escape(value).replace(_QUOTE, _ENTITY)
            params.append(f'{escape(name)}="{quoted}"')
    return Markup(" ".join(params))  # noqa: S704 - built from escaped parts


def install_html_params() -> None:
    """Make every WTForms widget (and label) write its attributes with
    :func:`html_params`."""
    widgets.html_params = wtforms.widgets.html_params = html_params
    widgets.Input.html_params = widgets.Button.html_params = staticmethod(html_params)


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (labels may be lazy strings)."""
    return [SelectChoice(value, label) for value, label in pairs]


@functools.cache
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """The app's form base: WTForms' own messages in the page's language.

    Flask-WTF reads WTForms' catalogue from disk again in every request that shows
    a form; the two catalogues are read once here.
    """

    class Meta:
        def get_translations(self, form):
            locale = get_locale()
            return None if locale is None else _wtforms_catalogue(str(locale))


#: WTForms' own message for its integer field, translated by WTForms' catalogue.
NOT_AN_INTEGER = "Not a valid integer value."


class IntegerField(_IntegerField):
    """WTForms' integer field, refusing numbers no database column can hold, with
    one message for a value that is no number.

    Past about 10**308 WTForms' own ``NumberRange`` fails with an error instead of
    a message (it compares the number as a float), so a 300-digit "number of
    employees" gave a server error. And a value that is no number got the range's
    message too ("Number must be between …") beside "Not a valid integer value.".
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and abs(self.data) > SQLITE_MAX_INT:
            self.data = None
            raise ValueError(self.gettext(NOT_AN_INTEGER))

    def pre_validate(self, form):
        typed = bool(self.raw_data and str(self.raw_data[0]).strip())
        if self.process_errors and typed:  # a blank one is for Optional to pass
            raise StopValidation  # the value's own message is the one shown
