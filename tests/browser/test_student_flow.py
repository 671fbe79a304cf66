"""A student works in their own CRM through a real browser, in English and Chinese."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from sandbox.crm.display import field_label
from sandbox.models.crm import Account

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    PlaywrightTimeoutError = expect = None

STUDENT = "student1"
PASSWORD = "demo"
NEW_ACCOUNT = "Browser Test Trading Co"
ZH_LOCALE = "zh_Hans_CN"
#: English strings the Chinese pages are checked for, translated by the catalogue
CHECKED_STRINGS = (
    "Main navigation",
    "CRM modules",
    "Accounts",
    "Contacts",
    "Workbench",
    "New account",
    "Search",
    "Details",
    "History",
    "Edit",
    "Save",
    "Cancel",
)
NAME_LABEL = "<label of the Name field>"
#: how long a click that must not navigate is given to do so anyway
NO_NAVIGATION_MS = 500


def heading(page):
    return page.get_by_role("heading", level=1)


def main_nav(page, label: str = "Main navigation"):
    return page.get_by_role("navigation", name=label, exact=True)


def results(page):
    return page.locator("main table tbody tr")


def test_student_creates_an_account_and_finds_it_by_search(
    page, live_server, screenshot
):
    page.goto(live_server.url_for("/auth/login"))
    screenshot("en-01-login")
    page.get_by_label("Username").fill(STUDENT)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(live_server.url_for("/"))
    expect(heading(page)).to_have_text("Workbench")
    screenshot("en-02-workbench")

    main_nav(page, "CRM modules").get_by_role("link", name="Accounts").click()
    expect(heading(page)).to_have_text("Accounts")
    expect(results(page)).to_have_count(20)
    seed_account = results(page).first.get_by_role("link").inner_text()
    screenshot("en-03-accounts")

    page.get_by_role("link", name="New account").click()
    expect(heading(page)).to_have_text("New account")
    page.get_by_label("Name").fill(NEW_ACCOUNT)
    page.get_by_label("City").fill("Ningbo")
    screenshot("en-04-account-form")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/crm/accounts/\d+$"))
    expect(heading(page)).to_have_text(NEW_ACCOUNT)
    expect(page.get_by_role("alert")).to_contain_text(NEW_ACCOUNT)
    screenshot("en-05-account-detail")

    main_nav(page, "CRM modules").get_by_role("link", name="Accounts").click()
    expect(heading(page)).to_have_text("Accounts")
    page.get_by_role("searchbox", name="Search", exact=True).fill("browser test")
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page).to_have_url(re.compile(r"[?&]q=browser\+test"))
    expect(results(page)).to_have_count(1)
    expect(results(page).get_by_role("link", name=NEW_ACCOUNT)).to_be_visible()
    expect(results(page).get_by_role("link", name=seed_account)).to_have_count(0)
    screenshot("en-06-accounts-search")


def name_label() -> str:
    """The label of the account form's Name field, in the current locale."""
    return str(field_label(Account, "name"))


@pytest.fixture
def chinese(live_server) -> dict[str, str]:
    """``CHECKED_STRINGS`` (and the Name field's label) in the Chinese catalogue."""
    with live_server.app.test_request_context():
        english = {text: text for text in CHECKED_STRINGS}
        english[NAME_LABEL] = name_label()
        with force_locale(ZH_LOCALE):
            translated = {text: gettext(text) for text in CHECKED_STRINGS}
            translated[NAME_LABEL] = name_label()
    untranslated = [key for key, zh in translated.items() if zh == english[key]]
    assert not untranslated, f"no Chinese translation for {untranslated}"
    return translated


def expect_chinese_page(page, zh: dict[str, str], title: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(heading(page)).to_have_text(title)
    nav = main_nav(page, zh["Main navigation"])
    expect(nav.get_by_role("link", name=zh["Workbench"], exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name="简体中文")).to_be_visible()
    modules = main_nav(page, zh["CRM modules"])
    expect(modules.get_by_role("link", name=zh["Accounts"], exact=True)).to_be_visible()


def test_student_switches_to_chinese_and_pages_render_in_chinese(
    page, live_server, login, screenshot, chinese
):
    zh = chinese
    nav = main_nav(page, zh["CRM modules"])
    login(STUDENT)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="简体中文", exact=True).click()

    expect(page).to_have_url(live_server.url_for("/"))
    expect_chinese_page(page, zh, zh["Workbench"])
    screenshot("zh-02-workbench")

    nav.get_by_role("link", name=zh["Accounts"], exact=True).click()
    expect_chinese_page(page, zh, zh["Accounts"])
    expect(page.get_by_role("button", name=zh["Search"])).to_be_visible()
    expect(page.get_by_role("link", name=zh["New account"])).to_be_visible()
    screenshot("zh-03-accounts")

    account = results(page).first.get_by_role("link")
    name = account.inner_text()
    account.click()
    expect_chinese_page(page, zh, name)
    main = page.locator("main")
    expect(main.get_by_role("heading", name=zh["Details"])).to_be_visible()
    expect(main.get_by_role("heading", name=zh["History"])).to_be_visible()
    expect(main.get_by_role("link", name=zh["Edit"], exact=True)).to_be_visible()
    screenshot("zh-05-account-detail")

    nav.get_by_role("link", name=zh["Accounts"], exact=True).click()
    page.get_by_role("link", name=zh["New account"]).click()
    expect_chinese_page(page, zh, zh["New account"])
    expect(page.get_by_label(zh[NAME_LABEL])).to_be_visible()
    expect(page.get_by_role("button", name=zh["Save"])).to_be_visible()
    expect(main.get_by_role("link", name=zh["Cancel"])).to_be_visible()
    screenshot("zh-04-account-form")


def test_new_account_without_a_name_shows_the_error_beside_the_field(
    page, live_server, login
):
    login(STUDENT)
    page.goto(live_server.url_for("/crm/accounts/"))
    summary = page.locator(".pagination-bar > span").inner_text()
    assert summary.startswith("50 records")

    page.get_by_role("link", name="New account").click()
    page.get_by_label("City").fill("Ningbo")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(live_server.url_for("/crm/accounts/new"))
    name = page.get_by_label("Name")
    expect(name).to_have_class(re.compile(r"\bis-invalid\b"))
    # The message sits in the Name field's own group, right after the input.
    error = page.locator("#name + .invalid-feedback")
    expect(error).to_be_visible()
    expect(error).to_have_text("This field is required.")
    expect(page.locator(".invalid-feedback:visible")).to_have_count(1)
    expect(page.get_by_label("City")).to_have_value("Ningbo")

    page.goto(live_server.url_for("/crm/accounts/"))
    expect(page.locator(".pagination-bar > span")).to_have_text(summary)


def test_login_form_works_with_the_keyboard_alone(page, live_server):
    page.goto(live_server.url_for("/auth/login"))
    username = page.get_by_label("Username")
    expect(username).to_be_focused()  # autofocus: no click needed to start typing

    page.keyboard.type(STUDENT)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(live_server.url_for("/"))
    expect(heading(page)).to_have_text("Workbench")


def assert_stays_put(page, action) -> None:
    """``action`` must not start a navigation."""
    url = page.url
    with pytest.raises(PlaywrightTimeoutError):
        with page.expect_event("framenavigated", timeout=NO_NAVIGATION_MS):
            action()
    assert page.url == url


@pytest.mark.parametrize(
    "native_validation",
    [True, False],
    ids=["browser-validation", "script-validation"],
)
def test_jump_to_page_ignores_pages_out_of_range(
    page, live_server, login, native_validation
):
    """0, nothing and past-the-end do nothing; with or without browser validation."""
    login(STUDENT)
    page.goto(live_server.url_for("/crm/accounts/"))
    jump = page.locator("form.jump-to-page")
    expect(jump).to_have_attribute("data-pages", "3")
    if not native_validation:
        # What a browser without constraint validation does: app.js alone guards.
        jump.evaluate("form => { form.noValidate = true; }")
    start = page.url
    page_input = page.get_by_label("Go to page")
    go = page.get_by_role("button", name="Go", exact=True)

    for value in ("0", "", "99"):
        page_input.fill(value)
        assert_stays_put(page, go.click)
        assert page.url == start, f"jumping to {value!r} left the page"

    page_input.fill("2")
    go.click()
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    expect(page.locator(".pagination .active")).to_have_text("2")
    expect(results(page)).to_have_count(20)


def test_main_pages_have_no_errors_and_load_nothing_from_elsewhere(
    page, live_server, login, watch
):
    login(STUDENT)
    paths = [
        "/",
        "/crm/accounts/",
        "/crm/accounts/?q=a&sort=city&dir=desc&page=2",
        "/crm/accounts/new",
        "/crm/contacts/",
        "/crm/contacts/new",
        "/auth/profile",
        "/auth/password",
    ]
    for path in paths:
        page.goto(live_server.url_for(path))
        expect(heading(page)).to_be_visible()
    page.goto(live_server.url_for("/crm/accounts/"))
    results(page).first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/crm/accounts/\d+$"))
    page.goto(live_server.url_for("/crm/contacts/"))
    results(page).first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/crm/contacts/\d+$"))
    # A form sent back with errors, and Bootstrap's script opening a menu.
    page.goto(live_server.url_for("/crm/accounts/new"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    page.get_by_role("button", name="Language: English").click()
    expect(page.get_by_role("button", name="简体中文", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert watch.problems == []
    assert len(watch.requests) > len(paths)
    assert watch.elsewhere(live_server.url) == []


#: Sends the form's submit event twice as a double click does, then brings the page
#: back as the Back button does; says which submits the page's script let through.
DOUBLE_SUBMIT = """selector => {
  const form = document.querySelector(selector);
  const sent = [];
  const send = () => {
    const event = new SubmitEvent("submit", {bubbles: true, cancelable: true});
    form.dispatchEvent(event);  // a plain event: nothing is really sent
    sent.push(!event.defaultPrevented);
  };
  send();
  send();
  window.dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true}));
  send();
  return sent;
}"""


def test_a_posting_form_is_sent_once_until_the_page_comes_back(
    page, live_server, login
):
    """A double click sends a posting form once (a payment or an order recorded
    twice was the symptom); after Back the same form can be sent again."""
    login(STUDENT)
    page.goto(live_server.url_for("/crm/contacts/new"))
    assert page.evaluate(DOUBLE_SUBMIT, "main form[method=post]") == [
        True,
        False,
        True,
    ]
    page.goto(live_server.url_for("/crm/accounts/"))  # a GET form: always sent
    assert page.evaluate(DOUBLE_SUBMIT, "main form[role=search]") == [True] * 3
