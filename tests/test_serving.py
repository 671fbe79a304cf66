"""The server set-up shared by ``crm-sandbox serve`` and the page benchmark."""

import gc

import pytest

from sandbox import serving
from tests.live import LiveServer

#: The open tenants the servers made here leave files for.
OPEN_TENANTS = 256


@pytest.fixture
def collector():
    """The collector at Python's defaults for the test, then put back as the suite
    keeps it (see ``tests/conftest.py``)."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *threshold[1:])
    yield
    gc.unfreeze()
    serving.tune_garbage_collection()
    gc.set_threshold(*threshold)


def test_the_server_keeps_the_collector_off_start_up_objects(app, collector):
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] != serving.GC_YOUNG_THRESHOLD
    server = serving.make_server(app, "127.0.0.1", 0, 2, open_tenants=OPEN_TENANTS)
    try:
        assert int(server.effective_port) > 0
        assert gc.get_freeze_count() > 10_000  # modules, the app, its URL map …
        assert gc.get_threshold()[0] == serving.GC_YOUNG_THRESHOLD
    finally:
        server.close()


def test_a_class_of_idle_browser_connections_does_not_lock_out_the_next_student(
    app, collector
):
    """Browsers keep a page's connection open for minutes. Under waitress's default
    limit of 100 open connections, the 101st student's request was never answered."""
    import http.client

    live = LiveServer(
        app,
        serving.make_server(app, "127.0.0.1", 0, 2, open_tenants=OPEN_TENANTS),
    )
    live.start()
    port = live.port
    idle = []
    try:
        for _ in range(150):  # a class's browsers, each holding its last connection
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/auth/login")
            connection.getresponse().read()
            idle.append(connection)
        latecomer = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        latecomer.request("GET", "/auth/login")
        assert latecomer.getresponse().status == 200
        latecomer.close()
    finally:
        for connection in idle:
            connection.close()
        live.stop()


class FakeLimits:
    """``resource``'s open-file limit, as a system with a low soft limit has it."""

    RLIMIT_NOFILE = 7
    RLIM_INFINITY = -1

    def __init__(self, soft: int, hard: int) -> None:
        self.limits = (soft, hard)

    def getrlimit(self, _kind):
        return self.limits

    def setrlimit(self, _kind, limits):
        if limits[0] > self.limits[1]:
            raise ValueError("past the hard limit")
        self.limits = limits


@pytest.mark.parametrize(
    ("soft", "hard", "connections", "raised_to"),
    [
        (1024, 65536, serving.CONNECTION_LIMIT, 1896),  # raised: room for all
        (1024, 1024, 1024 - serving.reserved_files(OPEN_TENANTS), 1024),  # held: fits
        (256, 256, 100, 256),  # never below waitress's own default
    ],
)
def test_the_connection_limit_leaves_room_for_open_tenants(
    monkeypatch, soft, hard, connections, raised_to
):
    import sys

    limits = FakeLimits(soft, hard)
    monkeypatch.setitem(sys.modules, "resource", limits)
    assert serving.connection_limit(OPEN_TENANTS) == connections
    assert limits.limits == (raised_to, hard)


def test_without_poll_the_server_keeps_to_what_select_can_watch(monkeypatch):
    monkeypatch.delattr(serving.select, "poll")
    assert serving.connection_limit(OPEN_TENANTS) == serving.SELECT_CONNECTION_LIMIT
