"""A student runs a campaign through the real pages: creates it, ticks leads in a
filtered list, marks them responded, and submits a forecast."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"


def test_student_invites_leads_and_records_their_responses(
    page, live_server, login, watch, screenshot
):
    login(STUDENT)
    page.goto(live_server.url_for("/crm/campaigns/new"))
    page.get_by_label("Campaign name").fill("Robotics expo 2026")
    page.get_by_label("Type").select_option("event")
    page.get_by_label("Actual cost").fill("1,000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robotics expo 2026")

    page.get_by_role("link", name="Add leads from a list").click()
    page.get_by_label("Lead status").select_option("new")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    ticked = rows.count()
    page.get_by_label("Tick every record on this page").check()
    expect(page.locator("input[name=ids]:checked")).to_have_count(ticked)
    screenshot("campaign-add-members")
    page.get_by_role("button", name="Add the ticked records").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        f"{ticked} added to the campaign"
    )

    members = page.locator("table.member-list tbody tr")
    expect(members).to_have_count(min(ticked, 20))
    members.first.get_by_role("checkbox").check()
    page.get_by_label("New status").select_option("responded")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#result-responded")).to_have_text("1")
    expect(page.locator("#result-members")).to_have_text(str(ticked))
    expect(page.locator("#result-roi")).to_have_text(re.compile(r"^-100\.0%$"))
    screenshot("campaign-detail")

    page.goto(live_server.url_for("/crm/forecasts/forecast?owner=team"))
    page.get_by_label("Adjustment", exact=True).fill("-500")
    page.get_by_label("Reason for the adjustment").fill("A deal may slip")
    screenshot("forecast-page")
    page.get_by_role("button", name="Submit forecast").click()
    expect(page.locator("#frozen-forecast")).to_be_visible()
    screenshot("forecast-submission")
    assert watch.problems == []
