"""The production server: waitress, set up the same way wherever the app is served
(``crm-sandbox serve``, the demo, the page benchmark)."""

from __future__ import annotations

import gc

from waitress import create_server
from waitress.server import BaseWSGIServer

#: Allocations between two collections of Python's youngest generation (its default
#: is 700). One page allocates tens of thousands of short-lived objects; collecting
#: every 700 of them scans the request's live objects over and over.
GC_YOUNG_THRESHOLD = 20_000


def tune_garbage_collection() -> None:
    """Keep the collector off what lives as long as the server.

    Everything loaded at start-up (modules, the app, its URL map, translations) is
    moved out of the collector's reach (``gc.freeze``), so a full collection no
    longer walks it, and the youngest generation is collected less often.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


def make_server(wsgi_app, host: str, port: int, threads: int) -> BaseWSGIServer:
    """A waitress server for ``wsgi_app`` with the socket bound (``port`` 0 picks a
    free one: see ``effective_port``)."""
    tune_garbage_collection()
    return create_server(
        wsgi_app, host=host, port=port, threads=threads, ident="crm-sandbox"
    )
