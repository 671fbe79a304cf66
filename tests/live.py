"""A live server for tests that need real HTTP: the browser tests, and the
server's own set-up."""

from __future__ import annotations

import gc
import threading
import warnings


def _files_closed_in_the_request(app):
    """``app`` without ``wsgi.file_wrapper``: waitress hands a wrapped static file
    to the connection, which leaves it to the garbage collector (a ResourceWarning,
    an error here) when the browser cancels the download, as Chromium does with the
    favicon on navigation. Iterated as a plain response, it is closed in the request.
    """

    def without_file_wrapper(environ, start_response):
        environ.pop("wsgi.file_wrapper", None)
        return app(environ, start_response)

    return without_file_wrapper


class LiveServer:
    """``app`` served by waitress in a thread, on a free port of 127.0.0.1.

    ``server`` is a waitress server already made for ``app`` on such a port;
    without one, a server as the browser tests want it is made.
    """

    def __init__(self, app, server=None) -> None:
        import waitress

        self.app = app
        self._server = server or waitress.create_server(
            _files_closed_in_the_request(app), host="127.0.0.1", port=0, threads=4
        )
        self.port = int(self._server.effective_port)
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.run, name="live-server", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        from waitress import wasyncore

        server = self._server

        def close_everything() -> None:
            # Run inside the server's loop: the listening socket and any kept-alive
            # connection are closed between two polls, so the loop (which runs while
            # its socket map is not empty) ends without a select() on a closed fd.
            server.close()
            wasyncore.close_all(server._map)

        server.trigger.pull_trigger(close_everything)
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not self._thread.is_alive(), "the live server did not stop"
        # A connection closed mid-request leaves waitress's request-body buffer (a
        # temporary file) to the garbage collector: collect it here, quietly, not
        # in whichever test runs next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()

    def url_for(self, path: str) -> str:
        return f"{self.url}{path}"
