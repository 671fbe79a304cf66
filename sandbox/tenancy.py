"""Tenant databases: the one module that resolves, opens, creates, copies, resets one.

A tenant is one student's CRM in one course, stored as an SQLite file under
``instance/tenants/<course id>/<student id>.sqlite`` beside its *seed file* (the
scenario as first built for that student). Which tenant a request uses is decided here,
on the server, from the logged-in user; nothing in a URL can point elsewhere.

Every connection to a tenant file passes through a per-file :class:`_Gate` and holds
the file's shared OS lock (:mod:`sandbox.locks`), so a reset from any process can wait
for in-flight requests to finish, swap the file with ``os.replace`` and let new
requests in: no connection ever straddles the old and the new database.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import threading
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context, session
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.util import find_tables

from sandbox import locks
from sandbox.files import create_private

if TYPE_CHECKING:
    from sandbox.models.control import Course, Tenant, User

TENANT_BIND = "tenant"
EXTENSION_KEY = "sandbox.tenancy"
VIEWING_KEY = "viewing_tenant_id"
SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class TenantError(Exception):
    """Base class for tenancy failures."""


class NoTenant(TenantError):
    """The current user has no CRM workspace to open."""


class TenantBusy(TenantError):
    """The tenant stayed in use for longer than a reset may wait."""


@dataclass(frozen=True)
class TenantHandle:
    """The tenant a unit of work is bound to."""

    tenant_id: int
    path: Path
    readonly: bool
    engine: sa.Engine


# --------------------------------------------------------------------------- engines


class _Gate:
    """Counts open connections to one file and lets a reset wait them out."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False

    def enter(self, timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: not self._closed, timeout):
                raise TenantBusy("the workspace is being reset; try again")
            self._active += 1

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self, timeout: float) -> Iterator[None]:
        with self._cond:
            if not self._cond.wait_for(lambda: not self._closed, timeout):
                raise TenantBusy("another reset of this workspace is under way")
            self._closed = True
            if not self._cond.wait_for(lambda: self._active == 0, timeout):
                self._closed = False
                self._cond.notify_all()
                raise TenantBusy("the workspace stayed in use; try the reset again")
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()


class TenantRegistry:
    """Per-app engine cache (bounded LRU) and connection gates (``app.extensions``)."""

    def __init__(
        self, max_engines: int, busy_timeout: float, reset_wait: float
    ) -> None:
        self.max_engines = max_engines
        self.busy_timeout = busy_timeout
        self.reset_wait = reset_wait
        self._engines: OrderedDict[tuple[str, bool], sa.Engine] = OrderedDict()
        self._gates: dict[str, _Gate] = {}
        self._lock = threading.Lock()

    def gate(self, path: Path) -> _Gate:
        with self._lock:
            return self._gates.setdefault(str(path), _Gate())

    def engine(self, path: Path, readonly: bool = False) -> sa.Engine:
        key = (str(path), readonly)
        with self._lock:
            engine = self._engines.get(key)
            if engine is not None:
                self._engines.move_to_end(key)
                return engine
        engine = self._create_engine(path, readonly)
        with self._lock:
            existing = self._engines.get(key)
            if existing is not None:
                engine.dispose()
                return existing
            self._engines[key] = engine
            while len(self._engines) > self.max_engines:
                _, evicted = self._engines.popitem(last=False)
                evicted.dispose()
        return engine

    def forget(self, path: Path) -> None:
        with self._lock:
            for readonly in (False, True):
                engine = self._engines.pop((str(path), readonly), None)
                if engine is not None:
                    engine.dispose()

    def cached_engines(self) -> int:
        return len(self._engines)

    def _create_engine(self, path: Path, readonly: bool) -> sa.Engine:
        gate = self.gate(path)
        uri = f"{path.as_uri()}?mode=rw"  # never create an empty file by accident

        def connect() -> sqlite3.Connection:
            release = _enter(gate, path, self.reset_wait)
            try:
                conn = sqlite3.connect(
                    uri,
                    uri=True,
                    timeout=self.busy_timeout,
                    check_same_thread=False,
                    factory=_TenantConnection,
                )
            except BaseException:
                release()
                raise
            conn.release = release
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")
                if readonly:
                    conn.execute("PRAGMA query_only = ON")
            except BaseException:
                conn.close()
                raise
            return conn

        # NullPool: a connection lives for one transaction, so the gate and the file
        # lock see exactly the connections in use and a reset never leaves a pooled
        # handle on a replaced file.
        engine = sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)
        sa.event.listen(engine, "handle_error", _mark_tenant_error)
        return engine


class _TenantConnection(sqlite3.Connection):
    """Leaves the gate and the file lock only once the file is really closed.

    (SQLAlchemy's close events fire before the close, and the last connection's
    close still writes: it checkpoints and removes the -wal file.)
    """

    release: Any = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            release, self.release = self.release, None
            if release is not None:
                release()


def _enter(gate: _Gate, path: Path, timeout: float) -> Any:
    """Pass the file's gate and take its shared OS lock; returns the release."""
    gate.enter(timeout)
    try:
        unlock = locks.acquire_shared(path, timeout)
    except locks.LockTimeout as error:
        gate.leave()
        raise TenantBusy("the workspace is being reset; try again") from error

    def release() -> None:
        unlock()
        gate.leave()

    return release


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """No connection to ``path`` from this or any other process, for a swap."""
    wait = registry().reset_wait
    with registry().gate(path).exclusive(wait):
        try:
            with locks.exclusive(path, wait):
                yield
        except locks.LockTimeout as error:
            raise TenantBusy("the workspace stayed in use; try again") from error


def _mark_tenant_error(context: Any) -> None:
    """Tag database errors from a tenant file, so error pages can tell them apart."""
    if context.sqlalchemy_exception is not None:
        context.sqlalchemy_exception.from_tenant = True


def from_tenant(error: BaseException) -> bool:
    """Whether a database error came from a tenant file (not the control database)."""
    return bool(getattr(error, "from_tenant", False))


def init_app(app) -> None:
    app.extensions[EXTENSION_KEY] = TenantRegistry(
        max_engines=int(app.config["TENANT_ENGINE_CACHE_SIZE"]),
        busy_timeout=float(app.config["TENANT_BUSY_TIMEOUT"]),
        reset_wait=float(app.config["TENANT_RESET_WAIT"]),
    )


def registry() -> TenantRegistry:
    return current_app.extensions[EXTENSION_KEY]


# ------------------------------------------------------------------ which tenant now


def tenant_path(relative: str | os.PathLike[str]) -> Path:
    """The absolute path of a file stored relative to the instance folder."""
    return Path(current_app.instance_path) / relative


def handle_for(tenant: Tenant, readonly: bool = False) -> TenantHandle:
    path = tenant_path(tenant.file_path)
    return TenantHandle(tenant.id, path, readonly, registry().engine(path, readonly))


@contextlib.contextmanager
def tenant_session(tenant: Tenant, readonly: bool = False) -> Iterator[sa.orm.Session]:
    """A plain session on one tenant, closed on exit; the caller commits."""
    handle = handle_for(tenant, readonly)
    with sa.orm.Session(handle.engine) as sess:
        yield sess


def student_tenant(user: User) -> Tenant | None:
    """The student's tenant in their most recently joined course."""
    from sandbox.extensions import db
    from sandbox.models.control import Tenant

    return db.session.scalar(
        sa.select(Tenant)
        .where(Tenant.student_id == user.id)
        .order_by(Tenant.created_at.desc(), Tenant.id.desc())
    )


def viewable_tenant(user: User, tenant_id: int) -> Tenant | None:
    """A student's tenant that a staff member may open read-only, or None."""
    from sandbox.extensions import db
    from sandbox.models.control import Tenant

    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or not user.is_staff or not user.teaches(tenant.course):
        return None
    return tenant


def _resolve_request_tenant() -> TenantHandle | None:
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    if current_user.is_student:
        tenant = student_tenant(current_user)
        return handle_for(tenant) if tenant else None
    viewing = session.get(VIEWING_KEY)
    if viewing is not None:
        tenant = viewable_tenant(current_user, viewing)
        if tenant is not None:
            return handle_for(tenant, readonly=True)
        session.pop(VIEWING_KEY, None)
    return None


def current_handle() -> TenantHandle | None:
    """The tenant this request works in, or None (no request, or no workspace)."""
    if not has_request_context():
        return None
    if "tenant_handle" not in g:
        g.tenant_handle = _resolve_request_tenant()
    return g.tenant_handle


def current_engine() -> sa.Engine:
    handle = current_handle()
    if handle is None:
        raise NoTenant("no CRM workspace is open")
    return handle.engine


class TenantSession(_FlaskSession):
    """Routes tables of the ``tenant`` bind to the current tenant's engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs: Any):
        if bind is None and _touches_tenant(mapper, clause):
            return current_engine()
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _is_tenant_table(table: Any) -> bool:
    metadata = getattr(table, "metadata", None)
    return metadata is not None and metadata.info.get("bind_key") == TENANT_BIND


def _touches_tenant(mapper: Any, clause: Any) -> bool:
    if mapper is not None and _is_tenant_table(sa.inspect(mapper).local_table):
        return True
    if clause is not None:
        return any(_is_tenant_table(t) for t in find_tables(clause, include_crud=True))
    return False


# ------------------------------------------------------------ files: build and swap


def derive_seed(course_code: str, username: str) -> int:
    """A stable per-student variant seed: the same student always gets the same data."""
    return zlib.crc32(f"{course_code}\x1f{username}".encode()) & 0x7FFFFFFF


def _copy_file(source: Path, dest: Path) -> None:
    with open(source, "rb") as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
        dst.flush()
        os.fsync(dst.fileno())


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file so no stale ``-wal`` outlives it."""
    if not path.exists():
        return
    conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=5)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def temporary_beside(dest: Path) -> Iterator[Path]:
    """A temporary file in ``dest``'s folder (so ``os.replace`` onto ``dest`` is
    atomic), created empty and private, removed on exit if it is still there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
    create_private(tmp)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def swap_in(prepared: Path, dest: Path) -> None:
    """Make the complete database file ``prepared`` become ``dest``, atomically.

    Waits for connections to ``dest`` to close, folds its write-ahead log in, swaps
    with ``os.replace`` and drops the old file's sidecars, so no stale ``-wal`` is
    ever replayed onto the new file. A crash leaves the old or the new file.
    """
    with _exclusive(dest):
        _checkpoint(dest)
        os.replace(prepared, dest)
        _remove_sidecars(dest)


def install_file(source: Path, dest: Path) -> None:
    """Atomically make ``dest`` a copy of ``source``: copied beside it, then swapped."""
    with temporary_beside(dest) as tmp:
        _copy_file(source, tmp)
        swap_in(tmp, dest)


def _build_seed(tenant: Tenant, today: date | None) -> None:
    from sandbox.scenarios import build_scenario

    seed_file = tenant_path(tenant.seed_path)
    with temporary_beside(seed_file) as tmp:
        build_scenario(tmp, tenant.scenario, tenant.variant_seed, today=today)
        os.replace(tmp, seed_file)


def tenant_files(course_id: int, student_id: int) -> tuple[str, str]:
    """A tenant's live file and seed file, relative to the instance folder."""
    folder = f"tenants/{course_id}"
    return f"{folder}/{student_id}.sqlite", f"{folder}/{student_id}.seed.sqlite"


def provision_tenant(
    course: Course,
    student: User,
    *,
    variant_seed: int | None = None,
    today: date | None = None,
) -> Tenant:
    """Build the student's seed file and working copy; the caller commits.

    Provisioning an already provisioned student returns the existing tenant.
    """
    from sandbox.extensions import db
    from sandbox.models.control import Tenant

    existing = db.session.scalar(
        sa.select(Tenant).filter_by(course_id=course.id, student_id=student.id)
    )
    if existing is not None:
        return existing
    file_path, seed_path = tenant_files(course.id, student.id)
    tenant = Tenant(
        course=course,
        student=student,
        scenario=course.scenario,
        variant_seed=(
            derive_seed(course.code, student.username)
            if variant_seed is None
            else variant_seed
        ),
        file_path=file_path,
        seed_path=seed_path,
    )
    _build_seed(tenant, today)
    install_file(tenant_path(tenant.seed_path), tenant_path(tenant.file_path))
    db.session.add(tenant)
    db.session.flush()
    return tenant


def reset_tenant(tenant: Tenant, *, actor: User | None = None) -> Tenant:
    """Discard the student's work: the tenant becomes its seed file again.

    The seed file is rebuilt (deterministically) if it has gone missing.
    """
    from sandbox.models import utcnow
    from sandbox.models.control import record_event

    if not tenant_path(tenant.seed_path).exists():
        _build_seed(tenant, None)
    install_file(tenant_path(tenant.seed_path), tenant_path(tenant.file_path))
    tenant.reset_at = utcnow()
    tenant.reset_count += 1
    record_event(
        "tenant.reset",
        actor=actor,
        target=tenant.file_path,
        student=tenant.student.username,
        course=tenant.course.code,
    )
    return tenant


def delete_tenant(tenant: Tenant) -> None:
    """Remove the tenant's files and its row; the caller commits."""
    from sandbox.extensions import db

    path = tenant_path(tenant.file_path)
    with _exclusive(path):
        registry().forget(path)
        for file in (path, tenant_path(tenant.seed_path)):
            file.unlink(missing_ok=True)
            _remove_sidecars(file)
    db.session.delete(tenant)


def snapshot_path(tenant: Tenant, name: str) -> Path:
    if not SNAPSHOT_NAME.match(name):
        raise ValueError("a snapshot name uses letters, digits, '-' and '_' only")
    return (
        Path(current_app.instance_path)
        / "snapshots"
        / str(tenant.course_id)
        / str(tenant.student_id)
        / f"{name}.sqlite"
    )


def backup_database(source: Path, dest: Path) -> None:
    """Copy a live SQLite database consistently with the online backup API.

    The copy counts as a connection at the file's gate, so a reset waits rather than
    swapping the file out from under it.
    """
    release = _enter(registry().gate(source), source, registry().reset_wait)
    try:
        with temporary_beside(dest) as tmp:
            uri = f"{source.as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as src:
                with contextlib.closing(sqlite3.connect(tmp)) as dst:
                    src.backup(dst)
            os.replace(tmp, dest)
    finally:
        release()


def snapshot(tenant: Tenant, name: str) -> Path:
    """Save the tenant as it is now under ``name`` (overwriting one of that name)."""
    dest = snapshot_path(tenant, name)
    backup_database(tenant_path(tenant.file_path), dest)
    return dest


def restore_snapshot(tenant: Tenant, name: str) -> None:
    """Put the tenant back to the snapshot saved as ``name``."""
    source = snapshot_path(tenant, name)
    if not source.exists():
        raise FileNotFoundError(f"no snapshot named {name!r}")
    install_file(source, tenant_path(tenant.file_path))
