"""Layout in a real browser: long names wrap, labels and numbers never break, phones
see content first, pickers work."""

from __future__ import annotations

import re
from collections.abc import Iterator

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
#: Taller than one line of a table header (about 41 px) but short of two (about 64).
ONE_LINE = 56
LONG_NAME = "Unbroken" + "X" * 192  # 200 characters and nowhere to break

#: Elements (tag, id, class, right edge) that reach past the window's right edge.
OVERFLOW_SCRIPT = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    // Off-canvas panels and screen-reader-only text are not laid out on the page.
    if (box.width === 0 || el.closest('.offcanvas-md, .visually-hidden')) continue;
    if (box.right > width + 1) {
      wide.push(`${el.tagName}.${el.className} right=${Math.round(box.right)}`);
    }
  }
  return {width, scroll: document.documentElement.scrollWidth, wide};
}"""


def assert_fits(page, *, strict: bool = True) -> None:
    """Nothing is wider than the window (``strict``), or at least the page itself
    does not scroll sideways (a wide table may scroll inside its own box)."""
    page.wait_for_load_state("load")  # measured with the style sheets applied
    result = page.evaluate(OVERFLOW_SCRIPT)
    assert result["scroll"] <= result["width"], result
    if strict:
        assert result["wide"] == [], result


def test_a_200_character_name_never_widens_the_page(page, live_server, login):
    page.set_viewport_size({"width": 1366, "height": 900})
    login("student1")
    page.goto(live_server.url_for("/crm/accounts/new"))
    page.get_by_label("Account name").fill(LONG_NAME)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(LONG_NAME[:40])
    assert_fits(page)  # the detail page, with the flash message and heading

    detail_url = page.url
    page.goto(live_server.url_for("/crm/accounts/?sort=name&dir=desc"))
    expect(page.locator("main table")).to_contain_text(LONG_NAME[:40])
    assert_fits(page)
    header = page.locator("main table thead th").first
    assert header.bounding_box()["height"] < ONE_LINE  # never stacked

    page.goto(f"{detail_url}/edit")
    assert_fits(page)
    page.goto(f"{detail_url}/delete")
    assert_fits(page)


def test_chinese_list_headers_stay_on_one_line(page, live_server, login):
    page.set_viewport_size({"width": 1366, "height": 900})
    login("student1")
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="简体中文", exact=True).click()
    page.goto(live_server.url_for("/crm/contacts/"))
    for header in page.locator("main table thead th").all():
        box = header.bounding_box()
        assert box["height"] < ONE_LINE, header.inner_text()
    assert_fits(page)


def test_on_a_phone_the_content_comes_first_and_the_menu_opens_on_demand(
    page, live_server, login
):
    page.set_viewport_size({"width": 390, "height": 844})
    login("student1")
    page.goto(live_server.url_for("/crm/accounts/"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Accounts")
    assert heading.bounding_box()["y"] < 844 / 2
    sidebar = page.locator("#sidebar")
    expect(sidebar).not_to_be_visible()
    assert_fits(page, strict=False)

    page.get_by_role("button", name="CRM modules").click()
    expect(sidebar).to_be_visible()
    sidebar.get_by_role("link", name="Contacts").click()
    expect(page).to_have_url(live_server.url_for("/crm/contacts/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")


def test_the_record_picker_finds_an_account_as_you_type(page, live_server, login):
    login("student1")
    page.goto(live_server.url_for("/crm/accounts/?sort=name"))
    account = page.locator("main table tbody tr").first.get_by_role("link").inner_text()
    page.goto(live_server.url_for("/crm/contacts/new"))
    page.get_by_label("Last name").fill("Picker")
    picker = page.get_by_role("combobox", name="Account")
    picker.fill(account[:5])
    option = page.get_by_role("option", name=account)
    expect(option).to_be_visible()
    page.wait_for_load_state("networkidle")  # the answer to what was typed is in
    picker.press("ArrowDown")
    # The first suggestion is highlighted; Enter takes the highlighted one.
    first = page.get_by_role("option").first.inner_text()
    picker.press("Enter")
    expect(picker).to_have_value(first)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/crm/contacts/\d+$"))
    expect(page.locator("main")).to_contain_text(first)


#: The elements matching a selector whose text the browser broke over two lines.
WRAPPED_SCRIPT = """selector => {
  const wrapped = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.offsetParent === null) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const rects = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest('.visually-hidden')) {
        continue;
      }
      const range = document.createRange();
      range.selectNodeContents(node);
      rects.push(...[...range.getClientRects()].filter(r => r.width > 0));
    }
    // A new line starts below the middle of the line before it.
    rects.sort((a, b) => a.top - b.top);
    let lines = 0, last = null;
    for (const rect of rects) {
      if (last === null || rect.top > (last.top + last.bottom) / 2) {
        lines += 1;
        last = rect;
      }
    }
    if (lines > 1) wrapped.push(`${el.innerText.trim()} (${lines} lines)`);
  }
  return wrapped;
}"""


#: Button labels, table headers, figures (right-aligned cells), the dates and record
#: numbers of list tables, the pipeline's sums, the labels of a record's details.
NEVER_WRAPPED = (
    "main .btn, main .nav-link, main thead th, main td.text-end, main td.text-nowrap,"
    " main .kanban-summary dd, main .figure-value, main dl.row > dt"
)


def every_module_page(page, live_server) -> Iterator[str]:
    """Opens, one after another, the workbench, every page of the sidebar, the
    pipeline, and the first record of every list; yields each path once it loaded."""
    sidebar = page.locator("#sidebar a[href^='/']")
    paths = ["/", *dict.fromkeys(a.get_attribute("href") for a in sidebar.all())]
    assert len(paths) > 15, paths  # every module of the registry, and more
    paths.append("/crm/opportunities/pipeline")  # columns of figures, side by side
    records = []
    for path in paths:
        page.goto(live_server.url_for(path))
        page.wait_for_load_state("load")  # measured with the style sheets applied
        yield path
        first = page.locator("main table.record-list tbody tr td:first-child a")
        if first.count():
            records.append(first.first.get_attribute("href"))
    assert len(records) > 15, records  # and each list's first record
    for path in records:
        page.goto(live_server.url_for(path))
        page.wait_for_load_state("load")
        yield path


def test_every_module_page_keeps_its_figures_whole_and_fits_a_phone(
    page, live_server, login
):
    """In Chinese, at 1366 px no label, header or figure breaks over two lines; at
    390 px the page never scrolls sideways (a wide table scrolls in its own box)."""
    page.set_viewport_size(DESKTOP)
    login("xuesheng1")  # a Chinese course's student: the pages speak Chinese
    # Pages are at their narrowest beside the lab panel, as a student doing a
    # lesson sees them.
    page.goto(live_server.url_for("/labs/"))
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("#lab-panel")).to_be_visible()
    wrapped, sideways = {}, {}
    for path in every_module_page(page, live_server):
        if found := page.evaluate(WRAPPED_SCRIPT, NEVER_WRAPPED):
            wrapped[path] = found
        page.set_viewport_size(PHONE)
        result = page.evaluate(OVERFLOW_SCRIPT)
        if result["scroll"] > result["width"]:
            sideways[path] = result["scroll"]
        page.set_viewport_size(DESKTOP)
    assert wrapped == {}
    assert sideways == {}


def test_a_product_name_keeps_its_width_beside_huge_figures(page, live_server, login):
    """A billion units make the figures wide; the table then scrolls in its box
    instead of breaking the product's name a character a line."""
    page.set_viewport_size(DESKTOP)
    login("student1")
    page.goto(live_server.url_for("/crm/opportunities/?warning=open"))
    page.locator("main table.record-list tbody tr td:first-child a").first.click()
    page.get_by_role("link", name="Add a product").click()
    page.get_by_label("Product").select_option(index=1)
    page.get_by_label("Quantity").fill("1000000000")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main td.line-product").first).to_be_visible()
    widths = page.locator("main td.line-product").evaluate_all(
        "cells => cells.map(cell => cell.getBoundingClientRect().width)"
    )
    assert min(widths) >= 140, widths
    assert_fits(page, strict=False)


def test_beside_the_panel_english_labels_and_the_points_keep_their_words_whole(
    page, live_server, login
):
    """A side card beside the lesson panel is narrow: its labels sit above their
    values rather than break inside a word ("Discount justificati/on"), and the
    panel's points stay on one line."""
    page.set_viewport_size(DESKTOP)
    login("student1")
    page.goto(live_server.url_for("/labs/"))
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("#lab-panel")).to_be_visible()
    page.goto(live_server.url_for("/crm/contracts/"))
    page.locator("main table.record-list tbody tr td:first-child a").first.click()
    page.wait_for_load_state("load")
    approval = "main .col-lg-5 dl.row > dt"
    assert page.locator(approval).count() >= 4
    assert page.evaluate(WRAPPED_SCRIPT, approval) == []
    assert page.evaluate(WRAPPED_SCRIPT, "#lab-panel .lab-panel-points") == []


def test_the_users_table_scrolls_on_a_phone_instead_of_breaking_words(
    page, live_server, login
):
    from sandbox.models.control import Role
    from tests.helpers import PASSWORD, make_user

    with live_server.app.app_context():
        make_user("root", Role.ADMIN)
    page.set_viewport_size(PHONE)
    login("root", PASSWORD, landing="/instructor/")
    page.goto(live_server.url_for("/admin/users"))
    page.wait_for_load_state("load")
    cells = "#users tbody td:nth-child(1), #users tbody td:nth-child(6)"
    assert page.locator(cells).count() > 10
    assert page.evaluate(WRAPPED_SCRIPT, cells) == []
    assert_fits(page, strict=False)  # the page itself never scrolls sideways
