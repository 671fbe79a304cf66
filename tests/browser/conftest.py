"""Real-browser fixtures: headless Chromium driving the demo class on a live server.

The browser is the system's Chromium (Debian's ``chromium`` package), launched by
Playwright's Python client; no browser is ever downloaded. Without one the tests skip,
unless ``SANDBOX_REQUIRE_BROWSER=1`` (as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from sandbox.cli import DEMO_PASSWORD, build_demo
from sandbox.extensions import db
from tests.conftest import close_app, make_app
from tests.live import LiveServer

HERE = Path(__file__).resolve().parent
MISSING_BROWSER = (
    "Chromium not found: install Debian's chromium package "
    "(or set SANDBOX_CHROMIUM) to run browser tests"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, so only this folder's are marked.
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep each phase's report on the item so ``page`` can tell a failed test.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("SANDBOX_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    """``$SANDBOX_CHROMIUM``, else a Chromium on ``PATH``, else Debian's path."""
    configured = os.environ.get("SANDBOX_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(MISSING_BROWSER)
    executable = find_chromium()
    if executable is None:
        _unavailable(MISSING_BROWSER)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        playwright.stop()
        _unavailable(f"{MISSING_BROWSER} ({executable} failed to start: {exc})")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    """The demo class (``student1``..``student5`` / ``demo``), with CSRF on."""
    app = make_app(tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        build_demo()
        db.session.remove()
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    close_app(app)


@pytest.fixture
def page(browser, live_server, request, tmp_path):
    # Depending on ``live_server`` closes the browser before the server stops.
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        path = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"Screenshot of the failing page: {path}")
        except Exception as exc:  # a broken page must not hide the real failure
            print(f"No screenshot of the failing page: {exc}")
    context.close()


@pytest.fixture
def screenshot(page) -> Callable[[str], Path | None]:
    """``screenshot(name)`` saves a full-page PNG into ``$SANDBOX_SCREENSHOTS``."""
    folder = os.environ.get("SANDBOX_SCREENSHOTS")

    def take(name: str) -> Path | None:
        if not folder:
            return None
        path = Path(folder) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class PageWatch:
    """What a page did that a user would not see: errors, CSP blocks, requests."""

    # Chromium also logs CSP violations to the console; the event is the sure sign.
    CSP_REPORTER = (
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));"
    )

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        self.requests: list[str] = []
        page.add_init_script(self.CSP_REPORTER)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"JS error: {error}"))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)
        page.on("request", lambda request: self.requests.append(request.url))

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.problems.append(f"console error: {message.text} ({where})")

    def _on_request_failed(self, request) -> None:
        # Leaving a page cancels what it still loads (its icon, say): not a fault.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed ({request.failure}): {request.url}")

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def elsewhere(self, origin: str) -> list[str]:
        """The requested URLs that do not belong to ``origin``."""
        return [url for url in self.requests if not url.startswith(f"{origin}/")]


@pytest.fixture
def watch(page) -> PageWatch:
    """Start recording console errors, page errors, failed loads and requests."""
    return PageWatch(page)


@pytest.fixture
def login(page, live_server) -> Callable[..., None]:
    """``login(username)`` logs in through the form and waits for ``landing``."""

    def log_in(
        username: str, password: str = DEMO_PASSWORD, *, landing: str = "/"
    ) -> None:
        page.goto(live_server.url_for("/auth/login"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_server.url_for(landing))

    return log_in


#: Check's pacing in browser tests: the product's three seconds (proven in
#: ``tests/labs``) would only make these tests wait.
CHECK_PACE = dt.timedelta(seconds=0.5)


@pytest.fixture
def await_next_check(monkeypatch) -> Callable[[object], None]:
    """Paces Check to ``CHECK_PACE``; ``await_next_check(page)`` waits that long."""
    from sandbox.labs import service

    monkeypatch.setattr(service, "CHECK_INTERVAL", CHECK_PACE)

    def wait(page) -> None:
        page.wait_for_timeout(CHECK_PACE.total_seconds() * 1000 + 100)

    return wait
