"""A student moves deals on the pipeline (kanban) in a real browser, in Chinese."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

from sandbox.cli import DEMO_PASSWORD

STUDENT = "student1"


@pytest.fixture
def zh_page(browser, live_server):
    """A page whose browser asks for Simplified Chinese."""
    # Big enough to show the whole board, so the mouse never has to scroll.
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 3200, "height": 4000}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.problems = problems
    page.goto(live_server.url_for("/auth/login"))
    page.locator("#username").fill(STUDENT)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(live_server.url_for("/"))
    yield page
    context.close()


def drag(page, source, target) -> None:
    """Drag ``source`` onto ``target`` with the mouse, in small steps as a hand does
    (grabbing the card by its edge, not by its link or select)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 4, start["y"] + 4)
    page.mouse.down()
    page.mouse.move(start["x"] + 24, start["y"] + 24, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 40, steps=10)
    page.mouse.up()


def column(page, stage_id: str):
    return page.locator(f'.kanban-column[data-stage-id="{stage_id}"]')


def test_student_drags_a_card_to_another_stage_and_it_stays_there(zh_page, live_server):
    page = zh_page
    page.goto(live_server.url_for("/crm/opportunities/pipeline"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("销售管道")
    expect(column(page, "2").get_by_role("heading")).to_contain_text("需求确认")

    card_id = column(page, "1").locator(".kanban-card").first.get_attribute("data-id")
    card = page.locator(f'.kanban-card[data-id="{card_id}"]')
    before = int(column(page, "2").locator('[data-summary="count"]').inner_text())
    # Grab the card by its edge, as a person does (not by its link or select).
    drag(page, card, column(page, "2"))
    expect(page.locator(".kanban-status")).to_have_class(
        "kanban-status alert alert-success"
    )
    expect(column(page, "2").locator(f'[data-id="{card_id}"]')).to_have_count(1)
    expect(column(page, "2").locator('[data-summary="count"]')).to_have_text(
        str(before + 1)
    )

    page.reload()
    expect(column(page, "2").locator(f'[data-id="{card_id}"]')).to_have_count(1)
    expect(column(page, "1").locator(f'[data-id="{card_id}"]')).to_have_count(0)

    # Dropped on Closed Lost without a reason: refused, the card stays put.
    moved = column(page, "2").locator(f'[data-id="{card_id}"]')
    drag(page, moved, column(page, "10"))
    status = page.locator(".kanban-status")
    expect(status).to_contain_text("请选择丢单原因")
    expect(status.get_by_role("link")).to_have_attribute(
        "href", f"/crm/opportunities/{card_id}/close-lost"
    )
    page.reload()
    expect(column(page, "2").locator(f'[data-id="{card_id}"]')).to_have_count(1)
    assert page.problems == []


def test_keyboard_users_move_a_card_with_its_move_to_control(zh_page, live_server):
    page = zh_page
    page.goto(live_server.url_for("/crm/opportunities/pipeline"))
    card = column(page, "3").locator(".kanban-card").first
    card_id = card.get_attribute("data-id")
    select = page.get_by_label(f"将“{card.locator('.card-name').inner_text()}”移至")
    select.focus()
    select.select_option("7")
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="移动")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url_for("/crm/opportunities/pipeline"))
    expect(page.get_by_role("alert")).to_contain_text("已移至")
    expect(column(page, "7").locator(f'[data-id="{card_id}"]')).to_have_count(1)
    assert page.problems == []
