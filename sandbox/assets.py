"""Static files (the app's and Bootstrap's): versioned URLs that browsers keep.

Every URL built for a static file carries ``v``, a digest of the file's content. A
browser may keep a file fetched with its current ``v`` for a year without asking
again: a changed file gets a new URL. Without this, every page a logged-in student
opened fetched the style sheets, the scripts and the 1 MB icon sprite again, since
pages (which hold the student's records) are ``no-store``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

#: The endpoints that serve static files: Flask's and Bootstrap-Flask's.
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})
ONE_YEAR = 365 * 24 * 60 * 60
_VERSIONS = "sandbox.asset_versions"


def is_static_request() -> bool:
    return request.endpoint in STATIC_ENDPOINTS


def asset_version(endpoint: str, filename: str) -> str | None:
    """The digest of a static file's content, or None when there is no such file.

    It is read once per app; in debug mode every time, so an edited style sheet
    gets its new URL without a restart.
    """
    versions = current_app.extensions.setdefault(_VERSIONS, {})
    key = (endpoint, filename)
    if key not in versions or current_app.debug:
        versions[key] = _digest(_static_folder(endpoint), filename)
    return versions[key]


def _static_folder(endpoint: str) -> str | None:
    if endpoint == "static":
        return current_app.static_folder
    blueprint = current_app.blueprints.get(endpoint.partition(".")[0])
    return blueprint.static_folder if blueprint else None


def _digest(folder: str | None, filename: str) -> str | None:
    path = safe_join(folder, filename) if folder else None
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def add_version(endpoint: str, values: dict) -> None:
    """``url_for`` default: a static file's URL names its version."""
    if endpoint in STATIC_ENDPOINTS and "filename" in values and "v" not in values:
        version = asset_version(endpoint, values["filename"])
        if version is not None:
            values["v"] = version


def cache_versioned_files(response: Response) -> Response:
    """A static file asked for by its current version may be kept for a year."""
    if not is_static_request() or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    wanted = request.args.get("v")
    if wanted and wanted == asset_version(request.endpoint, filename):
        response.cache_control.no_cache = None  # send_file's default
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(cache_versioned_files)
