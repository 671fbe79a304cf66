"""Built scenarios shared by the scenario tests: each (scenario, seed) built once."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from sandbox.scenarios import build_scenario

#: The provisioning day the tests build on (the data is relative to it).
DAY = dt.date(2026, 9, 1)
SCENARIO_IDS = ("b2b-software", "telecom-service", "precision-moulds")
CHINESE = ("telecom-service", "precision-moulds")


class Built:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[tuple, tuple[Path, dict]] = {}

    def __call__(self, scenario: str, seed: int = 7, today: dt.date = DAY):
        key = (scenario, seed, today)
        if key not in self._cache:
            path = self.folder / f"{scenario}-{seed}-{today.isoformat()}.sqlite"
            facts = build_scenario(path, scenario, seed, today=today)
            self._cache[key] = (path, facts)
        return self._cache[key]


@pytest.fixture(scope="session")
def built(tmp_path_factory, app_for_models) -> Built:
    return Built(tmp_path_factory.mktemp("scenarios"))


@pytest.fixture(scope="session")
def app_for_models(tmp_path_factory):
    """An app, so every CRM module (and its code lists) is imported."""
    from tests.conftest import close_app, make_app

    app = make_app(tmp_path_factory.mktemp("models") / "instance")
    yield app
    close_app(app)


def query(path: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def dicts(path: Path, sql: str, *params) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()
