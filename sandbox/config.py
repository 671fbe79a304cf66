"""Configuration: defaults, ``instance/config.py``, then ``SANDBOX_*`` variables."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from pathlib import Path

from sandbox.files import create_private

#: Threads of the production server. Python runs one thread at a time, so beyond a
#: few a busy server only contends for the interpreter lock: on 2 cores 4 threads
#: serve about 1.4 times the pages 16 do (``benchmarks/bench_pages.py --threads``).
SERVER_THREADS = 4

ENV_PREFIX = "SANDBOX_"


def default_instance_path() -> Path:
    """The instance folder: ``$SANDBOX_INSTANCE`` or ``./instance``."""
    configured = os.environ.get(f"{ENV_PREFIX}INSTANCE")
    return Path(configured or "instance").expanduser().resolve()


def defaults(instance: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{(instance / 'sandbox.db').as_posix()}",
        # The tenant bind is a placeholder: TenantSession.get_bind routes tenant tables
        # to the engine of the tenant chosen for the current request.
        "SQLALCHEMY_BINDS": {"tenant": "sqlite://"},
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}},
        "SESSION_COOKIE_HTTPONLY": True,
        # None: Secure whenever the request came over HTTPS; true forces it.
        "SESSION_COOKIE_SECURE": None,
        # How many reverse proxies in front of the app set X-Forwarded-* (0: none).
        "TRUSTED_PROXIES": 0,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "PASSWORD_HASH_METHOD": "scrypt",
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        # Failures from one client address (any names) before growing delays begin;
        # a classroom behind one NAT address shares it, so it is set generously.
        "LOGIN_IP_MAX_FAILURES": 30,
        "LOGIN_IP_FIRST_DELAY_SECONDS": 1.0,
        # Tenants kept open (about 0.6 MB each). A class of 200 working at once must
        # fit, with its instructor's views: when it did not, each request closed
        # one tenant's database and opened another's (bench_classroom.py).
        "TENANT_ENGINE_CACHE_SIZE": 256,
        "TENANT_BUSY_TIMEOUT": 30.0,
        "TENANT_RESET_WAIT": 10.0,
        # A folder where built seed files are kept and copied from, keyed by
        # scenario, variant seed, day and schema (the test suite sets it); None = off.
        "SEED_CACHE_DIR": None,
        "PAGE_SIZE": 20,
        # Documents: the largest file a student may upload, and all files together.
        "DOCUMENT_MAX_FILE_BYTES": 10 * 1024 * 1024,
        "DOCUMENT_MAX_TENANT_BYTES": 50 * 1024 * 1024,
        # A restore refuses an archive member (a database) larger than this.
        "RESTORE_MAX_FILE_BYTES": 4 * 1024**3,
        "SERVER_THREADS": SERVER_THREADS,
    }


def from_environment(config: dict) -> None:
    """Apply ``SANDBOX_<KEY>`` for settings the app knows; JSON values are decoded.

    Unknown names are left alone, so variables meant for other tools (a test
    runner's, say) never leak into the configuration.
    """
    for name, raw in os.environ.items():
        key = name[len(ENV_PREFIX) :]
        if not name.startswith(ENV_PREFIX) or key not in config:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        config[key] = _of_the_defaults_kind(name, config[key], value)


class ConfigError(ValueError):
    """A setting whose value cannot be used; the message names the setting."""


def _of_the_defaults_kind(name: str, default: object, value: object) -> object:
    """``value``, if it is of the kind the setting's default is (a whole number
    where a number is wanted is fine); else a :class:`ConfigError`."""
    if isinstance(default, bool):
        wanted, ok = "true or false", isinstance(value, bool)
    elif isinstance(default, int):
        wanted = "a whole number"
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        wanted = "a number"
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        return value
    if not ok:
        raise ConfigError(f"{name} must be {wanted}, not {value!r}")
    return float(value) if isinstance(default, float) else value


def ensure_secret_key(instance: Path) -> str:
    """Read the instance's secret key, generating it on first run."""
    key_file = instance / "secret_key"
    if not key_file.exists():
        _write_secret_key(key_file, secrets.token_hex(32))
    return key_file.read_text(encoding="utf-8").strip()


def _write_secret_key(key_file: Path, key: str) -> None:
    """Write the key under a unique private name, then link it into place.

    ``os.link`` refuses an existing name, so when two processes start together the
    first key wins and both read the same one; nobody ever reads a half-written key.
    """
    tmp = key_file.with_name(f".{key_file.name}.{uuid.uuid4().hex}.tmp")
    create_private(tmp)
    try:
        tmp.write_text(key, encoding="utf-8")
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
