"""OS file locks, so every process that opens or swaps a database file takes turns.

A database ``X`` has two lock files beside it: ``X.lock``, held shared by every open
connection and exclusively by a swap (reset, restore), and ``X.intent``, which a swap
holds exclusively while it waits, so a steady stream of new connections cannot
starve it. ``flock`` locks belong to an open file, not a process, so they also
order connections and swaps within one process, and the OS releases them when a
process dies, even by SIGKILL.

Where ``fcntl`` is missing (Windows) the locks are no-ops: one server process per
instance, and resets through it, are then the safe way to work.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockTimeout(Exception):
    """A lock stayed held by another connection or process for too long."""


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _flock(fd: int, operation: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(f"not locked within {timeout}s") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.02)


def lock_paths(path: Path) -> tuple[Path, Path]:
    return Path(f"{path}.lock"), Path(f"{path}.intent")


def acquire_shared(path: Path, timeout: float) -> Callable[[], None]:
    """Hold ``path`` shared (an open connection); returns the release function."""
    if fcntl is None:  # pragma: no cover - Windows
        return lambda: None
    lock, intent = lock_paths(path)
    intent_fd = _open(intent)
    try:
        # Passing the intent lock waits behind a swap that is waiting its turn.
        _flock(intent_fd, fcntl.LOCK_SH, timeout)
        fd = _open(lock)
        try:
            _flock(fd, fcntl.LOCK_SH, timeout)
        except BaseException:
            os.close(fd)
            raise
    finally:
        os.close(intent_fd)
    return lambda: os.close(fd)


@contextlib.contextmanager
def exclusive(path: Path, timeout: float) -> Iterator[None]:
    """Hold ``path`` exclusively: no connection of any process is open meanwhile."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    lock, intent = lock_paths(path)
    intent_fd = _open(intent)
    try:
        _flock(intent_fd, fcntl.LOCK_EX, timeout)
        fd = _open(lock)
        try:
            _flock(fd, fcntl.LOCK_EX, timeout)
            yield
        finally:
            os.close(fd)
    finally:
        os.close(intent_fd)


def try_hold(path: Path, *, shared: bool) -> Callable[[], None] | None:
    """Lock ``path`` now if that is possible; returns the release, or None."""
    if fcntl is None:  # pragma: no cover - Windows
        return lambda: None
    fd = _open(path)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return lambda: os.close(fd)
