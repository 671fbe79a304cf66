"""A student works a case through its lifecycle in a real browser, in Chinese."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import force_locale, gettext

from sandbox import tenancy
from sandbox.auth.service import get_user
from sandbox.crm.cases.service import state_path
from sandbox.crm.codes import default_list
from sandbox.crm.display import field_label
from sandbox.models.crm.service import Case

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"
SUBJECT = "浏览器测试:打印机无法联网"


def chinese(app, *texts: str) -> dict[str, str]:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        found = {text: gettext(text) for text in texts}
        for name in (
            "subject",
            "priority",
            "escalation_level",
            "resolution",
            "satisfaction",
            "callback_comment",
        ):
            found[name] = str(field_label(Case, name))
        found["account"] = str(field_label(Case, "account_id"))
    assert all(zh != en for en, zh in found.items() if en in texts), found
    return found


def status(code: str) -> str:
    return default_list("case_status").get(code).zh


def test_a_case_goes_from_new_through_escalation_to_closed_by_its_buttons(
    page, live_server, login, watch
):
    zh = chinese(
        live_server.app,
        "Cases",
        "New case",
        "Save",
        "Escalate",
        "Reason",
        "Resolve",
        "Callback",
        "Close",
        "Reopen",
        "Case actions",
    )
    login(STUDENT)
    page.goto(live_server.url_for("/crm/accounts/?sort=name"))
    account = page.locator("main table tbody tr").first.get_by_role("link").inner_text()
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="简体中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.get_by_role("link", name=zh["Cases"], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh["Cases"])
    page.get_by_role("link", name=zh["New case"]).click()
    page.get_by_label(zh["subject"]).fill(SUBJECT)
    picker = page.get_by_role("combobox", name=zh["account"])
    picker.fill(account[:5])
    page.get_by_role("option", name=account).click()
    expect(picker).to_have_value(account)
    page.get_by_label(zh["priority"]).select_option("p1")
    page.get_by_role("button", name=zh["Save"]).click()
    expect(page).to_have_url(re.compile(r"/crm/cases/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    badge = page.locator(".case-status")
    expect(badge).to_have_text(status("new"))

    actions = page.get_by_role("group", name=zh["Case actions"])
    expect(actions.get_by_role("button", name=zh["Close"], exact=True)).to_have_count(0)
    actions.get_by_role("link", name=zh["Escalate"], exact=True).click()
    page.get_by_label(zh["escalation_level"]).select_option("1")
    page.get_by_label(zh["Reason"]).fill("客户是重点客户,需要二线支持")
    page.get_by_role("button", name=zh["Escalate"], exact=True).click()
    expect(badge).to_have_text(status("escalated"))

    actions.get_by_role("link", name=zh["Resolve"], exact=True).click()
    page.get_by_label(zh["resolution"]).fill("已远程重置网络设置")
    page.get_by_role("button", name=zh["Resolve"], exact=True).click()
    expect(badge).to_have_text(status("resolved"))

    actions.get_by_role("link", name=zh["Callback"], exact=True).click()
    page.get_by_label(zh["satisfaction"]).select_option("5")
    page.get_by_label(zh["callback_comment"]).fill("处理很及时")
    page.get_by_role("button", name=zh["Callback"], exact=True).click()
    expect(badge).to_have_text(status("callback"))

    actions.get_by_role("button", name=zh["Close"], exact=True).click()
    expect(badge).to_have_text(status("closed"))
    expect(actions.get_by_role("button", name=zh["Close"], exact=True)).to_have_count(0)
    expect(actions.get_by_role("link", name=zh["Reopen"], exact=True)).to_be_visible()
    expect(page.locator(".satisfaction")).to_contain_text("5")

    with live_server.app.app_context():
        tenant = tenancy.student_tenant(get_user(STUDENT))
        with tenancy.tenant_session(tenant) as session:
            case = session.scalar(sa.select(Case).where(Case.subject == SUBJECT))
            assert state_path(case) == [
                "new",
                "escalated",
                "resolved",
                "callback",
                "closed",
            ]
    assert watch.problems == []
