"""The app's form base speaks WTForms' own messages in the page's language."""

from flask_babel import force_locale
from wtforms import IntegerField

from sandbox.forms import Form, _wtforms_catalogue


class CountForm(Form):
    count = IntegerField("Count")


def message_for(app, locale: str) -> str:
    with app.test_request_context(method="POST", data={"count": "many"}):
        with force_locale(locale):
            form = CountForm(meta={"csrf": False})
            assert not form.validate()
            return form.count.errors[0]


def test_wtforms_messages_follow_the_page_language(app):
    english = message_for(app, "en")
    chinese = message_for(app, "zh_Hans_CN")
    assert english == "Not a valid integer value."
    assert chinese != english
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese)


def test_the_catalogues_are_read_once_per_language(app):
    _wtforms_catalogue.cache_clear()
    for _ in range(3):
        message_for(app, "zh_Hans_CN")
        message_for(app, "en")
    assert _wtforms_catalogue.cache_info().misses == 2
