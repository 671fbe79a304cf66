"""The server set-up shared by ``crm-sandbox serve`` and the page benchmark."""

import gc

import pytest

from sandbox import serving


@pytest.fixture
def collector():
    """Put the collector back as it was, whatever the test did to it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_server_keeps_the_collector_off_start_up_objects(app, collector):
    assert gc.get_freeze_count() == 0
    server = serving.make_server(app, "127.0.0.1", 0, 2)
    try:
        assert int(server.effective_port) > 0
        assert gc.get_freeze_count() > 10_000  # modules, the app, its URL map …
        assert gc.get_threshold()[0] == serving.GC_YOUNG_THRESHOLD
    finally:
        server.close()
