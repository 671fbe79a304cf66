"""The files of ``seed_data/``: name parts, places, sentences, catalogues, codes."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from sandbox.scenarios.spec import ScenarioError, data_root


def seed_dir() -> Path:
    return data_root("seed_data")


@functools.cache
def load(name: str) -> dict[str, Any]:
    """One JSON file of ``seed_data`` (``catalogues/x`` for a catalogue)."""
    path = seed_dir() / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(
            f"{path}: cannot read the file ({error.strerror})"
        ) from None
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{path}: line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None


@functools.cache
def catalogue_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in (seed_dir() / "catalogues").glob("*.json")))


def catalogue(name: str) -> dict[str, Any]:
    return load(f"catalogues/{name}")


@functools.cache
def extra_codes() -> dict[str, dict[str, tuple[str, str]]]:
    """Code-list entries scenarios may add: list -> code -> (en, zh)."""
    return {
        key: {code: (en, zh) for code, en, zh in entries}
        for key, entries in load("code_lists").items()
        if not key.startswith("_")
    }


def fingerprint_files() -> list[Path]:
    """Every file a build reads besides the package's own code."""
    from sandbox.scenarios.spec import scenario_dir

    return sorted(
        [*scenario_dir().glob("*.toml"), *seed_dir().rglob("*.json")],
        key=lambda p: p.as_posix(),
    )
