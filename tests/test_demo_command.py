"""The README's demo command, run for real: it serves; student1 sees only their CRM."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    instance = tmp_path / "instance"
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SANDBOX_INSTANCE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--instance",
            str(instance),
            "demo",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if "is running at" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(120), "".join(lines)
        yield f"http://127.0.0.1:{port}", instance, "".join(lines)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        reader.join(5)


def account_names(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM account")}
    finally:
        conn.close()


def test_demo_serves_and_student1_sees_only_their_own_crm(demo_server):
    url, instance, output = demo_server
    assert "instructor  / demo" in output and "student1" in output
    assert re.search(r"admin\s+/ \S+", output)
    assert f"running at {url}/" in output

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login_page = opener.open(f"{url}/auth/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    data = urllib.parse.urlencode(
        {"username": "student1", "password": "demo", "csrf_token": token}
    ).encode()
    home = opener.open(f"{url}/auth/login", data=data)
    assert home.url == f"{url}/"
    page = opener.open(f"{url}/crm/accounts/?per_page=100").read().decode()

    control = sqlite3.connect(instance / "sandbox.db")
    try:
        files = dict(
            control.execute(
                "SELECT user.username, tenant.file_path FROM tenant "
                "JOIN user ON user.id = tenant.student_id"
            )
        )
    finally:
        control.close()
    mine = account_names(instance / files["student1"])
    theirs = account_names(instance / files["student2"]) - mine
    shown = set(re.findall(r'<a href="/crm/accounts/\d+">([^<]+)</a>', page))
    assert shown == {name.replace("&", "&amp;").replace("'", "&#39;") for name in mine}
    assert not shown & theirs
