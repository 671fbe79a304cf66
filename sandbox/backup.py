"""Whole-instance backup and restore: the control database and every tenant in one zip.

An archive holds ``sandbox.db``, each tenant's live file and seed file under their
``tenants/...`` paths, and ``manifest.json`` with the format marker, the tenants and the
size and SHA-256 of every member. Backups copy each database with SQLite's online
backup API, so they can be taken while the app is serving students. A restore checks
the whole archive before it touches the instance folder; restore into an instance whose
server is stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlite_utils
from flask import current_app

from sandbox import __version__, locks, tenancy
from sandbox.extensions import db
from sandbox.files import create_private
from sandbox.models.control import Course, Tenant, User, record_event

FORMAT = "crm-sandbox-backup"
VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MANIFEST = "manifest.json"
CONTROL_DB = "sandbox.db"
TENANT_FOLDER = "tenants"
#: Where the instance keeps the backups made without naming a file.
BACKUP_FOLDER = "backups"
SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: tenants/<course id>/<student id>.sqlite, or .seed.sqlite for the seed file.
TENANT_FILE = re.compile(r"tenants/[1-9][0-9]{0,17}/[1-9][0-9]{0,17}(\.seed)?\.sqlite")
#: Tables a control database must have (later versions add others, made on start).
CONTROL_TABLES = frozenset(
    {"user", "course", "course_instructor", "enrollment", "tenant", "audit_event"}
)
#: Held shared by every serving process; a restore holds it exclusively.
SERVING_LOCK = "serving.lock"
CHUNK = 1024 * 1024

Progress = Callable[[str], None]
RestoreProgress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup could not be made, or an archive was refused; the message says why."""


# --------------------------------------------------------------------------- backup


def create_backup(output: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Write the whole instance to the zip archive ``output``; returns its manifest.

    :param progress: called with a member name once for the control database and
        once per tenant.
    """
    output = Path(output)
    instance = Path(current_app.instance_path)
    _check_output(output.resolve(), instance.resolve())
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".crm-backup-", dir=output.parent) as tmp:
        staging = Path(tmp)
        _copy_database(instance, staging, CONTROL_DB)
        _notify(progress, CONTROL_DB)
        tenants = []
        # Tenants are read from the copied control database, not the live one, so the
        # archive's tenant files always match the tenant rows it restores.
        for row in _tenant_rows(staging / CONTROL_DB):
            tenants.append(_stage_tenant(row, instance, staging))
            _notify(progress, row.file_path)
        manifest = _manifest(tenants, _describe_members(staging, tenants))
        _write_archive(output, staging, manifest)
    record_event("instance.backup", target=str(output), tenants=len(tenants))
    db.session.commit()
    return manifest


def _check_output(output: Path, instance: Path) -> None:
    """Refuse an archive path that would overwrite the instance's own files (its
    ``backups`` folder aside, made when first needed), or that names a folder
    which does not exist: a typo, not a wish for new folders."""
    backups = instance / BACKUP_FOLDER
    if output.is_relative_to(backups):
        return
    if output.is_relative_to(instance):
        raise BackupError(
            f"{output} is inside the instance: write backups elsewhere, or into "
            f"{backups}"
        )
    if not output.parent.is_dir():
        raise BackupError(f"no folder {output.parent}: create it first")


def _notify(progress: Progress | None, name: str) -> None:
    if progress is not None:
        progress(name)


def _copy_database(instance: Path, staging: Path, name: str) -> None:
    source = instance / name
    if not source.is_file():
        raise BackupError(f"cannot back up {source}: the file is missing")
    tenancy.backup_database(source, staging / name)


def _tenant_rows(control_db: Path) -> list[sa.Row]:
    """Each tenant's paths, course code and student name, read from ``control_db``."""
    engine = sa.create_engine(f"sqlite:///{control_db.as_posix()}")
    try:
        with sa.orm.Session(engine) as session:
            query = (
                sa.select(
                    Tenant.file_path,
                    Tenant.seed_path,
                    Tenant.course_id,
                    Tenant.student_id,
                    Course.code,
                    User.username,
                )
                .join(Tenant.course)
                .join(Tenant.student)
                .order_by(Tenant.id)
            )
            return list(session.execute(query))
    finally:
        engine.dispose()


def _stage_tenant(row: sa.Row, instance: Path, staging: Path) -> dict[str, Any]:
    _copy_database(instance, staging, row.file_path)
    # A missing seed file is rebuilt by the next reset, so it need not stop a backup.
    has_seed = (instance / row.seed_path).is_file()
    if has_seed:
        _copy_database(instance, staging, row.seed_path)
    return {
        "course_code": row.code,
        "student": row.username,
        "file_path": row.file_path,
        "seed_path": row.seed_path,
        "seed_included": has_seed,
        "row_counts": _row_counts(staging / row.file_path),
    }


def _row_counts(path: Path) -> dict[str, int]:
    database = sqlite_utils.Database(path)
    try:
        return {name: database[name].count for name in database.table_names()}
    finally:
        database.close()


def _describe_members(staging: Path, tenants: list[dict[str, Any]]) -> dict[str, Any]:
    names = [CONTROL_DB]
    for tenant in tenants:
        names.append(tenant["file_path"])
        if tenant["seed_included"]:
            names.append(tenant["seed_path"])
    return {name: _describe(staging / name) for name in names}


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def _manifest(tenants: list[dict[str, Any]], members: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "app_version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "control_db": CONTROL_DB,
        "tenants": tenants,
        "members": members,
    }


def _write_archive(output: Path, staging: Path, manifest: dict[str, Any]) -> None:
    """Zip the staged files to a temporary name, then swap it in as ``output``."""
    with tenancy.temporary_beside(output) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            text = json.dumps(manifest, indent=2, ensure_ascii=False)
            archive.writestr(MANIFEST, text)
            for name in manifest["members"]:
                archive.write(staging / name, name)
        with open(tmp, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp, output)


# -------------------------------------------------------------------------- restore


def restore_backup(
    archive: Path, *, force: bool = False, progress: RestoreProgress | None = None
) -> dict[str, Any]:
    """Replace the instance's databases with those in ``archive``; returns its manifest.

    Everything is checked before anything in the instance folder is replaced; on any
    refusal the folder is left as it was.

    :param force: replace an instance that already has users.
    :param progress: called with (steps done, total steps).
    :raise BackupError: the archive is not a sound backup, or the instance has data.
    """
    archive = Path(archive)
    instance = Path(current_app.instance_path)
    release = locks.try_hold(instance / SERVING_LOCK, shared=False)
    if release is None:
        raise BackupError(
            f"a server is serving {instance}; stop it before restoring (its open "
            f"files would keep the old data)"
        )
    try:
        return _restore(archive, instance, force, progress)
    finally:
        release()


def _restore(
    archive: Path, instance: Path, force: bool, progress: RestoreProgress | None
) -> dict[str, Any]:
    with _open_archive(archive) as zipped:
        manifest = _read_manifest(zipped, archive)
        members = manifest["members"]
        _verify_members(zipped, members)
        if not force:
            _refuse_overwrite(instance)
        steps = _Steps(2 * len(members), progress)
        staging = instance / f".restore-{uuid.uuid4().hex}"
        try:
            _extract(zipped, members, staging, steps)
            _check_control_db(staging / CONTROL_DB, manifest)
            _install(staging, members, instance, steps)
            _remove_strays(instance, manifest["tenants"])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    db.create_all(bind_key=None)  # tables newer than the backup
    record_event(
        "instance.restore", target=str(archive), tenants=len(manifest["tenants"])
    )
    db.session.commit()
    return manifest


class _Steps:
    """Counts restore steps and reports them to the caller's progress callback."""

    def __init__(self, total: int, progress: RestoreProgress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress

    def advance(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _not_a_backup(archive: Path, why: str) -> BackupError:
    return BackupError(f"{archive} is not a CRM Sandbox backup ({why})")


def _open_archive(archive: Path) -> zipfile.ZipFile:
    if not zipfile.is_zipfile(archive):
        raise _not_a_backup(archive, "not a zip archive")
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise _not_a_backup(archive, f"unreadable zip archive: {error}") from error


def _read_manifest(zipped: zipfile.ZipFile, archive: Path) -> dict[str, Any]:
    try:
        info = zipped.getinfo(MANIFEST)
    except KeyError:
        raise _not_a_backup(archive, f"it has no {MANIFEST}") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise _not_a_backup(archive, f"its {MANIFEST} is implausibly large")
    try:
        manifest = json.loads(_read_small(zipped, info))
    except (ValueError, RecursionError) as error:
        raise _not_a_backup(archive, f"its {MANIFEST} is not valid JSON") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_a_backup(archive, f"its {MANIFEST} lacks the {FORMAT!r} marker")
    if manifest.get("version") not in SUPPORTED_VERSIONS:
        raise BackupError(
            f"{archive} is a version {manifest.get('version')!r} backup; this CRM "
            f"Sandbox ({__version__}) restores version "
            f"{', '.join(map(str, sorted(SUPPORTED_VERSIONS)))} only"
        )
    _check_listing(manifest)
    return manifest


def _read_small(zipped: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        return zipped.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise BackupError(
            f"{info.filename} in the backup is damaged: {error}"
        ) from error


def _check_listing(manifest: dict[str, Any]) -> None:
    """The manifest lists sane members, and every tenant's live file among them."""
    members = manifest.get("members")
    tenants = manifest.get("tenants")
    if not isinstance(members, dict) or not isinstance(tenants, list):
        raise BackupError("the backup's manifest has no member or tenant list")
    for name, entry in members.items():
        _check_member_name(name)
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise BackupError(
                f"the backup's manifest gives no size or checksum for {name}"
            )
    if CONTROL_DB not in members:
        raise BackupError(f"the backup has no control database ({CONTROL_DB})")
    for tenant in tenants:
        path = tenant.get("file_path") if isinstance(tenant, dict) else None
        if not isinstance(path, str) or path not in members:
            raise BackupError(f"the backup lacks the database of tenant {tenant!r}")


def _check_member_name(name: str) -> None:
    """Refuse any name but the control database and tenant files, in the exact
    shape the app gives them (no zip-slip, no file that is also a folder)."""
    if name != CONTROL_DB and not TENANT_FILE.fullmatch(name):
        raise BackupError(f"the backup holds a file with an unsafe name: {name!r}")


def _verify_members(zipped: zipfile.ZipFile, members: dict[str, Any]) -> None:
    """Every listed member is present and intact, and nothing else is in the zip."""
    names = [info.filename for info in zipped.infolist()]
    if len(names) != len(set(names)):
        raise BackupError("the backup holds two files under the same name")
    unlisted = sorted(set(names) - set(members) - {MANIFEST})
    if unlisted:
        raise BackupError(
            f"the backup holds files its manifest does not list: "
            f"{', '.join(map(repr, unlisted))}"
        )
    missing = sorted(set(members) - set(names))
    if missing:
        raise BackupError(f"the backup is missing {', '.join(missing)}")
    limit = int(current_app.config["RESTORE_MAX_FILE_BYTES"])
    for info in zipped.infolist():
        declared = members.get(info.filename, {}).get("size", 0)
        if max(info.file_size, declared) > limit:
            raise BackupError(
                f"{info.filename} in the backup is larger than the {limit} bytes "
                f"a restore accepts (RESTORE_MAX_FILE_BYTES)"
            )
    for name, expected in members.items():
        _copy_member(zipped, name, expected, None)


def _copy_member(
    zipped: zipfile.ZipFile, name: str, expected: dict[str, Any], dest: Path | None
) -> None:
    """Stream a member, checking its size and checksum; write it to ``dest`` if set."""
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            zipped.open(name) as source,
            open(dest, "wb") if dest else contextlib.nullcontext() as sink,
        ):
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > expected["size"]:
                    break  # no need to inflate the rest of an oversized member
                digest.update(chunk)
                if sink is not None:
                    sink.write(chunk)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as error:
        raise BackupError(f"{name} in the backup is damaged: {error}") from error
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise BackupError(
            f"{name} in the backup does not match the size and checksum "
            f"in its manifest: the archive is damaged or was altered"
        )


def _extract(
    zipped: zipfile.ZipFile, members: dict[str, Any], staging: Path, steps: _Steps
) -> None:
    for name, expected in members.items():
        dest = staging / name
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            create_private(dest)
        except OSError as error:
            raise BackupError(
                f"{name} in the backup cannot be extracted: {error}"
            ) from error
        _copy_member(zipped, name, expected, dest)
        _check_sqlite(dest, name)
        _check_schema(dest, name)
        steps.advance()


def _check_sqlite(path: Path, name: str) -> None:
    with open(path, "rb") as file:
        # An empty file would pass integrity_check, so the header is checked too.
        if file.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{name} in the backup is not an SQLite database")
    try:
        conn = sqlite3.connect(path)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(
            f"{name} in the backup is not a sound SQLite database: {error}"
        ) from error
    if result != ["ok"]:
        raise BackupError(
            f"{name} in the backup fails SQLite's integrity check: {result[0]}"
        )


def _check_schema(path: Path, name: str) -> None:
    """A tenant file has the CRM's tables and none of the control database's; the
    control database has its own."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    if name == CONTROL_DB:
        missing = CONTROL_TABLES - tables
        if missing:
            raise BackupError(
                f"{name} in the backup lacks the control tables: "
                f"{', '.join(sorted(missing))}"
            )
        return
    missing = set(db.metadatas[tenancy.TENANT_BIND].tables) - tables
    if missing:
        raise BackupError(
            f"{name} in the backup lacks the CRM tables: {', '.join(sorted(missing))}"
        )
    foreign = tables & set(db.metadata.tables)
    if foreign:
        raise BackupError(
            f"{name} in the backup holds control tables: {', '.join(sorted(foreign))}"
        )


def _check_control_db(control_db: Path, manifest: dict[str, Any]) -> None:
    """The restored control database's tenants have exactly the paths the app would
    give them, all listed in the manifest and present in the backup."""
    members = manifest["members"]
    try:
        rows = _tenant_rows(control_db)
    except sa.exc.DatabaseError as error:
        raise BackupError(
            f"{CONTROL_DB} in the backup is not a CRM Sandbox control "
            f"database: {error.orig}"
        ) from error
    claimed = {CONTROL_DB}
    for row in rows:
        # The app later writes to these paths (a reset rebuilds a missing seed file).
        _check_member_name(row.file_path)
        _check_member_name(row.seed_path)
        expected = tenancy.tenant_files(row.course_id, row.student_id)
        if (row.file_path, row.seed_path) != expected:
            raise BackupError(
                f"the backup's tenant files {row.file_path!r} and {row.seed_path!r} "
                f"are not the path this app gives that student's CRM ({expected[0]!r})"
            )
        claimed.update(expected)
    missing = sorted(row.file_path for row in rows if row.file_path not in members)
    if missing:
        raise BackupError(f"the backup lacks tenant files: {', '.join(missing)}")
    listed = sorted(
        (t.get("file_path"), t.get("seed_path"))
        for t in manifest["tenants"]
        if isinstance(t, dict)
    )
    if listed != sorted((row.file_path, row.seed_path) for row in rows):
        raise BackupError(
            "the backup's manifest does not match its control database's tenants"
        )
    strays = sorted(set(members) - claimed)
    if strays:
        raise BackupError(f"the backup holds files of no tenant: {', '.join(strays)}")


def _refuse_overwrite(instance: Path) -> None:
    if not (instance / CONTROL_DB).exists():
        return
    try:
        if not sa.inspect(db.engine).has_table(User.__tablename__):
            return
        users = db.session.scalar(sa.select(sa.func.count(User.id)))
    except sa.exc.DatabaseError as error:
        raise BackupError(
            f"the control database in {instance} cannot be read "
            f"({error.orig}); use --force to replace it"
        ) from error
    finally:
        db.session.remove()
    if users:
        raise BackupError(
            f"the instance in {instance} already has {users} users; "
            f"use --force to replace it with the backup"
        )


# -------------------------------------------------------------------------- install


def _install(
    staging: Path, members: dict[str, Any], instance: Path, steps: _Steps
) -> None:
    """Move the staged files into place: tenants first, the control database last."""
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
    for name in sorted(members, key=lambda member: member == CONTROL_DB):
        dest = instance / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            tenancy.swap_in(staging / name, dest)
        except tenancy.TenantBusy as error:
            raise BackupError(
                f"{dest} stayed in use, so the restore is incomplete; stop "
                f"the server and restore again"
            ) from error
        steps.advance()


def _remove_strays(instance: Path, tenants: list[dict[str, Any]]) -> None:
    """Delete the CRM files of students the restored instance no longer has (made
    after the backup): no tenant row points at them, and a later student given the
    same id must start from a file of their own."""
    folder = instance / TENANT_FOLDER
    if not folder.is_dir():
        return
    kept = {t[key] for t in tenants for key in ("file_path", "seed_path")}
    for path in folder.rglob("*.sqlite"):
        if path.relative_to(instance).as_posix() not in kept:
            tenancy.remove_database(path)
