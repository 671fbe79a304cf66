"""Login throttling: atomic counts, equal work for unknown users, per address."""

from __future__ import annotations

import threading

import pytest

from sandbox.auth import service
from sandbox.models import control
from tests.helpers import PASSWORD

ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
CLASSROOM = {"REMOTE_ADDR": "10.0.0.2"}


def login(app, username, password, environ=ATTACKER):
    return app.test_client().post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base=environ,
    )


def throttled(response) -> bool:
    return "Too many failed attempts" in response.get_data(as_text=True)


@pytest.fixture
def hash_checks(monkeypatch):
    """Count password-hash verifications, wherever the login makes them."""
    calls = []
    lock = threading.Lock()
    real = control.check_password_hash

    def counting(pwhash, password):
        with lock:
            calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(control, "check_password_hash", counting)
    monkeypatch.setattr(service, "check_password_hash", counting, raising=False)
    return calls


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand."""

    class Clock:
        now = 1_000_000.0

        def advance(self, seconds: float) -> None:
            self.now += seconds

    fake = Clock()
    monkeypatch.setattr(service, "_now", lambda: fake.now)
    return fake


def test_parallel_wrong_passwords_check_no_more_than_the_limit(
    app, classroom, hash_checks
):
    limit = app.config["LOGIN_MAX_FAILURES"]
    start = threading.Barrier(40)
    results = []

    def attempt(n: int) -> None:
        start.wait()
        results.append(login(app, "alice", f"wrong-{n}").status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [200] * 40
    assert len(hash_checks) == limit


def test_unknown_users_cost_one_hash_check_like_real_ones(app, classroom, hash_checks):
    login(app, "alice", "wrong")
    login(app, "no-such-user", "wrong")
    assert len(hash_checks) == 2
    real, dummy = hash_checks
    method = app.config["PASSWORD_HASH_METHOD"]
    # Same algorithm and cost parameters: the same time spent.
    assert real.rsplit("$", 2)[0] == dummy.rsplit("$", 2)[0]
    assert dummy.startswith(method.split(":")[0])


def test_inactive_users_cost_a_hash_check_too(app, classroom, hash_checks):
    from sandbox.extensions import db
    from tests.conftest import user_named

    with app.app_context():
        user_named("alice").active = False
        db.session.commit()
    assert "deactivated" in login(app, "alice", PASSWORD).get_data(as_text=True)
    assert len(hash_checks) == 1


def test_failures_from_one_address_never_lock_out_another(app, classroom):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit + 3):
        login(app, "teacher", "guess")
    assert throttled(login(app, "teacher", PASSWORD))  # the attacker's address
    assert login(app, "teacher", PASSWORD, environ=CLASSROOM).status_code == 302


def test_one_address_trying_many_names_is_slowed_more_and_more(app, classroom, clock):
    limit = app.config["LOGIN_IP_MAX_FAILURES"]
    for n in range(limit):
        assert not throttled(login(app, f"name{n}", "guess"))
    assert throttled(login(app, "another-name", "guess"))
    assert not throttled(login(app, "another-name", "guess", environ=CLASSROOM))

    waits = []
    for _ in range(4):
        waited = 0.0
        while throttled(login(app, "yet-another", "guess")):
            clock.advance(0.5)
            waited += 0.5
        waits.append(waited)
    assert waits[0] < waits[1] < waits[2] < waits[3]


def test_lockout_expires(app, classroom, clock):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(app, "alice", "bad")
    assert throttled(login(app, "alice", PASSWORD))
    clock.advance(60 * app.config["LOGIN_LOCKOUT_MINUTES"] + 1)
    assert login(app, "alice", PASSWORD).status_code == 302


def test_a_successful_login_clears_the_count(app, classroom):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        login(app, "alice", "bad")
    assert login(app, "alice", PASSWORD).status_code == 302
    for _ in range(limit - 1):
        login(app, "alice", "bad")
    assert login(app, "alice", PASSWORD).status_code == 302
