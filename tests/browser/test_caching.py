"""The browser keeps the style sheets, scripts and icons between a student's pages."""

from __future__ import annotations

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None


def test_the_next_page_loads_no_static_file_again(page, live_server, login):
    app = live_server.app
    login("student1")
    page.goto(live_server.url_for("/crm/accounts/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    page.wait_for_load_state("load")

    served: list[str] = []  # what reached the server
    inner = app.wsgi_app

    def counting(environ, start_response):
        served.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = counting
    try:
        page.goto(live_server.url_for("/crm/contacts/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
        page.wait_for_load_state("load")
    finally:
        app.wsgi_app = inner

    # The page itself, and nothing else: styles, scripts and the icon sprite came
    # from the browser's cache.
    assert served == ["/crm/contacts/"]
    assert page.locator("svg.bi use").count() > 0
