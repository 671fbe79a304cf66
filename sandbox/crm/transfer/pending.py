"""An uploaded file between its preview and its confirmation.

The rows read from the file wait in ``instance/imports/<token>.json``; the token is
random and kept in the user's signed session, together with the module, the user
and the workspace it belongs to, so a confirmation can only import what this user
previewed in this workspace. Files older than :data:`MAX_AGE` are removed.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from flask import current_app, session

from sandbox.crm.transfer.reading import Table

SESSION_KEY = "pending_imports"
MAX_AGE = 3600  # seconds


def _folder() -> Path:
    folder = Path(current_app.instance_path, "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(token: str) -> Path | None:
    if not (token.isascii() and token.replace("-", "").replace("_", "").isalnum()):
        return None
    return _folder() / f"{token}.json"


def _remove_stale() -> None:
    cutoff = time.time() - MAX_AGE
    for path in _folder().glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


def keep(module_key: str, owner: str, filename: str, table: Table) -> str:
    """Keep ``table`` for a later confirmation; returns its token."""
    _remove_stale()
    discard(module_key)
    token = secrets.token_urlsafe(24)
    payload = {
        "module": module_key,
        "owner": owner,
        "filename": filename,
        "headers": table.headers,
        "rows": table.rows,
        "formulas": list(table.formulas.items()),
        "sheet": table.sheet,
    }
    _path(token).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    pending = dict(session.get(SESSION_KEY, {}))
    pending[module_key] = token
    session[SESSION_KEY] = pending
    return token


def load(module_key: str, owner: str, token: str) -> tuple[str, Table] | None:
    """The file name and rows kept under ``token``, if this session kept them for
    ``module_key`` and ``owner``; else None (expired, replaced or not theirs)."""
    if session.get(SESSION_KEY, {}).get(module_key) != token:
        return None
    path = _path(token)
    if path is None or not path.is_file():
        return None
    payload = json.loads(path.read_text("utf-8"))
    if payload.get("module") != module_key or payload.get("owner") != owner:
        return None
    rows = [(line, cells) for line, cells in payload["rows"]]
    formulas = {line: columns for line, columns in payload.get("formulas", [])}
    table = Table(payload["headers"], rows, formulas, payload.get("sheet"))
    return payload["filename"], table


def discard(module_key: str) -> None:
    """Forget the file kept for ``module_key`` in this session, if any."""
    pending = dict(session.get(SESSION_KEY, {}))
    token = pending.pop(module_key, None)
    if token is None:
        return
    session[SESSION_KEY] = pending
    path = _path(token)
    if path is not None:
        path.unlink(missing_ok=True)
