"""Caching, cookies and proxies: what the app tells the browser."""

from __future__ import annotations

from tests.conftest import close_app, make_app
from tests.helpers import PASSWORD


def test_authenticated_pages_are_not_stored_by_caches(client, auth, classroom):
    assert "no-store" not in client.get("/auth/login").headers.get("Cache-Control", "")
    auth.login("alice")
    for url in ("/", "/crm/accounts/", "/crm/accounts/1", "/auth/profile"):
        assert "no-store" in client.get(url).headers["Cache-Control"], url


def test_session_cookie_is_secure_over_https(client, classroom):
    plain = client.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert "Secure" not in _session_cookie(plain)
    client.post("/auth/logout")
    https = client.post(
        "https://localhost/auth/login",
        data={"username": "alice", "password": PASSWORD},
    )
    assert "Secure" in _session_cookie(https)


def test_session_cookie_secure_setting_forces_it(tmp_path, classroom):
    app = make_app(tmp_path / "forced", SESSION_COOKIE_SECURE=True)
    try:
        response = app.test_client().post("/language", data={"language": "zh"})
        assert "Secure" in _session_cookie(response)
    finally:
        close_app(app)


def test_trusted_proxy_headers_are_used_only_when_configured(tmp_path):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    plain = make_app(tmp_path / "plain")
    proxied = make_app(tmp_path / "proxied", TRUSTED_PROXIES=1)
    try:
        response = plain.test_client().post(
            "/language", data={"language": "zh"}, headers=headers
        )
        assert "Secure" not in _session_cookie(response)
        response = proxied.test_client().post(
            "/language", data={"language": "zh"}, headers=headers
        )
        assert "Secure" in _session_cookie(response)
    finally:
        close_app(plain)
        close_app(proxied)


def _session_cookie(response) -> str:
    return next(
        value
        for key, value in response.headers.items()
        if key == "Set-Cookie" and value.startswith("session=")
    )


def test_no_template_writes_an_inline_style_the_policy_would_block():
    """The content security policy allows no inline styles (a folder tree's
    indentation was dropped, with an error in the console, on every visit):
    templates style with classes and the app's style sheets."""
    import re
    from pathlib import Path

    import sandbox
    from sandbox.security import CONTENT_SECURITY_POLICY

    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    templates = Path(sandbox.__file__).parent / "templates"
    inline = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in re.finditer(r"<[^>]*\sstyle=\"[^\"]*\"", path.read_text("utf-8"))
    ]
    assert inline == []
