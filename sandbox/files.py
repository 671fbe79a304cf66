"""Files only the account running the app can read: databases, backups, the key."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def create_private(path: Path) -> None:
    """Create ``path`` empty and readable by its owner only; fails if it exists.

    ``O_EXCL`` (with ``O_NOFOLLOW`` where there is one) never follows a planted
    symlink, and the mode is set at creation, so there is no moment at which
    another account could open the file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    os.close(os.open(path, flags, PRIVATE_FILE))


def ensure_private_file(path: Path) -> None:
    """Create ``path`` as a private empty file unless it exists already."""
    try:
        create_private(path)
    except FileExistsError:
        pass


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) and make it the owner's alone."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    try:
        path.chmod(PRIVATE_DIR)
    except OSError:  # pragma: no cover - a folder we do not own stays as it is
        pass
