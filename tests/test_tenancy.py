"""Provisioning, reset, snapshots and the engine cache of tenant databases."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import AuditEvent, Tenant
from sandbox.models.crm import Account, AuditLog
from sandbox.scenarios import build_scenario
from tests.conftest import close_app, make_app
from tests.helpers import make_account


def rows(path, table):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
    finally:
        conn.close()


def test_same_scenario_and_seed_build_the_same_data(tmp_path):
    day = date(2026, 9, 1)
    build_scenario(tmp_path / "a.sqlite", "default", 7, today=day)
    build_scenario(tmp_path / "b.sqlite", "default", 7, today=day)
    build_scenario(tmp_path / "c.sqlite", "default", 8, today=day)
    for table in ("account", "contact", "tenant_info"):
        assert rows(tmp_path / "a.sqlite", table) == rows(tmp_path / "b.sqlite", table)
    assert rows(tmp_path / "a.sqlite", "account") != rows(
        tmp_path / "c.sqlite", "account"
    )
    assert len(rows(tmp_path / "a.sqlite", "account")) == 50
    assert len(rows(tmp_path / "a.sqlite", "contact")) == 100


def test_scenario_dates_follow_the_provisioning_day(tmp_path):
    build_scenario(tmp_path / "old.sqlite", "default", 7, today=date(2020, 1, 1))
    build_scenario(tmp_path / "new.sqlite", "default", 7, today=date(2026, 1, 1))
    old = max(
        r[0]
        for r in sqlite3.connect(tmp_path / "old.sqlite").execute(
            "SELECT created_at FROM account"
        )
    )
    new = max(
        r[0]
        for r in sqlite3.connect(tmp_path / "new.sqlite").execute(
            "SELECT created_at FROM account"
        )
    )
    assert old.startswith("2019") and new.startswith("2025")


def test_unknown_scenario_names_the_known_ones(tmp_path):
    with pytest.raises(KeyError, match="known scenarios: b2b-software, default"):
        build_scenario(tmp_path / "x.sqlite", "nope", 1)


def test_students_get_their_own_files_with_different_variants(app, classroom):
    with app.app_context():
        alice, bob = classroom.tenant(0), classroom.tenant(1)
        assert alice.file_path != bob.file_path
        assert alice.variant_seed != bob.variant_seed
        for tenant in (alice, bob):
            path = tenancy.tenant_path(tenant.file_path)
            assert path.is_file() and tenancy.tenant_path(tenant.seed_path).is_file()
            assert rows(path, "account") == rows(
                tenancy.tenant_path(tenant.seed_path), "account"
            )


def test_tenant_connections_use_wal_and_foreign_keys(app, classroom):
    with app.app_context():
        with tenancy.tenant_session(classroom.tenant(0)) as session:
            assert session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(sa.text("PRAGMA busy_timeout")).scalar() >= 1000


def test_reset_restores_the_seed_and_discards_changes(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(0)
        with tenancy.tenant_session(tenant) as session:
            make_account(session, name="Student Work Ltd")
            session.get(Account, 1).name = "Renamed"
            session.commit()
            seed_names = rows(tenancy.tenant_path(tenant.seed_path), "account")
        tenancy.reset_tenant(tenant)
        db.session.commit()
        with tenancy.tenant_session(tenant) as session:
            names = set(session.scalars(sa.select(Account.name)))
            assert "Student Work Ltd" not in names and "Renamed" not in names
            assert session.scalar(sa.select(sa.func.count(AuditLog.id))) == 0
        assert rows(tenancy.tenant_path(tenant.file_path), "account") == seed_names
        assert tenant.reset_count == 1 and tenant.reset_at is not None
        event = db.session.scalar(
            sa.select(AuditEvent).filter_by(action="tenant.reset")
        )
        assert event.detail["student"] == "alice"


def damage(path) -> None:
    """Overwrite a database file with bytes SQLite cannot read, its log left beside."""
    path.write_bytes(os.urandom(8192))


def test_reset_mends_a_damaged_crm_file(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(0)
        path = tenancy.tenant_path(tenant.file_path)
        seed_names = rows(tenancy.tenant_path(tenant.seed_path), "account")
        tenancy.registry().forget(path)
        damage(path)
        with pytest.raises(sa.exc.DatabaseError) as raised:
            with tenancy.tenant_session(tenant) as session:
                session.scalar(sa.select(sa.func.count(Account.id)))
        assert tenancy.is_damage(raised.value)
        tenancy.reset_tenant(tenant)
        db.session.commit()
    assert rows(path, "account") == seed_names


def test_a_damaged_crm_is_never_replaced_by_a_torn_seed(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(0)
        path = tenancy.tenant_path(tenant.file_path)
        seed = tenancy.tenant_path(tenant.seed_path)
        seed.write_bytes(seed.read_bytes()[: seed.stat().st_size // 2])
        tenancy.registry().forget(path)
        damage(path)
        damaged = path.read_bytes()
        with pytest.raises(sqlite3.DatabaseError):
            tenancy.reset_tenant(tenant)
        db.session.rollback()
    assert path.read_bytes() == damaged


def test_failure_during_the_copy_leaves_the_previous_database(app, classroom):
    """A reset writes the seed into the live file in one SQLite transaction: when the
    copy fails partway (here, a torn seed file), nothing of it lands."""
    with app.app_context():
        tenant = classroom.tenant(0)
        with tenancy.tenant_session(tenant) as session:
            make_account(session, name="Kept Through A Crash")
        seed = tenancy.tenant_path(tenant.seed_path)
        whole = seed.read_bytes()
        seed.write_bytes(whole[: len(whole) // 2])  # half a database

        with pytest.raises(sqlite3.DatabaseError):
            tenancy.reset_tenant(tenant)
        db.session.rollback()

        path = tenancy.tenant_path(tenant.file_path)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        with tenancy.tenant_session(tenant) as session:
            assert (
                session.scalar(
                    sa.select(Account).filter_by(name="Kept Through A Crash")
                )
                is not None
            )
        assert not list(path.parent.glob("*.tmp"))
        assert db.session.get(type(tenant), tenant.id).reset_count == 0


def test_a_reset_is_seen_by_a_connection_kept_open_across_it(app, classroom):
    """Pooled connections stay valid: a reset writes into the same file."""
    with app.app_context():
        tenant = classroom.tenant(0)
        engine = tenancy.handle_for(tenant).engine
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "INSERT INTO account (name, name_key, match_key, account_type,"
                " inactive, created_at, updated_at)"
                " VALUES ('Gone After Reset', 'gone after reset', 'goneafterreset',"
                " 'prospect', 0, '2026-01-01', '2026-01-01')"
            )
            conn.commit()
        tenancy.reset_tenant(tenant)
        db.session.commit()
        with engine.connect() as conn:  # the same pooled connection
            names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM account")}
        assert "Gone After Reset" not in names and len(names) == 50


def test_missing_seed_file_is_rebuilt_on_reset(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(1)
        seed = tenancy.tenant_path(tenant.seed_path)
        before = rows(seed, "account")
        seed.unlink()
        tenancy.reset_tenant(tenant)
        assert rows(tenancy.tenant_path(tenant.file_path), "account") == before


def test_reset_waits_for_a_connection_in_use(app, classroom):
    """A reset never swaps the file under an open transaction."""
    with app.app_context():
        tenant = classroom.tenant(0)
        handle = tenancy.handle_for(tenant)
        reset_done = threading.Event()
        conn = handle.engine.connect()
        conn.execute(sa.text("SELECT count(*) FROM account")).scalar()

        def reset():
            with app.app_context():
                tenancy.reset_tenant(db.session.merge(tenant))
                reset_done.set()

        worker = threading.Thread(target=reset)
        worker.start()
        assert not reset_done.wait(0.3), "reset must wait for the open connection"
        conn.close()
        worker.join(10)
        assert reset_done.is_set()


def test_reset_gives_up_when_the_tenant_stays_busy(app, classroom):
    app.extensions[tenancy.EXTENSION_KEY].reset_wait = 0.2
    with app.app_context():
        tenant = classroom.tenant(0)
        conn = tenancy.handle_for(tenant).engine.connect()
        conn.execute(sa.text("SELECT 1")).scalar()
        try:
            with pytest.raises(tenancy.TenantBusy):
                tenancy.reset_tenant(tenant)
        finally:
            conn.close()
        with tenancy.tenant_session(tenant) as session:  # usable again afterwards
            assert session.scalar(sa.select(sa.func.count(Account.id))) == 50


def test_read_only_handle_refuses_writes(app, classroom):
    with app.app_context():
        with tenancy.tenant_session(classroom.tenant(0), readonly=True) as session:
            session.add(Account(name="Nope"))
            with pytest.raises(sa.exc.OperationalError, match="readonly|read-only"):
                session.commit()


def test_engine_cache_is_bounded(app, classroom):
    registry = app.extensions[tenancy.EXTENSION_KEY]
    registry.max_engines = 1
    with app.app_context():
        tenancy.handle_for(classroom.tenant(0))
        tenancy.handle_for(classroom.tenant(1))
        assert registry.cached_engines() == 1


def test_tenants_compile_a_statement_once_for_all(app, classroom):
    registry = app.extensions[tenancy.EXTENSION_KEY]
    query = sa.select(Account.name).where(Account.city == "Hangzhou").limit(3)

    def run(index: int) -> list:
        with tenancy.tenant_session(classroom.tenant(index)) as session:
            return session.scalars(query).all()

    with app.app_context():
        run(0)
        compiled = len(registry.compiled_cache)
        assert compiled >= 1
        run(1)  # another tenant, another engine: the same compiled statement
        assert len(registry.compiled_cache) == compiled
        engines = [tenancy.handle_for(classroom.tenant(i)).engine for i in (0, 1)]
        assert engines[0] is not engines[1]
        assert engines[0].dialect is engines[1].dialect is registry.dialect


def test_every_app_of_the_process_writes_tenants_with_one_set_of_statements(
    app, classroom, tmp_path
):
    """The ORM keeps the statements a flush writes per class, keyed by dialect: a
    second app (the suite builds hundreds) reuses them instead of adding its own."""
    shutil.copytree(app.instance_path, tmp_path / "other")
    other = make_app(tmp_path / "other", create_schema=False)
    cache = Account.__mapper__._compiled_cache

    def add_account(on, name: str) -> None:
        with on.app_context():
            tenant = db.session.get(Tenant, classroom.tenant_ids[0])
            with tenancy.tenant_session(tenant) as session:
                session.add(Account(name=name))
                session.commit()

    try:
        add_account(app, "Written by the first app")
        entries = len(cache)
        add_account(other, "Written by the second app")
        assert len(cache) == entries
        registries = [a.extensions[tenancy.EXTENSION_KEY] for a in (app, other)]
        assert registries[0].dialect is registries[1].dialect
        assert registries[0].compiled_cache is registries[1].compiled_cache
    finally:
        close_app(other)


def test_snapshot_and_restore(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(0)
        tenancy.snapshot(tenant, "before-lab")
        with tenancy.tenant_session(tenant) as session:
            make_account(session, name="After Snapshot")
        tenancy.restore_snapshot(tenant, "before-lab")
        with tenancy.tenant_session(tenant) as session:
            assert (
                session.scalar(sa.select(Account).filter_by(name="After Snapshot"))
                is None
            )
        with pytest.raises(ValueError):
            tenancy.snapshot(tenant, "../escape")
        with pytest.raises(FileNotFoundError):
            tenancy.restore_snapshot(tenant, "never-taken")


def test_delete_tenant_removes_files_and_row(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(1)
        paths = [
            tenancy.tenant_path(tenant.file_path),
            tenancy.tenant_path(tenant.seed_path),
        ]
        tenancy.delete_tenant(tenant)
        db.session.commit()
        assert not any(p.exists() for p in paths)
        assert classroom.tenant(1) is None


def test_provisioning_twice_returns_the_same_tenant(app, classroom):
    with app.app_context():
        tenant = classroom.tenant(0)
        again = tenancy.provision_tenant(tenant.course, tenant.student)
        assert again.id == tenant.id


def test_no_tenant_outside_a_bound_context(app):
    with app.app_context():
        with pytest.raises(tenancy.NoTenant):
            db.session.scalar(sa.select(Account))
