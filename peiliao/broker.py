"""The local channel between the workers of ``peiliao serve --workers N`` when no Redis is
configured: a Redis-protocol server held by the supervisor, on a Unix socket only its user can
open, so the workers cooperate exactly as several processes do through Redis (presence, call
routing, Socket.IO emits, revocations, heartbeats and the Lua scripts) with one code path.

The server is fakeredis's (a well-kept pure-Python implementation of Redis's commands, Lua
through lupa), run in threads of the supervisor; its TCP request handler is used on a Unix
socket.  Two changes to it: each connection gets its own client address (a Unix socket's is
empty, and fakeredis keys its connections by it), and a message pushed to a subscribed
connection (pub/sub) wakes the connection's thread at once through a pipe, where fakeredis's
handler polls every 10 ms (that poll would add up to 10 ms to every cross-worker message).
The names of fakeredis used here are checked by ``tests/kernel/test_broker.py``.

Nothing is persisted: the broker holds only what Redis holds for Peiliao (presence, heartbeats,
locks that expire); the database holds the money and the calls.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import socket
import socketserver
import stat
import threading
from pathlib import Path
from typing import Any

from fakeredis._clients._tcp_server import TCPFakeRequestHandler
from fakeredis._core import FakeServer

#: how long an idle connection's thread sleeps before it looks at the supervisor's stop flag
IDLE_WAIT_S = 0.5


class _Wakeup(threading.Event):
    """fakeredis sets its socket's ``response_ready`` event when it queues a reply without a
    request (a published message): this one also writes a byte to the connection's pipe."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def set(self) -> None:
        super().set()
        with contextlib.suppress(BlockingIOError, OSError):  # full (a wakeup is pending) or closed
            os.write(self._fd, b"\0")


class _Handler(TCPFakeRequestHandler):
    """fakeredis's handler with the wakeup pipe instead of its 10 ms poll."""

    def handle(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        client = self.current_client
        try:
            client.can_read()  # connects the fake socket
            client.get_socket().response_ready = _Wakeup(wake_w)
            stopping = self.server._shutdown_event
            while not stopping.is_set():
                if client.can_read():
                    try:
                        response = client.read_response()
                    except Exception as exc:  # an error reply: sent, and the connection goes on
                        response = exc
                    self.writer.dump(response)
                    continue
                data = self.rfile.readline()
                if data == b"":  # nothing buffered: wait for the client or a pushed message
                    readable, _, _ = select.select([self.connection, wake_r], [], [], IDLE_WAIT_S)
                    if wake_r in readable:
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake_r, 4096)
                    if self.connection not in readable:
                        continue
                    data = self.rfile.readline()
                    if data == b"":
                        break  # readable and empty: the client closed
                client.get_socket().sendall(data)
        except (ConnectionError, OSError):
            pass  # the worker went away
        finally:
            os.close(wake_r)
            os.close(wake_w)


class Broker(socketserver.ThreadingUnixStreamServer):
    """A Redis-protocol server on a Unix socket at ``path`` (mode 0600), serving in a thread."""

    daemon_threads = True

    def __init__(self, path: Path) -> None:
        self._shutdown_event = threading.Event()
        self._ids = itertools.count()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(path.lstat().st_mode):
                path.unlink()  # a socket left by a supervisor that was killed
        old = os.umask(0o177)
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old)
        self.fake_server = FakeServer(server_type="redis", version=(7, 4))
        self.client_ids = itertools.count(0)
        self.clients: dict[Any, Any] = {}
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, _ = super().get_request()
        return sock, (f"worker-{next(self._ids)}", 0)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": IDLE_WAIT_S}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._shutdown_event.set()
        self.shutdown()
        self.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
