"""Only the account that runs the app can read its databases, backups and key."""

from __future__ import annotations

import os
import stat

import pytest

from sandbox import create_app
from tests.conftest import close_app, make_app
from tests.helpers import make_course, make_student

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def loose_umask():
    """The permissive umask many systems have: files would be world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_instance_files_are_private_from_creation(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    app = make_app(instance)
    try:
        with app.app_context():
            course = make_course()
            _, tenant = make_student(course, "alice")
            files = [instance / tenant.file_path, instance / tenant.seed_path]
        archive = tmp_path / "elsewhere" / "class.zip"
        archive.parent.mkdir()
        result = app.test_cli_runner().invoke(args=["backup", str(archive)])
        assert result.exit_code == 0, result.output
        default = app.test_cli_runner().invoke(args=["backup"])
        assert default.exit_code == 0, default.output
    finally:
        close_app(app)
    assert mode(instance) == 0o700
    for path in (instance / "sandbox.db", *files, archive):
        assert mode(path) == 0o600, path
    backups = list((instance / "backups").iterdir())
    assert backups and all(mode(path) == 0o600 for path in backups)


def test_an_existing_instance_folder_is_made_private(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    create_app({"INSTANCE_PATH": str(instance)})
    assert mode(instance) == 0o700


def test_secret_key_is_never_written_through_a_fixed_temporary_name(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    # Anyone who could plant secret_key.tmp would learn or redirect the key.
    planted = tmp_path / "planted"
    (instance / "secret_key.tmp").symlink_to(planted)
    app = create_app({"INSTANCE_PATH": str(instance)})
    assert not planted.exists()
    assert (instance / "secret_key").read_text() == app.secret_key
    assert mode(instance / "secret_key") == 0o600
