"""Messages in both languages at once, for results stored and shown later.

A Check's message is kept as ``{"en": …, "zh": …}`` so the student sees it in the
language of the page that shows it. Catalogues are read once per process: grading a
class formats thousands of messages, far too many to switch Flask-Babel's locale for.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask_babel.speaklater import LazyString

from sandbox.i18n import LOCALES

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"


@functools.cache
def catalogue(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [LOCALES[lang]])


class Bilingual(dict):
    """A text already in both languages (a code's labels, a lesson's text)."""

    def __init__(self, en: str, zh: str | None = None) -> None:
        super().__init__(en=en, zh=en if zh is None else zh)


def msgid(text: Any) -> str:
    """The untranslated text of a lazy string (or the text itself)."""
    if isinstance(text, LazyString):
        return text._args[0]
    return str(text)


def translate(text: Any, lang: str) -> str:
    """``text`` in ``lang``: a lazy string, a :class:`Bilingual`, or plain text."""
    if isinstance(text, Mapping):
        return str(text.get(lang) or text.get("en", ""))
    if isinstance(text, LazyString):
        return catalogue(lang).ugettext(msgid(text))
    return str(text)


def bilingual(template: Any, **params: Any) -> dict[str, str]:
    """``template`` (a lazy string with ``%(name)s`` places) filled in both languages.

    Parameters may themselves be lazy strings or :class:`Bilingual` texts; they are
    translated into each language before they are filled in.
    """
    out = {}
    for lang in LOCALES:
        text = translate(template, lang)
        values = {key: translate(value, lang) for key, value in params.items()}
        out[lang] = text % values if values else text
    return out


def pack(message: Mapping[str, str]) -> str:
    """A bilingual message as one text, for a text column: equal messages pack to
    equal texts, so failures of one kind still group."""
    return json.dumps(dict(message), ensure_ascii=False, sort_keys=True)


def unpack(text: str | None) -> dict[str, str]:
    """A packed message in both languages; an older plain text is English."""
    if text and text.startswith("{"):
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if isinstance(message, dict):
            return {str(k): str(v) for k, v in message.items()}
    return {"en": text or ""}


def unpacked_in(text: str | None, lang: str) -> str:
    """A packed message in ``lang`` (English when it has no ``lang`` text)."""
    message = unpack(text)
    return message.get(lang) or message.get("en", "")


def join(parts: list[dict[str, str]], separator: str = " ") -> dict[str, str]:
    """Several bilingual messages as one, each said once (two rows a check
    expects may miss for the same reason)."""
    return {
        lang: separator.join(dict.fromkeys(p[lang] for p in parts if p[lang]))
        for lang in LOCALES
    }
