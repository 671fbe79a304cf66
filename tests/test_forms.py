"""The app's form base speaks WTForms' own messages in the page's language, and its
integer field refuses numbers no column can hold."""

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms.validators import NumberRange, Optional

from sandbox.crm.registry import app_modules
from sandbox.forms import (
    Form,
    IntegerField,
    _wtforms_catalogue,
    html_params,
    wtforms_html_params,
)
from sandbox.models.crm import Account
from tests.routes import rules, urls


class CountForm(Form):
    count = IntegerField("Count", validators=[Optional(), NumberRange(min=0, max=100)])


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


@pytest.mark.parametrize(
    "value", ["1" * 309, "-" + "9" * 400, "9223372036854775808", "1" * 5000, "many"]
)
def test_a_number_past_any_column_is_a_message_not_an_error(app, value):
    with app.test_request_context(method="POST", data={"count": value}):
        form = CountForm(meta={"csrf": False})
        assert not form.validate()  # WTForms' NumberRange alone raised OverflowError
        # One message: not also the range's "Number must be between 0 and 100."
        assert form.count.errors == ["Not a valid integer value."]
        assert form.count.data is None


def test_a_300_digit_head_count_gives_the_form_back_and_saves_nothing(
    app, client, auth, classroom
):
    auth.login("alice")
    count = lambda: classroom.in_tenant(  # noqa: E731
        app, lambda s: s.scalar(sa.select(sa.func.count(Account.id)))
    )
    before = count()
    response = client.post(
        "/crm/accounts/new", data={"name": "Huge Staff Ltd", "employees": "1" * 300}
    )
    assert response.status_code == 200
    assert "Not a valid integer value." in response.get_data(as_text=True)
    assert count() == before


def test_a_blank_optional_number_is_still_no_number_at_all(app):
    with app.test_request_context(method="POST", data={"count": " "}):
        form = CountForm(meta={"csrf": False})
        assert form.validate(), form.count.errors
        assert form.count.data is None


attribute_names = st.sampled_from(
    ["name", "id", "class_", "for_", "data_x_y", "aria_describedby", "value", "max"]
) | st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)
attribute_values = (
    st.booleans()
    | st.none()
    | st.integers()
    | st.text(max_size=30)
    | st.text(max_size=30).map(Markup)
)


@given(st.dictionaries(attribute_names, attribute_values, max_size=8))
def test_html_params_writes_what_wtforms_writes(attributes):
    assert html_params(**attributes) == wtforms_html_params(**attributes)


def test_widgets_write_their_attributes_with_the_apps_html_params(app):
    from wtforms.widgets import core

    assert core.html_params is html_params
    with app.test_request_context():
        form = CountForm(meta={"csrf": False}, data={"count": 7})
        assert str(form.count(class_="form-control", data_x='a"b')) == (
            '<input class="form-control" data-x="a&#34;b" id="count" max="100" min="0" '
            'name="count" type="number" value="7">'
        )
        assert str(form.count.label) == '<label for="count">Count</label>'


class _References(HTMLParser):
    """Every id on a page, and every id an attribute points at."""

    POINTERS = ("for", "aria-describedby", "aria-labelledby", "aria-controls", "list")

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.wanted: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name in self.POINTERS:
                self.wanted += [(tag, name, v) for v in (value or "None").split()]


def dangling_references(html: str) -> list[tuple[str, str, str]]:
    parser = _References()
    parser.feed(html)
    return [ref for ref in parser.wanted if ref[2] not in parser.ids]


def test_every_form_points_screen_readers_only_at_text_on_the_page(
    app, client, auth, classroom
):
    """Labels, errors and help texts a field names exist: with errors and without."""

    def check(urls: list[str]) -> int:
        described = 0
        for url in urls:
            posts = "POST" in app.url_map.bind("localhost").allowed_methods(url)
            responses = [client.get(url)] + (
                [client.post(url, data={})] if posts else []
            )
            for response in responses:
                # 422: a refused upload shows its form again with the errors
                assert response.status_code in (200, 422), (
                    url,
                    response.request.method,
                )
                html = response.get_data(as_text=True)
                assert dangling_references(html) == [], url
                described += html.count("aria-describedby=")
        return described

    with app.test_request_context():
        pages = [
            url_for(f"{module.key}.create")
            for module in app_modules()
            if f"{module.key}.create" in app.view_functions
        ]
    assert len(pages) >= 10
    auth.login("alice")
    described = check(pages)
    auth.logout()
    auth.login(classroom.instructor)
    course = classroom.course_id
    described += check(
        ["/instructor/courses/new", f"/instructor/courses/{course}/students/new"]
    )
    assert described >= 20  # the empty submissions' errors are described


def test_every_drop_down_of_every_form_page_is_drawn_as_one(
    app, client, auth, classroom
):
    """A select field of the app's own kinds (stages, products, lead statuses …) gets
    Bootstrap's drop-down look, so students see there is a choice to make."""
    auth.login("alice")
    drop_downs = 0
    for rule in rules(app, "GET"):
        if "POST" not in rule.methods:
            continue  # a form page shows its form and takes its submission
        for url in urls(rule, [1], 1):
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for tag in re.findall(r"<select\b[^>]*>", response.get_data(as_text=True)):
                drop_downs += 1
                assert "form-select" in tag, (url, tag)
    assert drop_downs >= 30, drop_downs
