"""A throw-away CRM Sandbox instance for a benchmark: the app, its control
database created, every engine closed at the end; and the same instance opened
again to serve requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def bench_app(folder: Path, **config: Any) -> Iterator[Any]:
    """``create_app()`` on ``folder/instance`` with cheap password hashing, inside
    an app context, the control database created; engines disposed on exit."""
    from sandbox.extensions import db

    with serving_app(folder, **config) as app, app.app_context():
        db.create_all(bind_key=None)
        yield app


@contextmanager
def serving_app(folder: Path, **config: Any) -> Iterator[Any]:
    """The instance in ``folder`` for requests: no application context is held
    around them (one would be shared by every request, with its ``g``)."""
    from sandbox import create_app
    from sandbox.extensions import db

    app = create_app(
        {
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **config,
        }
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
