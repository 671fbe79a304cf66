"""Language selection (English, Simplified Chinese) on top of Flask-Babel."""

from __future__ import annotations

from flask import g, request, session
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user

from sandbox.extensions import babel

__all__ = ["gettext", "lazy_gettext", "ngettext", "init_app", "get_locale", "LANGUAGES"]

#: language code stored on users and in the session -> Babel locale
LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
LANGUAGES = {"en": "English", "zh": "简体中文"}
HTML_LANG = {"en": "en", "zh": "zh-CN"}
SESSION_KEY = "lang"


def current_language() -> str:
    """The code (``en`` or ``zh``) of the language this request renders in.

    Decided once per request: every label on a page asks.
    """
    lang = g.get("language")
    if lang is None:
        lang = g.language = _choose_language()
    return lang


def _choose_language() -> str:
    if current_user and current_user.is_authenticated:
        lang = current_user.preferred_language
        if lang in LOCALES:
            return lang
    lang = session.get(SESSION_KEY)
    if lang in LOCALES:
        return lang
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans"])
    return "zh" if best and best.startswith("zh") else "en"


def get_locale() -> str:
    return LOCALES[current_language()]


def get_timezone() -> str | None:
    """The time zone of the course whose CRM is open; else the app's default."""
    from sandbox.tenancy import current_handle

    handle = current_handle()
    return handle.timezone if handle is not None else None


def init_app(app) -> None:
    babel.init_app(app, locale_selector=get_locale, timezone_selector=get_timezone)
    app.jinja_env.globals.update(
        current_language=current_language, LANGUAGES=LANGUAGES, HTML_LANG=HTML_LANG
    )
