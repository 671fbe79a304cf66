"""A student opens a lesson, does a step in the CRM beside the lesson panel, presses
Check and sees it pass — in English and in Chinese."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.labs.planting import plant_facts
from sandbox.models.control import Course
from sandbox.models.labs import LessonAssignment

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

LESSON = "leads-convert"
TEXTS = (
    "Labs",
    "Work in my CRM",
    "Leads",
    "Mark qualified",
    "Check",
    "Passed",
    "Not yet",
    "Hint %(n)s:",
    "Next step",
    "CRM modules",
)


@pytest.fixture
def lesson_assigned(live_server):
    """The demo course has the lesson assigned; every student has their facts."""
    app = live_server.app
    with app.app_context():
        course = db.session.query(Course).filter_by(code="CRM101").one()
        assigned = db.session.scalars(
            sa.select(LessonAssignment.lesson_id).filter_by(course_id=course.id)
        )
        assert LESSON in set(assigned)
        facts = {}
        for tenant in course.tenants:
            with tenancy.tenant_session(tenant) as session:
                facts[tenant.student.username] = plant_facts(session)
        db.session.remove()
    return facts


def _texts(live_server, lang):
    if lang == "en":
        return {text: text for text in TEXTS}
    with live_server.app.test_request_context(), force_locale("zh_Hans_CN"):
        texts = {text: gettext(text) for text in TEXTS}
    assert texts["Check"] == "检查"
    return texts


@pytest.mark.parametrize(("lang", "student"), [("en", "student1"), ("zh", "student2")])
def test_student_does_a_step_beside_the_panel_and_check_passes(
    page,
    live_server,
    login,
    watch,
    lesson_assigned,
    screenshot,
    await_next_check,
    lang,
    student,
):
    t = _texts(live_server, lang)
    hot_lead = lesson_assigned[student]["hot_lead"]["name"]
    login(student)
    if lang == "zh":
        page.get_by_role("button", name="Language: English").click()
        page.get_by_role("button", name="简体中文", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.get_by_role("link", name=t["Labs"], exact=True).click()
    row = page.locator("tr", has=page.locator(f'a[href$="/{LESSON}"]'))
    row.get_by_role("button", name=t["Work in my CRM"]).click()
    panel = page.locator("#lab-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".lab-step.lab-current")).to_contain_text(hot_lead)

    # A Check before the work fails, names the lead and unlocks the first hint.
    current = panel.locator(".lab-step.lab-current")
    current.get_by_role("button", name=t["Check"]).click()
    expect(current.locator(".lab-result")).to_contain_text(t["Not yet"])
    expect(current.locator(".lab-result")).to_contain_text(hot_lead)
    expect(current.locator(".lab-hint")).to_contain_text(t["Hint %(n)s:"] % {"n": 1})

    # The work, in the CRM, with the panel still beside it.
    modules = page.get_by_role("navigation", name=t["CRM modules"], exact=True)
    modules.get_by_role("link", name=t["Leads"], exact=True).first.click()
    page.locator("main").get_by_role("searchbox").first.fill(hot_lead)
    page.keyboard.press("Enter")
    page.locator("main table").get_by_role("link", name=hot_lead, exact=True).click()
    page.get_by_role("button", name=t["Mark qualified"]).click()
    expect(panel).to_be_visible()

    await_next_check(page)
    current = panel.locator(".lab-step.lab-current")
    current.get_by_role("button", name=t["Check"]).click()
    expect(current.locator(".lab-result")).to_contain_text(t["Passed"])
    expect(panel.locator(".lab-step-tab").first).to_have_class(
        re.compile(r"\bbtn-success\b")
    )
    # The rest of what the panel shows follows at once, without a reload: the
    # lesson's points, the step's mark and its attempts (one Check before this).
    expect(panel.locator(".lab-panel-points")).to_have_text("10 / 40")
    expect(current.locator(".lab-step-passed")).to_be_visible()
    expect(current.locator(".lab-step-open")).to_be_hidden()
    expect(current.locator(".lab-attempts")).to_contain_text("2")
    screenshot(f"labs-check-passed-{lang}")
    # A passed step offers the next one.
    current.get_by_role("button", name=t["Next step"]).click()
    expect(panel.locator(".lab-step.lab-current")).to_have_attribute(
        "data-step", "unqualify"
    )

    # The panel remembers its step and whether it is folded, page after page.
    panel.locator(".lab-step-tab").nth(1).click()
    panel.get_by_role(
        "button", name="Show or hide the lesson" if lang == "en" else "显示或隐藏课程"
    ).click()
    page.reload()
    expect(panel).to_have_class(re.compile(r"\blab-collapsed\b"))
    page.locator(".lab-panel-toggle").click()
    expect(panel.locator(".lab-step.lab-current")).to_have_attribute(
        "data-step", "unqualify"
    )
    assert watch.problems == []
    assert watch.elsewhere(live_server.url) == []
