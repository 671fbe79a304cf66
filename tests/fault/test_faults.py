"""Faults while a class works: resets from the UI and the CLI, and a killed server.

Twenty clients save accounts over HTTP in five tenants of a real server process
while the whole class is reset from the instructor's page and from a CLI process,
then while the server is killed with SIGKILL and started again. No response may be
a 5xx, every write acknowledged after the last reset must be in its tenant, and
every tenant must pass SQLite's integrity check.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.models.control import Role
from tests.conftest import close_app, make_app
from tests.helpers import PASSWORD, make_course, make_student, make_user

STUDENTS = 5
CLIENTS_PER_STUDENT = 4
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``crm-sandbox serve`` in its own process."""

    def __init__(self, instance: Path, port: int) -> None:
        self.instance, self.port = instance, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--instance", str(self.instance)]
            + ["serve", "--port", str(self.port), "--threads", "12"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        for line in self.process.stdout:
            if "is running at" in line:
                break
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.process.stdout.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        if self.process:
            self.process.stdout.close()


class Browser:
    """One user's cookie and CSRF token over plain HTTP."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.statuses: list[int] = []

    def request(self, method: str, path: str, form: dict | None = None):
        from urllib.parse import urlencode

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            body = urlencode(form) if form is not None else None
            headers = {"Cookie": self.cookie} if self.cookie else {}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0]
            self.statuses.append(response.status)
            return response.status, response.getheader("Location") or "", text
        finally:
            conn.close()

    def post_form(self, page: str, form: dict, action: str | None = None):
        _, _, text = self.request("GET", page)
        token = CSRF.search(text)
        assert token, f"no form on {page}"
        return self.request("POST", action or page, {**form, "csrf_token": token[1]})

    def login(self, username: str) -> None:
        status, location, _ = self.post_form(
            "/auth/login", {"username": username, "password": PASSWORD}
        )
        assert status == 302 and location == "/", (username, status)


@dataclass
class Writer:
    """Saves accounts one after another; records what the server acknowledged."""

    port: int
    username: str
    tag: str
    acknowledged: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        browser = Browser(self.port)
        browser.statuses = self.statuses
        n = 0
        while not self.stop.is_set():
            try:
                if not browser.cookie:
                    browser.login(self.username)
                name = f"{self.tag} {n}"
                sent = time.monotonic()
                status, location, _ = browser.post_form(
                    "/crm/accounts/new", {"name": name, "account_type": "customer"}
                )
                if status == 302 and "/crm/accounts/" in location:
                    self.acknowledged.append((name, sent))
                n += 1
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # the server is down: try again
            except AssertionError as error:
                self.errors.append(str(error))
                time.sleep(0.05)


@pytest.fixture
def classroom_instance(tmp_path):
    instance = tmp_path / "instance"
    app = make_app(instance)
    with app.app_context():
        teacher = make_user("teacher", Role.INSTRUCTOR)
        course = make_course(instructors=[teacher])
        for n in range(STUDENTS):
            make_student(course, f"s{n}")
        course_id = course.id
    close_app(app)
    return instance, course_id


def account_names(instance: Path) -> dict[str, set[str]]:
    names = {}
    for path in sorted((instance / "tenants").rglob("*.sqlite")):
        if path.name.endswith(".seed.sqlite"):
            continue
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", path
            rows = conn.execute("SELECT name FROM account")
            names[path.name] = {row[0] for row in rows}
        conn.close()
    return names


def test_a_class_saving_through_resets_and_a_killed_server(classroom_instance):
    instance, course_id = classroom_instance
    server = Server(instance, free_port())
    server.start()
    writers = [
        Writer(server.port, f"s{n % STUDENTS}", f"w{n}")
        for n in range(STUDENTS * CLIENTS_PER_STUDENT)
    ]
    threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
    try:
        for thread in threads:
            thread.start()
        teacher = Browser(server.port)
        teacher.login("teacher")

        # Resets from the instructor's page and from the command line, together.
        resets = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            cli = subprocess.Popen(
                [sys.executable, "-m", "sandbox", "--instance", str(instance)]
                + ["tenant", "reset", "--course", "CRM101"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            page = f"/instructor/courses/{course_id}/reset"
            status, _, _ = teacher.post_form(page, {})
            assert status == 302, status
            _, cli_errors = cli.communicate(timeout=60)
            assert cli.returncode == 0, cli_errors
            resets += 2
        last_reset = time.monotonic()

        # Writes from here on must all survive, through a SIGKILL and a restart.
        time.sleep(1.5)
        server.kill()
        time.sleep(0.3)
        server.start()
        restarted = time.monotonic()
        time.sleep(1.5)
    finally:
        for writer in writers:
            writer.stop.set()
        for thread in threads:
            thread.join(60)
        server.stop()

    names = account_names(instance)
    must_survive = [
        (writer, name)
        for writer in writers
        for name, sent in writer.acknowledged
        if sent > last_reset
    ]
    lost = [
        name
        for writer, name in must_survive
        if not any(name in accounts for accounts in names.values())
    ]
    statuses = [s for w in writers for s in w.statuses] + teacher.statuses
    print(
        f"fault suite: {len(statuses)} responses, {resets} class resets, "
        f"{sum(len(w.acknowledged) for w in writers)} writes acknowledged, "
        f"{len(must_survive)} after the last reset, "
        f"{statuses.count(409)} reload pages"
    )
    assert resets >= 2
    assert len(must_survive) >= 20, len(must_survive)
    assert any(sent > restarted for w in writers for _, sent in w.acknowledged)
    assert not lost, lost[:10]
    assert not [s for s in statuses if s >= 500]
    assert not [e for w in writers for e in w.errors]
