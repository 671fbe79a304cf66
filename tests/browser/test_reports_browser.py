"""Reports in a real browser, in Chinese: the charts are drawn from the local
Chart.js, with no console error and nothing fetched from another host."""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"

#: How many pixels of a canvas are painted (not fully transparent).
PAINTED = """id => {
  const canvas = document.getElementById(id);
  if (!canvas || !canvas.chart) return 0;
  const data = canvas.getContext('2d')
    .getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
  return painted;
}"""


def wait_until_painted(page, canvas_id: str, pixels: int = 1) -> None:
    """Wait until the chart on ``canvas_id`` has painted at least ``pixels``
    (Chart.js draws after the page has loaded, and animates)."""
    page.wait_for_function(
        f"([id, least]) => ({PAINTED})(id) >= least", arg=[canvas_id, pixels]
    )


def chinese(app, *texts: str) -> dict[str, str]:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        found = {text: gettext(text) for text in texts}
    assert all(zh != en for en, zh in found.items()), found
    return found


def test_a_report_draws_its_chart_in_chinese_from_local_files(
    page, live_server, login, watch
):
    zh = chinese(
        live_server.app,
        "Reports",
        "Pipeline by stage",
        "Open pipeline by stage",
        "7P customer analysis",
        "Weighted amount",
        "Apply",
        "Segment by",
        "Company size",
        "Key figures",
        "All seven",
    )
    login(STUDENT)
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="简体中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # The workbench's four key figures each draw a small chart.
    for key in ("pipeline", "won", "cases", "leads"):
        canvas = page.locator(f"#mini-{key}")
        expect(canvas).to_be_visible()
        wait_until_painted(page, f"mini-{key}")

    page.get_by_role("link", name=zh["Reports"], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh["Reports"])
    page.get_by_role("link", name=zh["Pipeline by stage"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh["Pipeline by stage"])
    chart = page.get_by_role("img", name=zh["Open pipeline by stage"])
    expect(chart).to_be_visible()
    assert chart.get_attribute("aria-describedby") == "table-stages"
    expect(page.locator("#table-stages")).to_contain_text(zh["Weighted amount"])
    wait_until_painted(page, "chart-stages", 1001)
    # The chart's labels are the stages in Chinese.
    labels = page.evaluate("document.getElementById('chart-stages').chart.data.labels")
    assert "初步接洽" in labels

    page.goto(live_server.url_for("/crm/reports/7p"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        zh["7P customer analysis"]
    )
    page.get_by_label(zh["Segment by"]).select_option("size")
    page.get_by_role("button", name=zh["Apply"]).click()
    expect(page).to_have_url(re.compile(r"[?&]segment=size"))
    expect(page.locator("#table-profiling")).to_contain_text(zh["Company size"])
    page.get_by_role("link", name=zh["All seven"]).click()
    expect(page).to_have_url(re.compile(r"[?&]p=all"))
    expect(page.locator("#section-promotion")).to_be_visible()
    canvases = page.locator("canvas[id^='chart-']")
    assert canvases.count() >= 7
    for index in range(canvases.count()):
        wait_until_painted(page, canvases.nth(index).get_attribute("id"))

    assert watch.problems == []
    assert watch.elsewhere(live_server.url) == []
    assert any("/static/vendor/chartjs/chart.umd.min.js" in u for u in watch.requests)
