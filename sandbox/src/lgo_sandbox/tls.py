"""Running a sandbox HTTP(S) server in the background on a free loopback port.

A sandbox service is a WSGI application; :class:`BackgroundServer` serves it with the standard library's threading
server, over TLS when given a context (with client certificates when the context requires them). The peer
certificate of each request is put in the WSGI environ as ``lgo.peer_certificate`` (DER bytes) so that a service
can check the caller's CN as the national service does.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        if isinstance(self.connection, ssl.SSLSocket):
            environ["wsgi.url_scheme"] = "https"
            environ["lgo.peer_certificate"] = self.connection.getpeercert(binary_form=True)
        return environ


class _TLSServer(_ThreadingWSGIServer):
    """Wraps each accepted connection in TLS inside the handler thread, so a failed handshake (wrong client
    certificate) only fails that connection and never blocks the accept loop."""

    context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is not None:
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


class BackgroundServer:
    """Serve ``app`` on 127.0.0.1 (a free port) in a daemon thread:
    ``with BackgroundServer(app) as server: ... server.url``."""

    def __init__(self, app: WSGIApp, *, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.app = app
        self.ssl_context = ssl_context
        self.host = host
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        # "localhost" matches the server certificate's names; the socket is bound to 127.0.0.1 only.
        host = "localhost" if self.ssl_context and self.host == "127.0.0.1" else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> BackgroundServer:
        server = make_server(self.host, 0, self.app, server_class=_TLSServer, handler_class=_QuietHandler)
        assert isinstance(server, _TLSServer)
        server.context = self.ssl_context
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
