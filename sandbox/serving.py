"""The production server: waitress, set up the same way wherever the app is served
(``crm-sandbox serve``, the demo, the page benchmark)."""

from __future__ import annotations

import gc
import select

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


#: Connections the server keeps open at once. Browsers keep a finished page's
#: connection open for minutes, so a class of 200 holds hundreds of idle ones; at
#: waitress's default of 100 the server stopped accepting new ones, and the rest of
#: the class waited until idle connections timed out.
CONNECTION_LIMIT = 1000
#: Where ``select()`` is all there is (Windows), it watches at most 512 sockets.
SELECT_CONNECTION_LIMIT = 500
#: Files open beside connections and tenants: the control database, logs, uploads.
OTHER_FILES = 128


def reserved_files(open_tenants: int) -> int:
    """Descriptors kept for everything but connections: each open tenant holds
    three (its database, its write-ahead log and that log's index)."""
    return 3 * open_tenants + OTHER_FILES


def raise_file_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (never
    past the hard limit); returns the soft limit now in force."""
    import resource  # POSIX, as poll() is

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else soft


def connection_limit(open_tenants: int) -> int:
    """How many connections this process can hold open beside ``open_tenants``."""
    if not hasattr(select, "poll"):
        return SELECT_CONNECTION_LIMIT
    reserved = reserved_files(open_tenants)
    files = raise_file_limit(CONNECTION_LIMIT + reserved)
    return max(100, min(CONNECTION_LIMIT, files - reserved))


def make_server(
    wsgi_app, host: str, port: int, threads: int, *, open_tenants: int
) -> BaseWSGIServer:
    """A waitress server for ``wsgi_app`` with the socket bound (``port`` 0 picks a
    free one: see ``effective_port``), leaving files for ``open_tenants`` (the app's
    ``TENANT_ENGINE_CACHE_SIZE``).

    It waits on its connections with ``poll()`` where the system has it: ``select()``
    cannot watch a descriptor numbered past 1023, and hundreds of connections and
    open tenants go past it.
    """
    tune_garbage_collection()
    return create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=threads,
        ident="crm-sandbox",
        connection_limit=connection_limit(open_tenants),
        asyncore_use_poll=hasattr(select, "poll"),
    )
