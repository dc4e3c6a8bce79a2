"""Faults on the wire, for reliability tests: a TCP proxy in front of a real server, and the check that an outbox
delivered everything exactly once in effect.

:class:`FlakyProxy` forwards bytes as they are (HTTP or HTTPS alike, certificates untouched) and, on a share of the
connections chosen by a seeded generator:

* **drops the connection** before anything reaches the server (the client sees a reset: nothing happened);
* **drops the answer**: the request reaches the server, which acts, and the client's connection is reset instead of
  receiving the reply (the client cannot know it worked: it must retry, and the receiver must recognise the repeat).

A reply is recognised as the server's last bytes before it closes the connection: data coming from the server is
held ``hold`` seconds, forwarded if the server goes on (a TLS handshake, a long answer), dropped if the server closes
meanwhile. It suits servers that close the connection after each answer (the sandboxes, ``http.server``). Half a
second, because on a loaded machine (two test processes on two cores) a server sometimes closes more than 0.15 s
after its last bytes, and a scripted drop then let the answer through.

.. code-block:: python

    with FlakyProxy(("127.0.0.1", server_port), drop_connections=0.1, drop_answers=0.1, seed=1) as proxy:
        url = proxy.url_for(server_url)        # same scheme and path, the proxy's port
"""

from __future__ import annotations

import contextlib
import random
import select
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class FlakyProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        drop_connections: float = 0.0,
        drop_answers: float = 0.0,
        seed: int | None = None,
        hold: float = 0.5,
        script: Sequence[str] = (),
    ) -> None:
        """``script``: the fates of the first connections (``"drop_connection"``, ``"drop_answer"``, ``"pass"``), before
        the random ones, so that a short test is sure to meet each fault."""
        self.upstream = upstream
        self.drop_connections = drop_connections
        self.drop_answers = drop_answers
        self.hold = hold
        self.counts = {"passed": 0, "dropped_connections": 0, "dropped_answers": 0}
        self._random = random.Random(seed)
        self._script = list(script)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> FlakyProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, name=f"flaky-proxy-{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        for thread in list(self._threads):
            thread.join(5)

    def __enter__(self) -> FlakyProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._listener is not None, "proxy not started"
        return int(self._listener.getsockname()[1])

    def url_for(self, url: str) -> str:
        """``url`` (of the server behind the proxy) with the proxy's port: same scheme, host name and path."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{self.port}"))

    # --- forwarding --------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            fate = self._fate()
            if fate == "drop_connection":
                self._count("dropped_connections")
                _reset(client)
                continue
            thread = threading.Thread(target=self._forward, args=(client, fate == "drop_answer"), daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _fate(self) -> str:
        with self._lock:
            if self._script:
                return self._script.pop(0)
            draw = self._random.random()
        if draw < self.drop_connections:
            return "drop_connection"
        return "drop_answer" if draw < self.drop_connections + self.drop_answers else "pass"

    def _forward(self, client: socket.socket, drop_answer: bool) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            _reset(client)
            return
        held: list[tuple[float, bytes]] = []
        client_open = True
        try:
            while not self._stopping.is_set():
                sockets = [server, client] if client_open else [server]
                readable, _, _ = select.select(sockets, [], [], 0.02)
                if client in readable:
                    data = _recv(client)
                    if data:
                        server.sendall(data)
                    else:
                        client_open = False
                        with contextlib.suppress(OSError):
                            server.shutdown(socket.SHUT_WR)
                if server in readable:
                    data = _recv(server)
                    if not data:  # the server is done
                        if held:
                            self._count("dropped_answers")
                            _reset(client)
                            return
                        break
                    if drop_answer:
                        held.append((time.monotonic(), data))
                    else:
                        client.sendall(data)
                now = time.monotonic()
                while held and now - held[0][0] >= self.hold:
                    client.sendall(held.pop(0)[1])
            self._count("passed")
        except OSError:
            pass
        finally:
            server.close()
            with contextlib.suppress(OSError):
                client.close()

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionError:
        return b""


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0): the peer sees the connection drop, not an orderly end."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


# --- what an outbox must have achieved -----------------------------------------------------------------------


def delivery_problems(bind: Any, effects: Mapping[str, int], *, pharmacy_id: int | None = None) -> list[str]:
    """What went wrong between the outbox and a receiver that recorded ``effects`` (idempotency key → how many times
    it acted on it): a message not delivered, a message delivered the receiver never acted on (lost), a message acted
    on more than once (duplicated), an effect without a message. Empty when everything arrived exactly once."""
    from sqlalchemy import select

    from lgo.domain.outbox import OutboxMessage, OutboxStatus

    query = select(OutboxMessage.idempotency_key, OutboxMessage.status, OutboxMessage.attempts)
    if pharmacy_id is not None:
        query = query.where(OutboxMessage.pharmacy_id == pharmacy_id)
    with bind.connect() as connection:
        messages = {key: (OutboxStatus(status), attempts) for key, status, attempts in connection.execute(query)}
    problems = []
    for key, (status, attempts) in sorted(messages.items()):
        applied = effects.get(key, 0)
        if status is not OutboxStatus.DELIVERED:
            problems.append(f"{key}: not delivered ({status.value} after {attempts} attempt(s))")
        elif applied == 0:
            problems.append(f"{key}: delivered but never received (lost)")
        if applied > 1:
            problems.append(f"{key}: received {applied} times (duplicated)")
    problems += [f"{key}: received without a message" for key in sorted(set(effects) - set(messages))]
    return problems
