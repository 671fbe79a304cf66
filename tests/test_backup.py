"""Whole-instance backup and restore through the ``backup`` and ``restore`` commands."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlite_utils

from sandbox.backup import create_backup
from sandbox.extensions import db
from sandbox.models.control import AuditEvent, Tenant
from sandbox.models.crm import Account, Contact
from sandbox.tenancy import tenant_session
from tests.conftest import close_app, make_app
from tests.helpers import make_account

CONTROL_TABLES = ("user", "course", "course_instructor", "enrollment", "tenant")


@pytest.fixture
def other_app(tmp_path):
    """A second, empty instance to restore into."""
    app = make_app(tmp_path / "other")
    yield app
    close_app(app)


# ------------------------------------------------------------------------ helpers


def dump_database(path: Path, tables=None) -> dict[str, list[dict]]:
    """Every row of every table (or of ``tables``), in rowid order."""
    assert path.is_file(), f"{path} is missing"
    database = sqlite_utils.Database(path)
    try:
        names = tables or database.table_names()
        return {
            name: list(database[name].rows_where(order_by="rowid")) for name in names
        }
    finally:
        database.close()


def dump_instance(instance: Path) -> dict:
    """The control tables that define the class, and every tenant file's rows."""
    control = dump_database(instance / "sandbox.db", CONTROL_TABLES)
    tenants = {}
    for row in control["tenant"]:
        for key in ("file_path", "seed_path"):
            tenants[row[key]] = dump_database(instance / row[key])
    return {"control": control, "tenants": tenants}


def instance_state(instance: Path) -> dict[str, tuple]:
    """Every file's bytes and mtime, and every folder, under ``instance``.

    Empty lock files, which any process may create to take turns, are no data.
    """
    state = {}
    for path in sorted(instance.rglob("*")):
        key = path.relative_to(instance).as_posix()
        if path.suffix in (".lock", ".intent"):
            continue
        if path.is_dir():
            state[key] = ("dir",)
        else:
            state[key] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                path.stat().st_mtime_ns,
            )
    return state


def add_account(app, tenant_id: int, name: str) -> None:
    with app.app_context():
        with tenant_session(db.session.get(Tenant, tenant_id)) as session:
            make_account(session, name=name)


def account_names(app, tenant_id: int) -> set[str]:
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        with tenant_session(tenant, readonly=True) as session:
            return set(session.scalars(sa.select(Account.name)))


def backup(app, archive: Path) -> None:
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.is_file()


# ------------------------------------------------------------------- round trip


def test_restore_into_new_instance_reproduces_every_tenant_and_the_class(
    app, classroom, tmp_path, other_app
):
    archive = tmp_path / "class.zip"
    backup(app, archive)

    result = other_app.test_cli_runner().invoke(args=["restore", str(archive)])

    assert result.exit_code == 0, result.output
    original = dump_instance(tmp_path / "instance")
    restored = dump_instance(tmp_path / "other")
    assert len(original["tenants"]) == 4  # alice and bob: live file and seed each
    assert all(tables["account"] for tables in original["tenants"].values())
    assert restored == original


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("instance/sandbox.db", "is inside the instance"),
        ("instance/tenants/1/x.zip", "is inside the instance"),
        ("no/such/folder/x.zip", "no folder"),
    ],
)
def test_backup_refuses_to_overwrite_the_instance_or_invent_folders(
    app, classroom, runner, tmp_path, where, message
):
    instance = tmp_path / "instance"
    before = dump_instance(instance)
    result = runner.invoke(args=["backup", str(tmp_path / where)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert dump_instance(instance) == before
    assert not (tmp_path / "no").exists()


def test_a_backup_goes_into_the_instances_own_backups_folder(app, classroom, runner):
    archive = Path(app.instance_path, "backups", "class.zip")
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert zipfile.is_zipfile(archive)


def test_backup_manifest_counts_rows_and_is_audited(app, classroom, tmp_path):
    archive = tmp_path / "class.zip"
    backup(app, archive)

    with zipfile.ZipFile(archive) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
        names = set(zipped.namelist())
    assert manifest["format"] == "crm-sandbox-backup"
    assert sorted(t["student"] for t in manifest["tenants"]) == ["alice", "bob"]
    assert names == set(manifest["members"]) | {"manifest.json"}
    for tenant in manifest["tenants"]:
        live = dump_database(tmp_path / "instance" / tenant["file_path"])
        assert tenant["row_counts"] == {name: len(rows) for name, rows in live.items()}
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "instance.backup")
        )
    assert event.target == str(archive)
    assert event.detail["tenants"] == 2


def test_student_change_after_provisioning_survives_restore(
    app, classroom, tmp_path, other_app
):
    alice, bob = classroom.tenant_ids
    add_account(app, alice, "Alice Added This Ltd")
    archive = tmp_path / "class.zip"
    backup(app, archive)

    result = other_app.test_cli_runner().invoke(args=["restore", str(archive)])

    assert result.exit_code == 0, result.output
    assert "Alice Added This Ltd" in account_names(other_app, alice)
    assert "Alice Added This Ltd" not in account_names(other_app, bob)


# --------------------------------------------------------------------- refusals


def read_archive(archive: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(archive) as zipped:
        files = {name: zipped.read(name) for name in zipped.namelist()}
    return json.loads(files.pop("manifest.json")), files


def write_archive(dest: Path, manifest: dict | None, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(dest, "w") as zipped:
        if manifest is not None:
            zipped.writestr("manifest.json", json.dumps(manifest))
        for name, data in files.items():
            zipped.writestr(name, data)


def describe(data: bytes) -> dict:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def tenant_member(manifest: dict) -> str:
    return manifest["tenants"][0]["file_path"]


def not_a_zip(good: Path, dest: Path) -> None:
    dest.write_text("SQLite format 3? no, just text\n")


def without_manifest(good: Path, dest: Path) -> None:
    _, files = read_archive(good)
    write_archive(dest, None, files)


def with_tampered_member(good: Path, dest: Path) -> None:
    manifest, files = read_archive(good)
    name = tenant_member(manifest)
    data = bytearray(files[name])
    data[-100] ^= 0xFF
    files[name] = bytes(data)
    write_archive(dest, manifest, files)


def with_zip_slip_member(good: Path, dest: Path) -> None:
    manifest, files = read_archive(good)
    evil = files[tenant_member(manifest)]
    files["../evil.sqlite"] = evil
    manifest["members"]["../evil.sqlite"] = describe(evil)
    write_archive(dest, manifest, files)


def with_unlisted_member(good: Path, dest: Path) -> None:
    manifest, files = read_archive(good)
    files["tenants/99/99.sqlite"] = files[tenant_member(manifest)]
    write_archive(dest, manifest, files)


def with_non_sqlite_member(good: Path, dest: Path) -> None:
    manifest, files = read_archive(good)
    name = tenant_member(manifest)
    files[name] = b"not a database at all\n" * 100
    manifest["members"][name] = describe(files[name])
    write_archive(dest, manifest, files)


def without_a_tenant_file(good: Path, dest: Path) -> None:
    manifest, files = read_archive(good)
    dropped = manifest["tenants"].pop()
    for key in ("file_path", "seed_path"):
        del files[dropped[key]], manifest["members"][dropped[key]]
    write_archive(dest, manifest, files)


def with_unknown_version(good: Path, dest: Path) -> None:
    manifest, files = read_archive(good)
    manifest["version"] = 99
    write_archive(dest, manifest, files)


@pytest.mark.parametrize(
    ("make_bad_archive", "message"),
    [
        (not_a_zip, "not a zip archive"),
        (without_manifest, "has no manifest.json"),
        (with_tampered_member, "does not match the size and checksum"),
        (with_zip_slip_member, "unsafe name: '../evil.sqlite'"),
        (with_unlisted_member, "manifest does not list: 'tenants/99/99.sqlite'"),
        (with_non_sqlite_member, "is not an SQLite database"),
        (without_a_tenant_file, "the backup lacks tenant files: tenants/"),
        (with_unknown_version, "version 99 backup"),
    ],
)
def test_restore_refuses_unsound_archive_and_leaves_instance_untouched(
    app, classroom, runner, tmp_path, make_bad_archive, message
):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    backup(app, good)
    make_bad_archive(good, bad)
    instance = tmp_path / "instance"
    before = instance_state(instance)

    # --force proves the archive checks hold even when overwriting is allowed.
    result = runner.invoke(args=["restore", "--force", str(bad)])

    assert result.exit_code != 0
    assert message in result.output
    assert instance_state(instance) == before
    assert not (tmp_path / "evil.sqlite").exists()


def test_restore_refuses_instance_with_users_unless_forced(
    app, classroom, runner, tmp_path
):
    alice, _ = classroom.tenant_ids
    archive = tmp_path / "class.zip"
    backup(app, archive)
    add_account(app, alice, "Made After The Backup Ltd")
    instance = tmp_path / "instance"
    before = instance_state(instance)

    refused = runner.invoke(args=["restore", str(archive)])

    assert refused.exit_code != 0
    assert "use --force" in refused.output
    assert instance_state(instance) == before
    assert "Made After The Backup Ltd" in account_names(app, alice)

    forced = runner.invoke(args=["restore", "--force", str(archive)])

    assert forced.exit_code == 0, forced.output
    assert "Made After The Backup Ltd" not in account_names(app, alice)
    assert not [p for p in instance.iterdir() if p.name.startswith(".restore-")]


def test_a_forced_restore_replaces_damaged_databases(app, classroom, runner, tmp_path):
    """Restoring is how an instance with unreadable files is mended."""
    alice, bob = classroom.tenant_ids
    archive = tmp_path / "class.zip"
    backup(app, archive)
    instance = tmp_path / "instance"
    with app.app_context():
        damaged = [Path(db.session.get(Tenant, alice).file_path)]
    close_app(app)
    for path in [instance / damaged[0], instance / "sandbox.db"]:
        path.write_bytes(b"not a database " * 600)

    forced = runner.invoke(args=["restore", "--force", str(archive)])

    assert forced.exit_code == 0, forced.output
    assert account_names(app, alice) and account_names(app, bob)


def test_a_restore_removes_the_crms_of_students_enrolled_after_the_backup(
    app, classroom, runner, tmp_path
):
    from tests.helpers import make_student

    archive = tmp_path / "class.zip"
    backup(app, archive)
    with app.app_context():
        course = db.session.get(Tenant, classroom.tenant_ids[0]).course
        _, late = make_student(course, "latecomer")
        files = [Path(app.instance_path, late.file_path)]
        files.append(Path(app.instance_path, late.seed_path))
    assert all(path.is_file() for path in files)

    forced = runner.invoke(args=["restore", "--force", str(archive)])

    assert forced.exit_code == 0, forced.output
    assert not [path for path in files if path.exists()]
    assert not list(files[0].parent.glob(f"{files[0].name}*"))
    alice, bob = classroom.tenant_ids
    assert account_names(app, alice) and account_names(app, bob)


# ------------------------------------------------------------------ concurrency


class Writer(threading.Thread):
    """Keeps adding an account and its contact, in one transaction each time."""

    def __init__(self, app, tenant_id: int) -> None:
        super().__init__(daemon=True)
        self.app, self.tenant_id = app, tenant_id
        self.committed = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.progressed = threading.Condition()

    def run(self) -> None:
        try:
            with self.app.app_context():
                tenant = db.session.get(Tenant, self.tenant_id)
                while not self.stop.is_set():
                    self._write_pair(tenant)
        except BaseException as error:  # noqa: B036 - reported by the test
            self.error = error

    def _write_pair(self, tenant: Tenant) -> None:
        with tenant_session(tenant) as session:
            account = Account(name=f"Concurrent {self.committed}")
            session.add(account)
            session.flush()
            session.add(Contact(last_name="Pair", account_id=account.id))
            session.commit()
        with self.progressed:
            self.committed += 1
            self.progressed.notify_all()

    def wait_for(self, count: int) -> None:
        with self.progressed:
            assert self.progressed.wait_for(
                lambda: self.committed >= count or self.error, timeout=10
            )


def test_backup_while_a_student_writes_is_consistent(app, classroom, tmp_path):
    alice, _ = classroom.tenant_ids
    with app.app_context():
        name = db.session.get(Tenant, alice).file_path
    # Another open connection, as a concurrent request would hold, stops SQLite from
    # checkpointing on close: recent commits then live only in the -wal file.
    other_request = sqlite3.connect(tmp_path / "instance" / name)
    other_request.execute("SELECT count(*) FROM account").fetchone()
    writer = Writer(app, alice)
    writer.start()
    writer.wait_for(3)
    seen: dict[str, int] = {}

    def progress(name: str) -> None:
        # Before the tenants are copied, let the writer commit more: the archive must
        # hold at least these commits, including those still only in the -wal file.
        if name == "sandbox.db":
            writer.wait_for(writer.committed + 5)
            seen["before_tenants"] = writer.committed

    archive = tmp_path / "busy.zip"
    try:
        with app.app_context():
            manifest = create_backup(archive, progress=progress)
        writer.wait_for(seen["before_tenants"] + 3)
    finally:
        writer.stop.set()
        writer.join(10)
        other_request.close()
    assert writer.error is None

    extracted = tmp_path / "alice.sqlite"
    with zipfile.ZipFile(archive) as zipped:
        extracted.write_bytes(zipped.read(name))
    conn = sqlite3.connect(extracted)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        accounts = conn.execute(
            "SELECT count(*) FROM account WHERE name LIKE 'Concurrent %'"
        ).fetchone()[0]
        pairs = conn.execute(
            "SELECT count(*) FROM contact"
            " JOIN account ON account.id = contact.account_id"
            " WHERE contact.last_name = 'Pair' AND account.name LIKE 'Concurrent %'"
        ).fetchone()[0]
        totals = {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in ("account", "contact", "audit_log")
        }
    finally:
        conn.close()
    assert accounts >= seen["before_tenants"]
    assert pairs == accounts
    counts = next(
        t["row_counts"] for t in manifest["tenants"] if t["file_path"] == name
    )
    assert {table: counts[table] for table in totals} == totals
