"""English and Simplified Chinese: the catalogue is complete, compiled and used."""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "sandbox/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def load(path: Path, reader):
    with path.open("rb") as file:
        return reader(file)


def plain(catalog) -> dict:
    """Message id -> translation, with plural forms as tuples."""

    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


def zh(app, text: str) -> str:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return gettext(text)


def source_messages() -> set[str]:
    method_map = [("sandbox/**.py", "python"), ("sandbox/templates/**.html", "jinja2")]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
    }
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_in_the_code_has_a_chinese_translation():
    catalog = load(PO, read_po)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        translated[key] = (
            strings if all(strings) and "fuzzy" not in message.flags else None
        )
    missing = sorted(m for m in source_messages() if not translated.get(m))
    assert not missing, f"untranslated: {missing}"


def test_translations_keep_their_placeholders():
    for message in load(PO, read_po):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, message.id


#: Half-width punctuation touching Chinese text.
HALF_WIDTH_BESIDE_CHINESE = re.compile(
    r"[\u4e00-\u9fff][,;:!?()]|[,;:!?()]\s*[\u4e00-\u9fff]"
)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")


def test_chinese_translations_use_chinese_punctuation():
    """One catalogue, one typographic style: 金额单位：CNY, never 金额单位:CNY."""
    wrong = []
    for message in load(PO, read_po):
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        wrong += [
            s
            for s in strings
            if message.id and HALF_WIDTH_BESIDE_CHINESE.search(MARKDOWN_LINK.sub("", s))
        ]
    assert not wrong, wrong


def test_compiled_catalogue_matches_the_po_file():
    catalog = load(PO, read_po)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    fresh = plain(read_mo(buffer))
    shipped = plain(load(MO, read_mo))
    assert shipped == fresh, "run: pybabel compile -d sandbox/translations"


def test_compiled_catalogue_ships_with_the_package():
    mo = resources.files("sandbox") / "translations/zh_Hans_CN/LC_MESSAGES/messages.mo"
    assert mo.is_file()


def test_choosing_chinese_renders_the_shell_in_chinese(app, client, auth, classroom):
    auth.login("alice")
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Workbench" in english
    response = client.post("/language", data={"language": "zh", "next": "/"})
    assert response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    for text in (
        "Workbench",
        "Accounts",
        "Contacts",
        "Recent activity",
        "Log out",
        "Profile",
    ):
        assert zh(app, text) != text and zh(app, text) in page, text
    accounts = client.get("/crm/accounts/").get_data(as_text=True)
    assert zh(app, "New account") in accounts and "New account" not in accounts


def test_language_choice_is_remembered_on_the_profile(app, client, auth, classroom):
    from tests.conftest import user_named

    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    with app.app_context():
        assert user_named("alice").preferred_language == "zh"
    auth.logout()
    auth.login("alice")
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_new_users_follow_their_browser_until_they_choose(app, client, auth, classroom):
    zh_browser = {"Accept-Language": "zh-CN,zh;q=0.9"}
    client.post(
        "/auth/login",
        data={"username": "alice", "password": PASSWORD},
        headers=zh_browser,
    )
    assert '<html lang="zh-CN">' in client.get("/", headers=zh_browser).get_data(
        as_text=True
    )
    client.post(
        "/auth/profile",
        headers=zh_browser,
        data={"display_name": "Alice", "email": "", "preferred_language": "en"},
    )
    assert '<html lang="en">' in client.get("/", headers=zh_browser).get_data(
        as_text=True
    )


def test_language_survives_logout(app, client, auth, classroom):
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    auth.logout()
    assert '<html lang="zh-CN">' in client.get("/auth/login").get_data(as_text=True)


def test_anonymous_visitors_can_switch_and_browsers_can_ask(app, client):
    client.post("/language", data={"language": "zh"})
    assert zh(app, "Log in") in client.get("/auth/login").get_data(as_text=True)
    other = app.test_client()
    page = other.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in page.get_data(as_text=True)


@pytest.mark.parametrize("language", ["fr", "", "zh'; DROP"])
def test_unknown_languages_are_ignored(client, language):
    client.post("/language", data={"language": language})
    assert '<html lang="en">' in client.get("/auth/login").get_data(as_text=True)


def test_form_errors_and_error_pages_are_translated(app, client, auth, classroom):
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    page = client.post(
        "/crm/accounts/new", data={"name": "", "account_type": "customer"}
    )
    assert "This field is required." not in page.get_data(as_text=True)
    missing = client.get("/crm/accounts/99999")
    assert missing.status_code == 404
    assert zh(app, "Page not found") in missing.get_data(as_text=True)
