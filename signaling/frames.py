"""The gate in front of python-socketio: frames a stranger can send before any handler runs.

python-socketio and python-engineio decode every frame themselves, before our handlers (and
before login).  What they do with a hostile frame, read from their source (python-socketio 5.x,
python-engineio 4.x):

- engine.io over a websocket: a text frame whose first character is not a packet type, or an
  empty frame, raises ``ValueError`` out of the receive loop (``AsyncSocket._websocket_handler``
  decodes outside its ``try``): the request handler fails with a traceback and the socket is
  never closed (its ``disconnect`` event never comes);
- socket.io: a packet whose JSON does not parse, nests too deep or holds a 5,000-digit number,
  an event packet that is not ``[name, ...]`` (``42{}``, ``42"x"``, ``42[]``), a name that is
  not text (``42[[1]]`` is unhashable), a binary packet with a wrong placeholder, raise out of
  ``_handle_eio_message``, which engine.io logs with a traceback (``message async handler
  error``) — one per frame, so anyone could fill the log;
- a client's own event named ``connect`` or ``disconnect`` is dispatched to those handlers, and
  with extra arguments fails with ``TypeError`` in a background task ("Task exception was never
  retrieved");
- long-polling decodes ``POST`` bodies the same way and logs each failure with a traceback.

So: every packet's JSON goes through :mod:`peiliao.safe_json` (the ``json=`` argument), the
server speaks websocket only (our clients never poll: ``web_client/src/lib/realtime.ts``,
``caller/``), a malformed frame closes that connection (as the Socket.IO protocol has
it: the JavaScript server closes on a parse error), events named like the lifecycle handlers are
dropped, and our protocol has no binary packets, so they are refused before any attachment is
buffered.  Each refusal is one log line without a traceback, at most one per connection and at
most ``burst`` (refilled at ``per_s``) across the process, the rest counted in the next line.
"""

from __future__ import annotations

import time
from typing import Any

import engineio
import socketio
import structlog
from engineio.async_drivers.aiohttp import WebSocket

from signaling.limits import RateLimiter

log = structlog.get_logger(__name__)

#: engine.io v4 packet types a client may send as text: open..noop (``engineio.packet``)
_ENGINEIO_TYPES = frozenset("0123456")
#: socket.io packet types: CONNECT, DISCONNECT, EVENT, ACK; BINARY_EVENT/ACK (5, 6) are not ours
_SOCKETIO_TYPES = frozenset("0123")


class FrameRefusals:
    """Counts refused frames and logs them sparingly (see the module's docstring)."""

    def __init__(self, burst: int, per_s: float, *, max_connections: int = 100_000) -> None:
        self._budget = RateLimiter(burst, per_s, max_keys=1, now=time.monotonic)
        self._logged: set[object] = set()
        self._max = max_connections
        self._suppressed = 0
        self.total = 0

    def refused(self, connection: object, reason: str, error: BaseException | None = None) -> None:
        self.total += 1
        if connection in self._logged or not self._budget.allow("all"):
            self._suppressed += 1
            return
        if len(self._logged) >= self._max:
            self._logged.clear()  # bounded: at worst a connection is logged twice
        self._logged.add(connection)
        log.warning(
            "socket_frame_refused",
            reason=reason,
            error=type(error).__name__ if error is not None else None,
            suppressed=self._suppressed,
        )
        self._suppressed = 0

    def forget(self, connection: object) -> None:
        self._logged.discard(connection)


class _GuardedWebSocket(WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp websocket, refusing a text frame engine.io cannot decode."""

    async def wait(self) -> Any:
        data = await super().wait()
        if isinstance(data, str) and (not data or data[0] not in _ENGINEIO_TYPES):
            self.server.frames.refused(id(self), "engineio_packet_type")
            self.server.frames.forget(id(self))
            # The receive loop ends on OSError and closes the socket properly (disconnect event).
            raise OSError("malformed engine.io packet")
        return data


class _GuardedEngine(engineio.AsyncServer):  # type: ignore[misc]
    frames: FrameRefusals

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A copy: the driver's table is module-level, shared by every engine.io server.
        drivers: dict[str, Any] = getattr(self, "_async")  # noqa: B009 (engine.io's private table)
        self._async = {**drivers, "websocket": _GuardedWebSocket}


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]
    """``socketio.AsyncServer`` that refuses malformed frames (see the module's docstring)."""

    def __init__(self, frames: FrameRefusals, **kwargs: Any) -> None:
        self.frames = frames
        super().__init__(**kwargs)
        self.eio.frames = frames

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _GuardedEngine

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        # Text only (no binary packets in our protocol, so no attachments are ever buffered),
        # and one of the four packet types a client sends.
        if not isinstance(data, str) or data[:1] not in _SOCKETIO_TYPES:
            await self._refuse(eio_sid, "socketio_packet_type")
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except _Malformed as exc:
            await self._refuse(eio_sid, exc.reason)
        except Exception as exc:  # whatever python-socketio raises while decoding a frame
            await self._refuse(eio_sid, "undecodable", exc)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            raise _Malformed("event_shape")
        if data[0] in self.reserved_events:
            # not a frame error: the client named an event like a lifecycle handler; dropped
            self.frames.refused(eio_sid, "reserved_event_name")
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        self.frames.forget(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _refuse(self, eio_sid: str, reason: str, error: BaseException | None = None) -> None:
        self.frames.refused(eio_sid, reason, error)
        await self.eio.disconnect(eio_sid)


class _Malformed(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
