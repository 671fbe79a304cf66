"""Static files: versioned URLs that browsers keep, pages that they never store."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import url_for

from sandbox.assets import ONE_YEAR, asset_version

STATIC_URL = re.compile(r'(?:href|src)="(/(?:static|bootstrap/static)/[^"#]+)')


def static_urls(html: str) -> list[str]:
    return sorted(set(STATIC_URL.findall(html)))


def test_a_logged_in_page_names_each_static_file_by_its_version(
    client, auth, classroom
):
    auth.login("alice")
    page = client.get("/crm/accounts/")
    assert "no-store" in page.headers["Cache-Control"]
    urls = static_urls(page.get_data(as_text=True))
    # The style sheets, the scripts and the icon sprite.
    assert len(urls) >= 5, urls
    for url in urls:
        assert parse_qs(urlsplit(url).query)["v"], url
        with client.get(url) as response:
            assert response.status_code == 200, url
            cache = response.cache_control
        assert cache.max_age == ONE_YEAR and cache.public and cache.immutable, url
        assert not cache.no_store and not cache.no_cache, url


def test_a_file_asked_for_without_its_current_version_is_checked_again(
    client, auth, classroom
):
    auth.login("alice")
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.cache_control.no_cache, url
            assert response.cache_control.max_age is None, url


def test_the_version_follows_the_content(app, tmp_path):
    folder = tmp_path / "static"
    folder.mkdir()
    app.static_folder = str(folder)
    (folder / "a.css").write_text("body { color: red }")
    (folder / "b.css").write_text("body { color: blue }")
    (folder / "c.css").write_text("body { color: red }")
    with app.test_request_context():
        versions = {n: asset_version("static", f"{n}.css") for n in "abc"}
        assert None not in versions.values()
        assert versions["a"] != versions["b"]
        assert versions["a"] == versions["c"]  # the same bytes, the same version
        assert url_for("static", filename="b.css") == f"/static/b.css?v={versions['b']}"


def test_a_missing_file_gets_a_plain_url_and_a_404(client, app):
    with app.test_request_context():
        url = url_for("static", filename="no/such/file.css")
        assert url == "/static/no/such/file.css"
        # A name outside the folder is never read to compute a version.
        assert "v=" not in url_for("static", filename="../../config.py")
    assert client.get(url).status_code == 404


def test_in_debug_mode_an_edited_file_gets_its_new_version_at_once(app, tmp_path):
    folder = tmp_path / "static"
    folder.mkdir()
    app.static_folder = str(folder)
    sheet = folder / "a.css"
    sheet.write_text("body { color: red }")
    with app.test_request_context():
        before = url_for("static", filename="a.css")
        sheet.write_text("body { color: blue }")
        assert url_for("static", filename="a.css") == before  # read once
        app.debug = True
        assert url_for("static", filename="a.css") != before


def test_an_icon_points_into_the_versioned_sprite(app):
    from sandbox.templating import icon

    with app.test_request_context():
        sprite = url_for("bootstrap.static", filename="icons/bootstrap-icons.svg")
        assert "?v=" in sprite
        assert str(icon("inbox", size="2.5em")) == (
            '<svg class="bi" width="2.5em" height="2.5em" fill="currentColor" '
            f'aria-hidden="true"><use href="{sprite}#inbox"/></svg>'
        )
        assert str(icon("x<y")).endswith(f'<use href="{sprite}#x&lt;y"/></svg>')
