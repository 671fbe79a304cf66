"""The app factory: configuration layers, the secret key, headers and error pages."""

from __future__ import annotations

import re

import pytest

from sandbox import create_app
from sandbox.config import ConfigError
from tests.conftest import make_app


def test_config_layers_defaults_then_instance_file_then_environment(
    tmp_path, monkeypatch
):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text("PAGE_SIZE = 50\nLOGIN_MAX_FAILURES = 9\n")
    monkeypatch.setenv("SANDBOX_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("SANDBOX_TENANT_RESET_WAIT", "2")
    app = create_app({"INSTANCE_PATH": str(instance)})
    assert app.config["PAGE_SIZE"] == 50  # from instance/config.py
    assert app.config["LOGIN_MAX_FAILURES"] == 3  # the environment wins
    assert app.config["TENANT_RESET_WAIT"] == 2.0
    monkeypatch.setenv("SANDBOX_SOMETHING_ELSE", "1")
    assert "SOMETHING_ELSE" not in create_app({"INSTANCE_PATH": str(instance)}).config
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("inst/sandbox.db")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "SANDBOX_SERVER_THREADS",
            "not json",
            "must be a whole number, not 'not json'",
        ),
        ("SANDBOX_TENANT_RESET_WAIT", "abc", "must be a number, not 'abc'"),
        ("SANDBOX_PAGE_SIZE", "2.5", "must be a whole number"),
    ],
)
def test_a_setting_of_the_wrong_kind_is_named_in_a_clear_error(
    tmp_path, monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name} {message}"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_an_instance_path_that_is_a_file_is_refused_clearly(tmp_path):
    taken = tmp_path / "backup.zip"
    taken.write_bytes(b"PK")
    with pytest.raises(ConfigError, match="backup.zip cannot be used: File exists"):
        create_app({"INSTANCE_PATH": str(taken)})


def test_sandbox_instance_selects_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_INSTANCE", str(tmp_path / "chosen"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "chosen")
    assert (tmp_path / "chosen").is_dir()


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    key = (tmp_path / "secret_key").read_text()
    assert len(key) == 64 and first.secret_key == second.secret_key == key
    other = create_app({"INSTANCE_PATH": str(tmp_path / "elsewhere")})
    assert other.secret_key != key


def test_security_headers_on_every_response(client):
    for url in ("/auth/login", "/static/css/app.css", "/no-such-page"):
        with client.get(url) as response:  # closes the streamed static file
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_other_sites(client, auth, classroom):
    auth.login("alice")
    for url in ("/", "/crm/accounts/", "/crm/accounts/1", "/crm/contacts/new"):
        page = client.get(url).get_data(as_text=True)
        assert not [
            src
            for src in re.findall(r'(?:src|href)="(https?:)?//', page)
            if src is not None
        ], url
        assert "<script>" not in page and " style=" not in page  # CSP: no inline code


def test_bootstrap_is_served_locally(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "/bootstrap/static/css/bootstrap.min.css" in page
    for asset in ("css/bootstrap.min.css", "js/bootstrap.min.js"):
        with client.get(f"/bootstrap/static/{asset}") as response:
            assert response.status_code == 200


def test_unexpected_errors_show_a_friendly_page_without_a_trace(tmp_path):
    app = make_app(tmp_path / "inst", TESTING=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page and "secret internals" not in page
    assert "Traceback" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/crm/accounts/abc",
        "/crm/accounts/-1",
        "/crm/accounts/99999999999999999999999",
        "/crm/accounts/?page=-5&per_page=7&sort=%00",
        "/crm/contacts/?q=%25%27%22%3B--",
    ],
)
def test_odd_urls_never_cause_a_server_error(client, auth, classroom, url):
    auth.login("alice")
    assert client.get(url).status_code in (200, 404)


def test_wrong_method_is_a_friendly_405(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405 and "Not allowed" in response.get_data(
        as_text=True
    )


def test_staff_without_a_workspace_get_a_clear_page(client, auth, classroom):
    auth.login("teacher")
    response = client.get("/crm/accounts/")
    assert response.status_code == 404
    assert "No CRM workspace" in response.get_data(as_text=True)
