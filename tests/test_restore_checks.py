"""Restore trusts nothing in an archive: paths, schemas, sizes, the manifest."""

from __future__ import annotations

import sqlite3
import zipfile

import pytest

from tests.conftest import close_app, make_app
from tests.test_backup import (
    backup,
    describe,
    instance_state,
    read_archive,
    write_archive,
)


def tamper_control(files: dict, manifest: dict, tmp_path, *statements) -> None:
    """Run SQL on the archive's control database, keeping the manifest consistent."""
    path = tmp_path / "control-copy.db"
    path.write_bytes(files["sandbox.db"])
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
        rows = conn.execute("SELECT file_path, seed_path FROM tenant ORDER BY id")
        rows = rows.fetchall()
    conn.close()
    files["sandbox.db"] = path.read_bytes()
    manifest["members"]["sandbox.db"] = describe(files["sandbox.db"])
    for tenant, (file_path, seed_path) in zip(manifest["tenants"], rows, strict=True):
        tenant["file_path"], tenant["seed_path"] = file_path, seed_path


def tenant_file_is_the_control_database(files, manifest, tmp_path):
    tamper_control(
        files, manifest, tmp_path, "UPDATE tenant SET file_path = 'sandbox.db'"
    )


def seed_file_is_the_control_database(files, manifest, tmp_path):
    tamper_control(
        files, manifest, tmp_path, "UPDATE tenant SET seed_path = 'sandbox.db'"
    )


def two_tenants_share_a_file(files, manifest, tmp_path):
    tamper_control(
        files,
        manifest,
        tmp_path,
        "UPDATE tenant SET file_path = (SELECT min(file_path) FROM tenant)",
    )


def students_swap_files(files, manifest, tmp_path):
    tamper_control(
        files,
        manifest,
        tmp_path,
        "UPDATE tenant SET file_path = CASE id "
        "WHEN 1 THEN (SELECT file_path FROM tenant WHERE id = 2) "
        "ELSE (SELECT file_path FROM tenant WHERE id = 1) END",
    )


def tenant_file_without_crm_tables(files, manifest, tmp_path):
    name = manifest["tenants"][0]["file_path"]
    files[name] = files["sandbox.db"]  # a sound database, but user rows, no CRM
    manifest["members"][name] = describe(files[name])


def tenant_not_in_the_manifest(files, manifest, tmp_path):
    manifest["tenants"].pop()


def member_is_file_and_folder(files, manifest, tmp_path):
    name = manifest["tenants"][0]["file_path"]
    nested = f"{name}/inner.sqlite"
    files[nested] = files[name]
    manifest["members"][nested] = describe(files[name])


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (tenant_file_is_the_control_database, "not the path this app gives"),
        (seed_file_is_the_control_database, "not the path this app gives"),
        (two_tenants_share_a_file, "not the path this app gives"),
        (students_swap_files, "not the path this app gives"),
        (tenant_file_without_crm_tables, "lacks the CRM table"),
        (tenant_not_in_the_manifest, "does not match its control database"),
        (member_is_file_and_folder, "unsafe name"),
    ],
)
def test_restore_refuses_a_tampered_archive(
    app, classroom, runner, tmp_path, tamper, message
):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    backup(app, good)
    manifest, files = read_archive(good)
    tamper(files, manifest, tmp_path)
    write_archive(bad, manifest, files)
    before = instance_state(tmp_path / "instance")

    result = runner.invoke(args=["restore", "--force", str(bad)])

    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code != 0 and message in result.output, result.output
    assert instance_state(tmp_path / "instance") == before


def test_restore_refuses_a_deeply_nested_manifest(app, classroom, runner, tmp_path):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    backup(app, good)
    _, files = read_archive(good)
    depth = 200_000
    with zipfile.ZipFile(bad, "w") as zipped:
        zipped.writestr("manifest.json", "[" * depth + "]" * depth)
        for name, data in files.items():
            zipped.writestr(name, data)

    result = runner.invoke(args=["restore", "--force", str(bad)])

    assert isinstance(result.exception, SystemExit), result.exception
    assert "manifest.json is not valid JSON" in result.output


def test_restore_stops_at_the_size_limit(app, classroom, tmp_path):
    archive = tmp_path / "class.zip"
    backup(app, archive)
    small = make_app(tmp_path / "small", RESTORE_MAX_FILE_BYTES=4096)
    try:
        before = instance_state(tmp_path / "small")
        result = small.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code != 0
        assert "larger than the 4096 bytes a restore accepts" in result.output
        assert instance_state(tmp_path / "small") == before
    finally:
        close_app(small)
