"""A reset landing in the middle of a student's request: a clear page, never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_login import current_user

from sandbox import crm, tenancy
from sandbox.extensions import db
from sandbox.models.crm import Account


def reset_my_crm() -> None:
    """The instructor's reset, as it would land from another request or process."""
    tenancy.reset_tenant(tenancy.student_tenant(current_user))


@pytest.fixture
def reset_around_commit(monkeypatch):
    """Make every CRM save commit, then have the student's CRM reset."""

    from sandbox.crm.accounts import service as accounts_service

    def install() -> None:
        original = crm.service.commit

        def commit_with_reset(session) -> None:
            original(session)
            reset_my_crm()

        # Saves commit through the kit's commit (some modules import it by name).
        monkeypatch.setattr(crm.service, "commit", commit_with_reset)
        monkeypatch.setattr(accounts_service, "commit", commit_with_reset)

    return install


def test_reset_between_save_and_redirect_still_redirects(
    client, auth, classroom, reset_around_commit
):
    auth.login("alice")
    reset_around_commit()
    response = client.post(
        "/crm/accounts/new", data={"name": "Saved Just Before", "account_type": "other"}
    )
    assert response.status_code == 302
    # The record went with the reset; its page is a plain 404, not a crash.
    assert client.get(response.location).status_code == 404


@pytest.fixture
def probe_routes(app):
    """Routes that hit a reset, or a broken database, half-way through."""

    def newest_account() -> Account:
        return db.session.scalars(
            sa.select(Account).order_by(Account.id.desc())
        ).first()

    @app.route("/_probe/vanished")
    def vanished():
        account = newest_account()
        db.session.commit()  # the transaction ends; a reset may land now
        reset_my_crm()
        db.session.expire(account)  # a route that re-reads the record
        return account.name

    @app.route("/_probe/stale")
    def stale():
        account = newest_account()
        db.session.commit()
        reset_my_crm()
        account.name = "Changed after the reset"
        db.session.commit()
        return "unreachable"

    @app.route("/_probe/tenant-error")
    def tenant_error():
        db.session.execute(sa.select(Account).where(sa.text("no_such_column = 1")))
        return "unreachable"

    @app.route("/_probe/control-error")
    def control_error():
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
        return "unreachable"


@pytest.mark.usefixtures("probe_routes")
@pytest.mark.parametrize("probe", ["vanished", "stale"])
def test_a_record_gone_mid_request_asks_to_reload(client, auth, classroom, probe):
    auth.login("alice")
    client.post(
        "/crm/accounts/new", data={"name": "Gone Soon", "account_type": "other"}
    )
    response = client.get(f"/_probe/{probe}")
    assert response.status_code == 409
    assert "Your CRM was reset" in response.get_data(as_text=True)


@pytest.mark.usefixtures("probe_routes")
def test_a_tenant_database_error_asks_to_reload(client, auth, classroom):
    auth.login("alice")
    response = client.get("/_probe/tenant-error")
    assert response.status_code == 409
    assert "please reload" in response.get_data(as_text=True)


@pytest.mark.usefixtures("probe_routes")
def test_a_control_database_error_is_still_a_logged_500(client, auth, classroom):
    auth.login("alice")
    response = client.get("/_probe/control-error")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
