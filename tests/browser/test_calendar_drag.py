"""A student drags a task to another day in the calendar, and it stays there."""

from __future__ import annotations

import datetime as dt

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"


def drag(page, source, target) -> None:
    """Drag ``source`` onto ``target`` with the mouse, in small steps as a hand does."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 4, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 20, start["y"] + 20, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=10)
    page.mouse.up()


def cell(page, day: dt.date):
    return page.locator(f'td.calendar-day[data-day="{day.isoformat()}"]')


def test_a_task_dragged_in_the_calendar_keeps_its_new_date_after_reload(
    page, live_server, login, watch
):
    page.set_viewport_size({"width": 1600, "height": 1200})
    login(STUDENT)
    month = dt.date.today().replace(day=1)
    due, target = month + dt.timedelta(days=9), month + dt.timedelta(days=11)

    page.goto(live_server.url_for("/crm/activities/new?kind=task"))
    page.get_by_label("Subject").fill("Call back Zhang about the quote")
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("saved")

    page.goto(live_server.url_for(f"/crm/calendar/?day={due.isoformat()}"))
    task = cell(page, due).get_by_text("Call back Zhang about the quote")
    expect(task).to_have_count(1)
    drag(page, task, cell(page, target))
    expect(page.locator(".calendar-status")).to_have_class(
        "calendar-status alert alert-success"
    )
    expect(cell(page, target).get_by_text("Call back Zhang")).to_have_count(1)

    page.reload()
    expect(cell(page, target).get_by_text("Call back Zhang")).to_have_count(1)
    expect(cell(page, due).get_by_text("Call back Zhang")).to_have_count(0)
    page.goto(live_server.url_for("/crm/activities/?q=Zhang"))
    page.get_by_role("link", name="Call back Zhang about the quote").click()
    expect(page.locator("main")).to_contain_text("Moved activity")
    assert not watch.problems, watch.problems
    assert not watch.elsewhere(live_server.url), watch.elsewhere(live_server.url)
