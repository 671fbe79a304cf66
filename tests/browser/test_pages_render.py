"""The instructor's pages render cleanly: no script errors, no CSP blocks, all local."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None


def test_instructor_views_a_student_crm_read_only_without_page_errors(
    page, live_server, login, watch
):
    login("instructor", landing="/instructor/")  # staff start at their courses
    expect(page.get_by_role("heading", level=1)).to_have_text("Courses")
    page.get_by_role("link", name="CRM 101").click()
    expect(page).to_have_url(re.compile(r"/instructor/courses/\d+$"))
    roster = page.locator("main table tbody tr")
    expect(roster).to_have_count(5)

    roster.filter(has_text="student1").get_by_role("button", name="View CRM").click()
    expect(page).to_have_url(live_server.url_for("/crm/accounts/"))
    banner = page.get_by_role("status")
    expect(banner).to_contain_text("Read-only view of the CRM of Student 1")
    expect(page.get_by_role("link", name="New account")).to_have_count(0)
    page.locator("main table tbody tr").first.get_by_role("link").click()
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)

    banner.get_by_role("button", name="Stop viewing").click()
    expect(page).to_have_url(re.compile(r"/instructor/courses/\d+$"))
    expect(page.get_by_role("status")).to_have_count(0)
    page.wait_for_load_state("networkidle")

    assert watch.problems == []
    assert watch.elsewhere(live_server.url) == []
