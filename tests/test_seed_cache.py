"""The seed-file cache: a tenant built once per key is copied afterwards."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

import sandbox.scenarios
from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import Course, Role
from tests.conftest import close_app, make_app
from tests.helpers import make_course, make_user

DAY = date(2026, 9, 1)


@pytest.fixture
def builds(monkeypatch):
    """Every call of the scenario builder, as (scenario, seed, day)."""
    calls = []
    real = sandbox.scenarios.build_scenario

    def counting(path, scenario, seed, *, today=None):
        calls.append((scenario, seed, today))
        real(path, scenario, seed, today=today)

    monkeypatch.setattr(sandbox.scenarios, "build_scenario", counting)
    return calls


def provision(app, code: str, username: str, seed: int) -> bytes:
    """Provision a student with variant ``seed``; returns the seed file's bytes."""
    with app.app_context():
        course = db.session.scalar(
            sa.select(Course).filter_by(code=code)
        ) or make_course(code, code)
        tenant = tenancy.provision_tenant(
            course, make_user(username, Role.STUDENT), variant_seed=seed, today=DAY
        )
        db.session.commit()
        working = tenancy.tenant_path(tenant.file_path).read_bytes()
        seed_bytes = tenancy.tenant_path(tenant.seed_path).read_bytes()
        assert working == seed_bytes
        return seed_bytes


@pytest.fixture
def cached_app(tmp_path):
    app = make_app(tmp_path / "instance", SEED_CACHE_DIR=str(tmp_path / "cache"))
    yield app
    close_app(app)


def test_the_same_key_is_built_once_and_copied_afterwards(cached_app, tmp_path, builds):
    first = provision(cached_app, "A1", "ann", 7)
    second = provision(cached_app, "B1", "ben", 7)
    assert builds == [("default", 7, DAY)]
    assert first == second
    assert len(list((tmp_path / "cache").glob("*.sqlite"))) == 1


def test_another_seed_is_built_anew(cached_app, tmp_path, builds):
    provision(cached_app, "A1", "ann", 7)
    other = provision(cached_app, "A1", "ben", 8)
    assert builds == [("default", 7, DAY), ("default", 8, DAY)]
    assert other != provision(cached_app, "A1", "cat", 7)
    assert len(list((tmp_path / "cache").glob("*.sqlite"))) == 2


def test_a_schema_change_never_serves_a_stale_file(cached_app, builds, monkeypatch):
    provision(cached_app, "A1", "ann", 7)
    monkeypatch.setattr(tenancy, "_build_fingerprint", lambda: "another schema")
    provision(cached_app, "A1", "ben", 7)
    assert len(builds) == 2


def test_a_cached_build_is_byte_identical_to_a_direct_build(
    cached_app, tmp_path, builds
):
    plain = make_app(tmp_path / "plain", SEED_CACHE_DIR=None)
    try:
        direct = provision(plain, "A1", "ann", 7)
    finally:
        close_app(plain)
    assert not (tmp_path / "cache").exists()
    provision(cached_app, "A1", "ann", 7)  # fills the cache
    assert provision(cached_app, "A1", "ben", 7) == direct
    assert len(builds) == 2  # the direct build, then the cache's only build


def test_the_suite_runs_with_a_seed_cache(app, seed_cache):
    assert app.config["SEED_CACHE_DIR"] == seed_cache


def test_apps_created_later_keep_the_fingerprint_already_computed(tmp_path):
    first = make_app(tmp_path / "one")
    close_app(first)
    tenancy._build_fingerprint()
    second = make_app(tmp_path / "two")  # adds the same seed finishers again
    close_app(second)
    assert tenancy._build_fingerprint.cache_info().currsize == 1
