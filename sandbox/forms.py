"""Form helpers shared across the app."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms.i18n import messages_path


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
