"""The instructor grades, resets a student and sees the heatmap change, in a browser."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from sandbox.cli import DEMO_COURSES
from sandbox.extensions import db
from sandbox.models.control import Course
from sandbox.models.labs import LessonAssignment
from tests.instructor.conftest import LESSONS

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"
ZH_LOCALE = "zh_Hans_CN"


def demo_course() -> Course:
    """The English demo course (call inside an app context)."""
    return db.session.scalar(sa.select(Course).filter_by(code=DEMO_COURSES[0][1]))


def demo_course_id(app) -> int:
    with app.app_context():
        return demo_course().id


def assign_lesson(app) -> int:
    app.config["LESSONS_DIR"] = str(LESSONS)
    with app.app_context():
        course = demo_course()
        db.session.add(
            LessonAssignment(course_id=course.id, lesson_id="accounts-basics")
        )
        db.session.commit()
        return course.id


def say(app, lang: str, text: str) -> str:
    if lang == "en":
        return text
    with app.test_request_context(), force_locale(ZH_LOCALE):
        return gettext(text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_heatmap_shows_a_reset_students_step_failing_again(
    page, live_server, login, watch, screenshot, lang
):
    app = live_server.app
    course_id = assign_lesson(app)
    progress = live_server.url_for(f"/instructor/courses/{course_id}/progress")

    # The student does the step in their CRM.
    login(STUDENT)
    page.goto(live_server.url_for("/crm/accounts/new"))
    page.get_by_label("Name").fill("Heatmap Trading")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Heatmap Trading")
    page.context.clear_cookies()

    login("instructor", landing="/instructor/")
    if lang == "zh":
        page.get_by_role("button", name="Language: English").click()
        page.get_by_role("button", name="简体中文", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto(progress)
    cell = page.locator(f'tr[data-student="{STUDENT}"] td[data-step="first"]')
    expect(cell).to_have_class(re.compile(r"\bheat-none\b"))
    page.get_by_role("button", name=say(app, lang, "Grade the class")).click()
    expect(cell).to_have_class(re.compile(r"\bheat-pass\b"))
    screenshot(f"{lang}-heatmap-passed")

    # Through the cell to the student's result, and from there the reset.
    cell.get_by_role("link").click()
    expect(page.locator("#step-result")).to_be_visible()
    page.get_by_role("link", name=say(app, lang, "Reset"), exact=True).click()
    page.get_by_role("button", name=say(app, lang, "Reset"), exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()

    page.goto(progress)
    page.get_by_role("button", name=say(app, lang, "Grade the class")).click()
    expect(cell).to_have_class(re.compile(r"\bheat-fail\b"))
    screenshot(f"{lang}-heatmap-after-reset")
    assert not watch.problems, watch.problems


def test_resetting_the_class_shows_progress_and_a_summary(
    page, live_server, login, watch
):
    course_id = demo_course_id(live_server.app)
    login("instructor", landing="/instructor/")
    page.goto(live_server.url_for(f"/instructor/courses/{course_id}"))
    page.get_by_role("link", name="Reset the whole class").click()
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator("#reset-progress [data-count]")).to_have_text("5 / 5")
    expect(page.locator("#reset-progress [data-done]")).to_contain_text(
        "5 of 5 student CRMs have been reset"
    )
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    page.get_by_role("link", name="Back to the course").click()
    rows = page.locator("#roster tbody tr")
    expect(rows).to_have_count(5)
    for index in range(5):
        expect(rows.nth(index).locator("td").nth(5)).to_have_text("1")
    assert not watch.problems, watch.problems


def test_a_class_list_shows_its_passwords_then_builds_each_crm_with_progress(
    page, live_server, login, watch
):
    course_id = demo_course_id(live_server.app)
    login("instructor", landing="/instructor/")
    page.goto(live_server.url_for(f"/instructor/courses/{course_id}/roster/import"))
    class_list = "username,name\nnew1,New One\nnew2,New Two\nnew3,New Three\n"
    page.get_by_label("Class list (.csv or .xlsx)").set_input_files(
        files=[
            {"name": "class.csv", "mimeType": "text/csv", "buffer": class_list.encode()}
        ]
    )
    page.locator("main form button[type=submit]").click()

    expect(page.locator("#initial-passwords tbody tr")).to_have_count(3)
    expect(page.locator("#build-progress [data-count]")).to_have_text("3 / 3")
    expect(page.locator("#build-progress [data-done]")).to_contain_text(
        "3 of 3 student CRMs have been built"
    )
    expect(page.get_by_role("button", name="Build the CRMs now")).to_be_disabled()
    page.get_by_role("link", name="Back to the course").click()
    expect(page.locator("#roster tbody tr")).to_have_count(8)
    # Every student has a CRM: no "create the missing CRMs" offer is left.
    expect(page.get_by_role("button", name="Build the missing CRMs")).to_have_count(0)
    assert not watch.problems, watch.problems


LAB_TEXTS = (
    "Labs",
    "Work in my CRM",
    "Leads",
    "Mark qualified",
    "Check",
    "Passed",
    "Not yet",
)


def student_checks_first_step(page, live_server, t):
    """On the Labs page, open the lesson beside the CRM and press Check on the
    current step; returns the result's text."""
    page.goto(live_server.url_for("/"))
    page.get_by_role("link", name=t["Labs"], exact=True).click()
    row = page.locator("tr", has=page.locator('a[href$="/leads-convert"]'))
    row.get_by_role("button", name=t["Work in my CRM"]).click()
    current = page.locator("#lab-panel .lab-step.lab-current")
    current.get_by_role("button", name=t["Check"]).click()
    result = current.locator(".lab-result")
    expect(result).not_to_be_empty()
    return result


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_student_passes_a_step_then_a_reset_makes_it_fail_on_the_heatmap(
    page, live_server, login, watch, await_next_check, lang
):
    """The acceptance flow: the student's Check passes and the heatmap shows it;
    the instructor resets the student, their next Check fails, the heatmap shows
    that too."""
    from sandbox import tenancy
    from sandbox.labs.planting import plant_facts

    app = live_server.app
    student = "student3"
    with app.app_context():
        course = demo_course()  # the demo assigns every lesson, leads-convert too
        course_id = course.id
        tenant = next(t for t in course.tenants if t.student.username == student)
        with tenancy.tenant_session(tenant) as session:
            hot_lead = plant_facts(session)["hot_lead"]["name"]
        db.session.remove()
    t = {text: say(app, lang, text) for text in LAB_TEXTS}

    def switch_language():
        # The choice is kept on the user, so a second login is Chinese already.
        if lang == "zh" and page.locator("html").get_attribute("lang") != "zh-CN":
            page.get_by_role("button", name="Language: English").click()
            page.get_by_role("button", name="简体中文", exact=True).click()
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    login(student)
    switch_language()
    page.goto(live_server.url_for("/crm/leads/"))
    page.locator("main").get_by_role("searchbox").first.fill(hot_lead)
    page.keyboard.press("Enter")
    page.locator("main table").get_by_role("link", name=hot_lead, exact=True).click()
    page.get_by_role("button", name=t["Mark qualified"]).click()
    expect(student_checks_first_step(page, live_server, t)).to_contain_text(t["Passed"])
    page.context.clear_cookies()

    progress = live_server.url_for(
        f"/instructor/courses/{course_id}/progress?lesson=leads-convert"
    )
    cell = page.locator(f'tr[data-student="{student}"] td[data-step="qualify"]')
    login("instructor", landing="/instructor/")
    switch_language()
    page.goto(progress)
    expect(cell).to_have_class(re.compile(r"\bheat-pass\b"))
    cell.get_by_role("link").click()
    page.get_by_role("link", name=say(app, lang, "Reset"), exact=True).click()
    page.get_by_role("button", name=say(app, lang, "Reset"), exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.context.clear_cookies()

    login(student)
    switch_language()
    await_next_check(page)
    result = student_checks_first_step(page, live_server, t)
    expect(result).to_contain_text(t["Not yet"])
    page.context.clear_cookies()

    login("instructor", landing="/instructor/")
    page.goto(progress)
    expect(cell).to_have_class(re.compile(r"\bheat-fail\b"))
    assert not watch.problems, watch.problems


def test_unassigning_a_lesson_asks_first(page, live_server, login, watch):
    course_id = assign_lesson(live_server.app)
    login("instructor", landing="/instructor/")
    page.goto(live_server.url_for(f"/instructor/courses/{course_id}/lessons"))
    rows = page.locator("main table tbody tr")
    before = rows.count()
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    rows.last.get_by_role("button", name="Unassign").click()
    expect(rows).to_have_count(before)  # nothing was sent
    page.once("dialog", lambda dialog: answer(dialog, True))
    rows.last.get_by_role("button", name="Unassign").click()
    expect(rows).to_have_count(before - 1)
    assert len(questions) == 2 and "its results" in questions[0]
    assert not watch.problems, watch.problems
