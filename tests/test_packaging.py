"""What ``pip install .`` puts beside the package: every lesson, scenario and seed
file, where an installed copy looks for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.scenarios import spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DATA_FOLDERS = ("lessons", "scenarios", "seed_data")


def tracked_files(folder: str) -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the files to ship are not known")
    return {line for line in listed.stdout.splitlines() if line}


def shipped_files() -> dict[str, str]:
    """Each file the data-files globs match -> the folder it is installed in."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = {}
    for target, patterns in config["tool"]["setuptools"]["data-files"].items():
        for pattern in patterns:
            for path in ROOT.glob(pattern):
                shipped[path.relative_to(ROOT).as_posix()] = target
    return shipped


@pytest.mark.parametrize("folder", DATA_FOLDERS)
def test_an_installed_copy_gets_every_file_of_the_data_folders(folder):
    shipped = shipped_files()
    missing = sorted(tracked_files(folder) - set(shipped))
    assert missing == []
    for path, target in shipped.items():
        if path.startswith(f"{folder}/"):
            # lessons/x.toml -> share/crm-sandbox/lessons, the folder data_root reads
            assert target == f"share/crm-sandbox/{Path(path).parent.as_posix()}"


def test_an_installed_copy_reads_its_lessons_from_the_shared_folder(
    tmp_path, monkeypatch
):
    checkout, share = tmp_path / "site-packages", tmp_path / "share" / "crm-sandbox"
    (share / "lessons").mkdir(parents=True)
    checkout.mkdir()
    monkeypatch.setattr(spec, "PACKAGE_ROOT", checkout)
    monkeypatch.setattr(spec, "SHARE", share)
    assert spec.data_root("lessons") == share / "lessons"
    (checkout / "lessons").mkdir()  # a checkout's own folder comes first
    assert spec.data_root("lessons") == checkout / "lessons"
