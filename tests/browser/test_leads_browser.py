"""A student converts a lead through the real pages, in Chinese."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from sandbox.crm.display import field_label
from sandbox.models.crm.sales import Opportunity

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"
ZH_LOCALE = "zh_Hans_CN"
TEXTS = (
    "CRM modules",
    "Leads",
    "Convert",
    "Converted",
    "Convert lead",
    "Create an opportunity",
)
AMOUNT = "<label of the opportunity's amount>"
DEAL_NAME = "<label of the opportunity's name>"


@pytest.fixture
def zh(live_server) -> dict[str, str]:
    with live_server.app.test_request_context(), force_locale(ZH_LOCALE):
        texts = {text: gettext(text) for text in TEXTS}
        texts[AMOUNT] = field_label(Opportunity, "amount")
        texts[DEAL_NAME] = field_label(Opportunity, "name")
    assert texts["Leads"] == "线索" and texts[AMOUNT] == "金额"
    return texts


def test_student_converts_a_lead_in_chinese_and_sees_what_it_produced(
    page, live_server, login, watch, zh, screenshot
):
    login(STUDENT)
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="简体中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    modules = page.get_by_role("navigation", name=zh["CRM modules"], exact=True)
    modules.get_by_role("link", name=zh["Leads"], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh["Leads"])

    page.goto(live_server.url_for("/crm/leads/?status=qualified"))
    lead_link = page.locator("main table tbody tr").first.get_by_role("link").first
    lead_name = lead_link.inner_text()
    lead_link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(lead_name)
    lead_url = page.url

    page.get_by_role("link", name=zh["Convert"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/crm/leads/\d+/convert$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(zh["Convert lead"])
    expect(page.get_by_label(zh["Create an opportunity"])).to_be_checked()
    page.get_by_label(zh[AMOUNT]).fill("88000")
    deal_name = page.get_by_label(zh[DEAL_NAME]).input_value()
    assert deal_name
    screenshot("zh-leads-convert")
    page.locator("form.lead-convert").get_by_role(
        "button", name=zh["Convert"], exact=True
    ).click()

    expect(page).to_have_url(lead_url)
    expect(page.get_by_role("alert")).to_contain_text(lead_name)
    page.reload()
    converted = page.locator(".lead-conversion")
    expect(converted.get_by_role("heading")).to_have_text(zh["Converted"])
    account = converted.locator('a[href^="/crm/accounts/"]')
    contact = converted.locator('a[href^="/crm/contacts/"]')
    expect(account).to_have_count(1)
    expect(contact).to_have_count(1)
    expect(converted).to_contain_text(deal_name)
    contact_name = contact.inner_text()
    expect(page.get_by_role("link", name=zh["Convert"], exact=True)).to_have_count(0)
    screenshot("zh-leads-converted")

    account.click()
    expect(page).to_have_url(re.compile(r"/crm/accounts/\d+$"))
    expect(page.locator("main")).to_contain_text(contact_name)
    page.wait_for_load_state("networkidle")
    assert watch.problems == []
    assert watch.elsewhere(live_server.url) == []
