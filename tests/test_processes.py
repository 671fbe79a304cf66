"""Resets from one process while another process works in the same tenant."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.control import Tenant

#: Long-running: scheduled first, so parallel workers share the tail.
pytestmark = pytest.mark.slow

CHILD = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    from sandbox import create_app, tenancy
    from sandbox.extensions import db
    from sandbox.models.control import Tenant
    from sandbox.models.crm import Account

    instance, mode, tenant_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = create_app({"INSTANCE_PATH": instance, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        if mode == "hold":
            with tenancy.tenant_session(tenant) as session:
                session.add(Account(name="Held open", account_type="other"))
                session.flush()
                print("ready", flush=True)
                sys.stdin.readline()
                session.commit()
            print("done", flush=True)
        else:
            deadline = time.monotonic() + float(sys.argv[4])
            wrote = failed = 0
            while time.monotonic() < deadline:
                try:
                    with tenancy.tenant_session(tenant) as session:
                        session.add(Account(name=f"w{wrote}", account_type="other"))
                        session.commit()
                        session.scalar(sa.select(sa.func.count(Account.id)))
                    wrote += 1
                except Exception as error:
                    failed += 1
                    print("error", repr(error), flush=True)
            print("wrote", wrote, failed, flush=True)
    """
)


def start_child(tmp_path, app, tenant_id: int, *args: str) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), app.instance_path, *args[:1], str(tenant_id)]
        + list(args[1:]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def integrity(app, tenant_id: int) -> list[str]:
    with app.app_context():
        path = tenancy.tenant_path(db.session.get(Tenant, tenant_id).file_path)
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def test_a_reset_waits_for_another_process_in_the_tenant(app, classroom, tmp_path):
    tenant_id = classroom.tenant_ids[0]
    child = start_child(tmp_path, app, tenant_id, "hold")
    try:
        assert child.stdout.readline().strip() == "ready"
        with app.app_context():
            tenancy.registry().reset_wait = 0.5
            with pytest.raises(tenancy.TenantBusy):
                tenancy.reset_tenant(db.session.get(Tenant, tenant_id))
            db.session.rollback()
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "done"
        assert child.wait(30) == 0
        with app.app_context():
            tenancy.reset_tenant(db.session.get(Tenant, tenant_id))
            db.session.commit()
    finally:
        child.kill()
        child.communicate()  # closes the pipes
    assert integrity(app, tenant_id) == ["ok"]


def test_resets_while_another_process_writes_lose_nothing_and_break_nothing(
    app, classroom, tmp_path
):

    tenant_id = classroom.tenant_ids[0]
    child = start_child(tmp_path, app, tenant_id, "write", "3")
    resets = 0
    try:
        deadline = time.monotonic() + 60
        with app.app_context():
            # Resets go on for as long as the other process writes.
            while child.poll() is None and time.monotonic() < deadline:
                tenancy.reset_tenant(db.session.get(Tenant, tenant_id))
                db.session.commit()
                resets += 1
                time.sleep(0.02)
        output, _ = child.communicate(timeout=60)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == 0
    last = output.strip().splitlines()[-1].split()
    assert last[0] == "wrote" and int(last[1]) > 10 and resets > 10, output
    assert int(last[2]) == 0, output  # no disk I/O or locking-protocol errors
    assert integrity(app, tenant_id) == ["ok"]


def test_restore_refuses_while_a_server_serves_the_instance(app, classroom, tmp_path):
    archive = tmp_path / "class.zip"
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    server = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--instance", app.instance_path]
        + ["serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in server.stdout:
            if "is running at" in line:
                break
        before = (tmp_path / "instance" / "sandbox.db").read_bytes()
        refused = app.test_cli_runner().invoke(
            args=["restore", "--force", str(archive)]
        )
        assert refused.exit_code != 0
        assert "stop it before restoring" in refused.output
        assert (tmp_path / "instance" / "sandbox.db").read_bytes() == before
    finally:
        server.terminate()
        server.communicate(timeout=30)
    restored = app.test_cli_runner().invoke(args=["restore", "--force", str(archive)])
    assert restored.exit_code == 0, restored.output
