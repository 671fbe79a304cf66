"""Language selection (English, Simplified Chinese) on top of Flask-Babel."""

from __future__ import annotations

from flask import g, has_request_context, request, session
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
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
    if not has_request_context():
        return "en"  # command-line work and background jobs speak English
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
    """The time zone of the course whose CRM or instructor page is open; else the
    app's default."""
    from sandbox.tenancy import current_handle

    handle = current_handle()
    return handle.timezone if handle is not None else g.get("course_timezone")


def _translations():
    """This request's catalogue, looked up once per request and locale.

    Flask-Babel finds the catalogue anew for every string; a page has a hundred.
    The cache lives beside Flask-Babel's own per-request state and is keyed on its
    locale object, so ``force_locale`` (which swaps that object) still switches
    the language.
    """
    if not has_request_context():
        return get_translations()
    state = g.get("_flask_babel")
    if state is not None:
        cached = getattr(state, "sandbox_translations", None)
        if cached is not None and cached[0] is getattr(state, "babel_locale", None):
            return cached[1]
    translations = get_translations()
    state = g._flask_babel
    state.sandbox_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def gettext(string: str, **variables) -> str:
    text = _translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


def init_app(app) -> None:
    babel.init_app(app, locale_selector=get_locale, timezone_selector=get_timezone)
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _translations().ugettext(string),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(
        current_language=current_language, LANGUAGES=LANGUAGES, HTML_LANG=HTML_LANG
    )
