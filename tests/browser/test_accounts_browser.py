"""The duplicate check while typing a new account's name, in the Chinese UI."""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext

from sandbox import tenancy
from sandbox.auth.service import get_user
from sandbox.models.crm import Colleague
from tests.helpers import make_account

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"
ZH_LOCALE = "zh_Hans_CN"


def plant_account(app, name: str, owner_id: int) -> str:
    """Add an account to the student's CRM; return its owner's name."""
    with app.app_context():
        tenant = tenancy.student_tenant(get_user(STUDENT))
        with tenancy.tenant_session(tenant) as session:
            make_account(session, name=name, owner_id=owner_id)
            return session.get(Colleague, owner_id).name


def zh(app, text: str) -> str:
    with app.test_request_context(), force_locale(ZH_LOCALE):
        translated = gettext(text)
    assert translated != text, f"no Chinese translation for {text!r}"
    return translated


def test_typing_a_similar_name_shows_the_matches_with_their_owners(
    page, live_server, login, watch, screenshot
):
    app = live_server.app
    owner = plant_account(app, "杭州某某科技有限公司", owner_id=2)
    other_owner = plant_account(app, "Acme Ltd", owner_id=3)
    login(STUDENT)
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="简体中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.goto(live_server.url_for("/crm/accounts/new"))
    name = page.locator("#name")
    suggestions = page.locator("#name-similar .alert")
    expect(suggestions).to_be_hidden()

    name.press_sequentially("杭州某某科技")
    expect(suggestions).to_be_visible()
    expect(suggestions).to_contain_text(
        zh(app, "Similar accounts already exist. Is it one of these?")
    )
    match = suggestions.locator(".similar-list li")
    expect(match).to_have_count(1)
    expect(match).to_have_text(f"杭州某某科技有限公司 · {zh(app, 'Owner')}: {owner}")
    expect(match.get_by_role("link", name="杭州某某科技有限公司")).to_have_attribute(
        "href", re.compile(r"^/crm/accounts/\d+$")
    )

    screenshot("zh-accounts-similar")

    name.fill("ＡＣＭＥ  Ｌｔｄ．")
    expect(match).to_have_text(f"Acme Ltd · {zh(app, 'Owner')}: {other_owner}")

    name.fill("Quetzal Holdings")
    expect(suggestions).to_be_hidden()
    assert not watch.problems, watch.problems
