"""Tenant databases: the one module that resolves, opens, creates, copies, resets one.

A tenant is one student's CRM in one course, stored as an SQLite file under
``instance/tenants/<course id>/<student id>.sqlite`` beside its *seed file* (the
scenario as first built for that student). Which tenant a request uses is decided here,
on the server, from the logged-in user; nothing in a URL can point elsewhere.

A reset (or a return to a save point) writes the seed into the live file through
SQLite's online backup API: one write transaction, so a crash leaves the old or the
new data, and SQLite's own file locks make it safe against connections of any process
— the server's pooled ones included, which simply see the new data in their next
transaction. In this process a per-file :class:`_Gate` also lets a reset wait for the
requests under way, so none of them fails halfway. Files are swapped (``os.replace``)
only where no connection may be open — a new tenant, and restoring a whole
instance — under the file's exclusive OS lock (:mod:`sandbox.locks`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import inspect
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context, session
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy.pool import NullPool, QueuePool
from sqlalchemy.sql.util import find_tables
from sqlalchemy.util import LRUCache

from sandbox import locks
from sandbox.files import create_private

if TYPE_CHECKING:
    from sandbox.models.control import Course, Tenant, User

TENANT_BIND = "tenant"
#: SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock a copy needs.
SQLITE_BUSY_CODES = frozenset({5, 6})
#: SQLite's page cache per tenant connection, in KiB (SQLite's default is 2,000).
TENANT_CACHE_KIB = 256
#: Prepared statements kept per tenant connection (Python's default is 128).
TENANT_STATEMENT_CACHE = 16
#: How long one step of a reset's copy waits for a lock before checking its deadline.
BUSY_POLL_SECONDS = 0.05
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
    #: The course's time zone: times in this CRM are shown in it.
    timezone: str = "UTC"
    #: The month the course's fiscal year starts in (forecast periods follow it).
    fiscal_year_start: int = 1
    #: Whose CRM a staff member is viewing (the read-only banner names them).
    student_name: str = ""


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


#: Compiled statements kept for all tenants together (they share them).
COMPILED_CACHE_SIZE = 1500


@functools.cache
def shared_statements() -> tuple[sa.Dialect, LRUCache]:
    """The SQLite dialect every tenant engine runs through (set up as a first
    connection sets it up) and the cache of statements compiled for it.

    Every tenant database has the same schema, so every tenant engine compiles the
    same statements. SQLAlchemy keys compiled statements by dialect object and gives
    each engine its own cache, so hundreds of tenant engines would each compile and
    keep a copy of every statement (about 1.5 MB a tenant). Instead all tenant
    engines of the process share one dialect and one bounded cache: a statement is
    compiled once. The ORM's own caches of the statements a flush writes (one per
    mapped class, also keyed by dialect) then hold one entry per statement too,
    where a dialect per app would add a set of entries for each app built.
    """
    prototype = sa.create_engine("sqlite://", poolclass=NullPool)
    with prototype.connect():
        pass
    prototype.dispose()
    return prototype.dialect, LRUCache(COMPILED_CACHE_SIZE)


class TenantRegistry:
    """Per-app engine cache (bounded LRU) and connection gates (``app.extensions``).

    Tenant engines compile their statements once for all tenants (see
    :func:`shared_statements`).
    """

    def __init__(
        self, max_engines: int, busy_timeout: float, reset_wait: float
    ) -> None:
        self.max_engines = max_engines
        self.busy_timeout = busy_timeout
        self.reset_wait = reset_wait
        self.dialect, self.compiled_cache = shared_statements()
        self._engines: OrderedDict[tuple[str, bool], sa.Engine] = OrderedDict()
        self._gates: dict[str, _Gate] = {}
        self._lock = threading.Lock()
        self._sweep_engine: sa.Engine | None = None

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
            conn = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.busy_timeout,
                check_same_thread=False,
                # Each open tenant keeps its prepared statements; a few dozen
                # per connection across hundreds of tenants is memory, not speed.
                cached_statements=TENANT_STATEMENT_CACHE,
            )
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            # A tenant is a few MB and keeps a connection open: a small page cache
            # keeps hundreds of open tenants within a modest server's memory.
            conn.execute(f"PRAGMA cache_size = -{TENANT_CACHE_KIB}")
            if readonly:
                conn.execute("PRAGMA query_only = ON")
            return conn

        def checkout(_dbapi, record, _proxy) -> None:
            gate.enter(self.reset_wait)
            record.info["gate"] = True

        def checkin(_dbapi, record) -> None:
            # A checkout refused at the gate is checked in without having entered.
            if record.info.pop("gate", False):
                gate.leave()

        # One idle connection is kept per tenant: opening a WAL database is the
        # dearest part of a small request (the log and its index are set up on
        # first open and folded away on last close). Files are never swapped under
        # a live tenant (resets write through SQLite, see overwrite_database), so a
        # pooled connection always points at the current database. The gate counts
        # connections in use, not open ones.
        engine = sa.create_engine(
            "sqlite://",
            creator=connect,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=-1,
            query_cache_size=0,
            execution_options={"compiled_cache": self.compiled_cache},
        )
        # Statements run through the shared dialect, so the shared cache's keys
        # (which include the dialect) match across tenants; the engine's own
        # dialect still sets up each new connection (its SQL functions).
        engine.dialect = self.dialect
        sa.event.listen(engine, "checkout", checkout)
        sa.event.listen(engine, "checkin", checkin)
        sa.event.listen(engine, "handle_error", _mark_tenant_error)
        return engine


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
    return TenantHandle(
        tenant.id,
        path,
        readonly,
        registry().engine(path, readonly),
        tenant.course.timezone or "UTC",
        tenant.course.fiscal_year_start or 1,
    )


@contextlib.contextmanager
def tenant_session(tenant: Tenant, readonly: bool = False) -> Iterator[sa.orm.Session]:
    """A plain session on one tenant, closed on exit; the caller commits."""
    handle = handle_for(tenant, readonly)
    with sa.orm.Session(handle.engine) as sess:
        yield sess


_sweep_path: contextvars.ContextVar[Path] = contextvars.ContextVar("sweep_path")


def _sweep_engine() -> sa.Engine:
    """One engine for reading many tenants in turn (see :func:`sweep_connection`)."""
    registry_ = registry()
    if registry_._sweep_engine is None:

        def connect() -> sqlite3.Connection:
            path = _sweep_path.get()
            conn = sqlite3.connect(
                f"{path.as_uri()}?mode=rw",
                uri=True,
                timeout=registry_.busy_timeout,
                check_same_thread=False,
                cached_statements=TENANT_STATEMENT_CACHE,
            )
            conn.execute(f"PRAGMA cache_size = -{TENANT_CACHE_KIB}")
            conn.execute("PRAGMA query_only = ON")
            return conn

        engine = sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)
        with registry_._lock:
            if registry_._sweep_engine is None:
                registry_._sweep_engine = engine
            else:
                engine.dispose()
    return registry_._sweep_engine


@contextlib.contextmanager
def sweep_connection(tenant: Tenant) -> Iterator[sa.Connection]:
    """A read-only connection to ``tenant`` for a sweep over many tenants (grading
    a class): all tenants share one engine, so its statements are compiled once,
    and no per-tenant engine is created or evicted from the cache the server's
    requests use. A reset waits for it at the file's gate.
    """
    path = tenant_path(tenant.file_path)
    gate = registry().gate(path)
    gate.enter(registry().reset_wait)
    token = _sweep_path.set(path)
    try:
        with _sweep_engine().connect() as connection:
            yield connection
    finally:
        _sweep_path.reset(token)
        gate.leave()


def student_tenant(user: User) -> Tenant | None:
    """The student's tenant in their most recently joined course."""
    from sandbox.extensions import db
    from sandbox.models.control import Tenant

    return db.session.scalar(
        sa.select(Tenant)
        .where(Tenant.student_id == user.id)
        .options(sa.orm.joinedload(Tenant.course))
        .order_by(Tenant.created_at.desc(), Tenant.id.desc())
    )


def viewable_tenant(user: User, tenant_id: int) -> Tenant | None:
    """A student's tenant that a staff member may open read-only, or None."""
    from sandbox.extensions import db
    from sandbox.models.control import Tenant

    if not user.is_staff:
        return None
    # Loaded with what every read-only page shows: the course (its time zone) and
    # the student (the banner's name).
    tenant = db.session.scalar(
        sa.select(Tenant)
        .where(Tenant.id == tenant_id)
        .options(sa.orm.joinedload(Tenant.course), sa.orm.joinedload(Tenant.student))
    )
    if tenant is None or not user.teaches(tenant.course):
        return None
    return tenant


def _resolve_request_tenant() -> TenantHandle | None:
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    if current_user.is_student:
        known = g.pop("student_tenant", None)  # looked up with the user
        if known is not None and known[0] == current_user.id:
            tenant = known[1]
        else:
            tenant = student_tenant(current_user)
        return handle_for(tenant) if tenant else None
    viewing = session.get(VIEWING_KEY)
    if viewing is not None:
        tenant = viewable_tenant(current_user, viewing)
        if tenant is not None:
            handle = handle_for(tenant, readonly=True)
            return replace(handle, student_name=tenant.student.name)
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
    # A statement reads one database: its first entity's table decides, and the
    # walk over every table of the clause is left for statements without one.
    if mapper is not None:
        return _is_tenant_table(sa.inspect(mapper).local_table)
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


#: SQLite's answers for a file that is not, or no longer, a readable database.
DAMAGED_CODES = frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT})


def is_damage(error: BaseException) -> bool:
    """Whether ``error`` (SQLite's, or SQLAlchemy's around it) says a database
    file is damaged, as opposed to busy or missing a table."""
    error = getattr(error, "orig", None) or error
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in DAMAGED_CODES


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file so no stale ``-wal`` outlives it
    (a damaged file has nothing worth folding in: it is about to be replaced)."""
    if not path.exists():
        return
    conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=5)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as error:
        if not is_damage(error):
            raise
    finally:
        conn.close()


#: The files SQLite keeps beside a database.
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def _remove_sidecars(path: Path) -> None:
    for suffix in SQLITE_SIDECARS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def remove_database(path: Path) -> None:
    """Delete a database nothing uses any more, with every file beside it: its
    SQLite sidecars and the lock files the gates took turns on."""
    path.unlink(missing_ok=True)
    _remove_sidecars(path)
    for lock in locks.lock_paths(path):
        lock.unlink(missing_ok=True)


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
        registry().forget(dest)  # idle pooled connections would keep the old file
        _checkpoint(dest)
        os.replace(prepared, dest)
        _remove_sidecars(dest)


def overwrite_database(source: Path, dest: Path) -> None:
    """Make the live database ``dest`` hold exactly what ``source`` holds.

    The copy is one SQLite write transaction (the online backup API), so every
    process's connections — pooled ones included — go through SQLite's own locks: a
    reset from the command line while the server runs waits for the server's
    writers, and the server's next transaction sees the new data. A crash leaves the
    old or the new content, never a mix. In this process the copy also waits at the
    file's gate for requests under way, so none of them fails halfway.
    """
    if not dest.exists():
        install_file(source, dest)
        return
    registry_ = registry()
    deadline = time.monotonic() + registry_.reset_wait

    def give_up_when_late(status: int, _remaining: int, _total: int) -> None:
        # Python retries a busy backup forever; another process's open write
        # transaction must make a reset give up in time instead.
        if status in SQLITE_BUSY_CODES and time.monotonic() > deadline:
            raise TenantBusy("another process is writing in the workspace; try again")

    with registry_.gate(dest).exclusive(registry_.reset_wait):
        source_uri = f"{source.as_uri()}?mode=ro"
        dest_uri = f"{dest.as_uri()}?mode=rw"
        with contextlib.closing(sqlite3.connect(source_uri, uri=True)) as src:
            with contextlib.closing(
                sqlite3.connect(dest_uri, uri=True, timeout=BUSY_POLL_SECONDS)
            ) as dst:
                try:
                    src.backup(dst, progress=give_up_when_late)
                    return
                except sqlite3.DatabaseError as error:
                    if not (is_damage(error) and _unreadable(dest)):
                        raise
    # A damaged file is no database to copy into (nor one anyone can be using):
    # the reset that mends it replaces the file whole, with a sound copy only.
    _check_sound(source)
    install_file(source, dest)


def _unreadable(path: Path) -> bool:
    """Whether SQLite cannot read ``path``'s schema: the file is damaged."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        ) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        return is_damage(error)
    return False


def _check_sound(path: Path) -> None:
    """Raise :class:`sqlite3.DatabaseError` unless ``path`` is a whole database."""
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
        verdict = c.execute("PRAGMA quick_check").fetchone()
    if verdict != ("ok",):
        raise sqlite3.DatabaseError(f"{path.name} is damaged: {verdict[0]}")


def install_file(source: Path, dest: Path) -> None:
    """Atomically make ``dest`` a copy of ``source``: copied beside it, then swapped."""
    with temporary_beside(dest) as tmp:
        _copy_file(source, tmp)
        swap_in(tmp, dest)


#: Steps run on every freshly built seed file, by name: other parts of the app add
#: what they derive from the built data (the labs pick their lessons' facts), so a
#: reset brings it back with the data.
SEED_FINISHERS: dict[str, Any] = {}


def add_seed_finisher(name: str, finish: Any) -> None:
    """Run ``finish(session)`` on each newly built seed file (it commits)."""
    if SEED_FINISHERS.get(name) is finish:
        return  # every app created in a process adds the same steps again
    SEED_FINISHERS[name] = finish
    _build_fingerprint.cache_clear()


def _finish_seed(path: Path) -> None:
    if not SEED_FINISHERS:
        return
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with sa.orm.Session(engine) as sess:
            for name in sorted(SEED_FINISHERS):
                SEED_FINISHERS[name](sess)
    finally:
        engine.dispose()


@functools.cache
def _build_fingerprint() -> str:
    """A digest of what a built seed file depends on besides its scenario, seed and
    day: the tenant schema (CREATE statements), the scenario builder's source files,
    the scenario and seed-data files and the Faker version. A change to any of them
    never serves a stale cached file.
    """
    import faker
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    import sandbox.scenarios
    from sandbox.models.crm import tenant_metadata

    digest = hashlib.sha256(faker.VERSION.encode())
    dialect = sqlite.dialect()
    for table in tenant_metadata().sorted_tables:
        digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    package = Path(sandbox.scenarios.__file__).parent
    for source in sorted(package.rglob("*")):
        if source.is_file() and source.suffix != ".pyc":
            digest.update(source.relative_to(package).as_posix().encode())
            digest.update(source.read_bytes())
    for data_file in sandbox.scenarios.data.fingerprint_files():  # scenarios, seed data
        digest.update(data_file.name.encode() + data_file.read_bytes())
    for name in sorted(SEED_FINISHERS):
        source = inspect.getsourcefile(SEED_FINISHERS[name])
        digest.update(name.encode() + (Path(source).read_bytes() if source else b""))
    return digest.hexdigest()


def _cached_seed(folder: Path, scenario: str, variant_seed: int, day: date) -> Path:
    """The seed file for this key in the cache ``folder``, built there if missing.

    The file is built beside its final name and renamed into place, so a parallel
    reader sees a complete file or none (two builders of one key write equal files).
    """
    from sandbox.scenarios import build_scenario

    key = f"{scenario}\x1f{variant_seed}\x1f{day.isoformat()}\x1f{_build_fingerprint()}"
    cached = folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.sqlite"
    if not cached.exists():
        with temporary_beside(cached) as tmp:
            build_scenario(tmp, scenario, variant_seed, today=day)
            _finish_seed(tmp)
            os.replace(tmp, cached)
    return cached


def _build_seed(tenant: Tenant, today: date | None) -> None:
    from sandbox.scenarios import build_scenario

    seed_file = tenant_path(tenant.seed_path)
    day = today or date.today()
    cache_dir = current_app.config.get("SEED_CACHE_DIR")
    with temporary_beside(seed_file) as tmp:
        if cache_dir:
            # Tests build the same few tenants over and over: copy a cached build.
            cached = _cached_seed(
                Path(cache_dir), tenant.scenario, tenant.variant_seed, day
            )
            _copy_file(cached, tmp)
        else:
            build_scenario(tmp, tenant.scenario, tenant.variant_seed, today=day)
            _finish_seed(tmp)
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
    overwrite_database(tenant_path(tenant.seed_path), tenant_path(tenant.file_path))
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

    SQLite's own locks keep the copy consistent against writers in any process; in
    this process the copy also counts at the file's gate, so a reset waits for it.
    """
    gate = registry().gate(source)
    gate.enter(registry().reset_wait)
    try:
        with temporary_beside(dest) as tmp:
            uri = f"{source.as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as src:
                with contextlib.closing(sqlite3.connect(tmp)) as dst:
                    src.backup(dst)
            os.replace(tmp, dest)
    finally:
        gate.leave()


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
    overwrite_database(source, tenant_path(tenant.file_path))
