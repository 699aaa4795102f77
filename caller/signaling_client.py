"""Socket.IO as the caller uses it: connect with the login, events with acks and waits.

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import socketio

from caller.errors import CallerError
from caller.limits import ACK_TIMEOUT_S, CLOSE_TIMEOUT_S, MAX_INCOMING


async def _close_client(client: socketio.AsyncClient) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await client.disconnect()


class Signal:
    """The Socket.IO connection: acks, and what the server told us, by call."""

    def __init__(self) -> None:
        self.sio = self._client()
        self._server = ""
        self._token = ""
        #: clients replaced by ``reconnect``, closing in the background
        self._retiring: set[asyncio.Task[None]] = set()
        self.my_id = ""
        self.hello: dict[str, Any] | None = None
        self.calls: dict[str, dict[str, Any]] = {}
        self.incoming: list[str] = []
        self.meters: dict[str, dict[str, Any]] = {}
        self.flowing_at: dict[str, float] = {}
        self.chat_rx: dict[str, int] = {}
        self.presence: dict[str, str] = {}
        self.draining = False
        self.lost = False
        self._changed = asyncio.Event()

    def _client(self) -> socketio.AsyncClient:
        client = socketio.AsyncClient(
            reconnection=False, logger=False, engineio_logger=False, handle_sigint=False
        )

        async def on_disconnect(*args: Any) -> None:
            if client is self.sio:  # a client replaced by ``reconnect`` goes unnoticed
                await self._on_disconnect(*args)

        handlers: dict[str, Callable[..., Any]] = {
            "session:hello": self._on_hello,
            "call:incoming": self._on_incoming,
            "call:update": self._on_call,
            "call:ring_stop": self._on_call,
            "session:meter": self._on_meter,
            "media:state": self._on_media_state,
            "chat:message": self._on_chat,
            "presence:update": self._on_presence,
            "server:draining": self._on_draining,
            "disconnect": on_disconnect,
        }
        for name, handler in handlers.items():
            client.on(name, handler)
        return client

    async def connect(self, server: str, token: str) -> dict[str, Any]:
        self._server, self._token = server, token
        try:
            await self.sio.connect(
                server,
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=ACK_TIMEOUT_S,
            )
        except socketio.exceptions.ConnectionError as exc:
            raise CallerError(
                f"the server refused the Socket.IO connection ({exc})",
                "log in again (a stale --token?) or retry if the server is draining",
                "socket_refused",
            ) from None
        if not await self.until(lambda: self.hello is not None, ACK_TIMEOUT_S):
            raise CallerError("the server sent no session:hello", "is it a Peiliao server?")
        assert self.hello is not None
        self.my_id = str(self.hello["user_id"])
        return self.hello

    async def reconnect(self) -> None:
        """A new Socket.IO connection in place of the current one (this machine's address
        changed: the old TCP connection leads nowhere, and would take the server's ping
        time-out, 40 s, to notice).  The server counts the new one as another device of ours,
        so the call is never "away"; the old one is closed in the background."""
        old = self.sio
        self.sio = self._client()
        self.hello = None
        task = asyncio.create_task(_close_client(old), name="socketio-retire")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)
        await self.connect(self._server, self._token)
        self.lost = False

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        for task in list(self._retiring):
            with contextlib.suppress(Exception):
                await task

    async def ask(
        self,
        event: str,
        data: dict[str, Any] | None = None,
        timeout_s: float = ACK_TIMEOUT_S,
    ) -> dict[str, Any]:
        """Send ``event``; its ok ack, or a ``CallerError`` with the server's code."""
        if self.lost:
            raise CallerError("lost the connection to the server", "", "disconnected")
        try:
            ack = await self.sio.call(event, data, timeout=timeout_s)
        except socketio.exceptions.TimeoutError:
            raise CallerError(
                f"the server did not answer {event} within {timeout_s:g} s", "", "timeout"
            ) from None
        except socketio.exceptions.SocketIOError as exc:
            raise CallerError(f"{event}: {exc}", "", "disconnected") from None
        if not isinstance(ack, dict):
            raise CallerError(f"{event}: the server's answer is not an object", "", "protocol")
        if not ack.get("ok"):
            err = ack.get("error") or {}
            raise CallerError(
                f"{event} refused: {err.get('message', '')}", "", str(err.get("code", "refused"))
            )
        return ack

    async def until(self, ready: Callable[[], bool], timeout_s: float | None) -> bool:
        """Wait until ``ready()`` (re-checked on every event, and at least every 0.5 s, so that
        a stop request is seen); False on time-out."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while not ready():
            left = 0.5 if deadline is None else min(0.5, deadline - loop.time())
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    def status(self, call_id: str) -> str:
        return str(self.calls.get(call_id, {}).get("status", ""))

    def _changed_now(self) -> None:
        self._changed.set()

    async def _on_hello(self, data: dict[str, Any]) -> None:
        self.hello = data
        call = data.get("call")
        if isinstance(call, dict):
            self.calls[call["call_id"]] = call
        self._changed_now()

    async def _on_incoming(self, data: dict[str, Any]) -> None:
        self.calls[data["call_id"]] = data
        if data.get("status") == "ringing" and len(self.incoming) < MAX_INCOMING:
            self.incoming.append(data["call_id"])
        self._changed_now()

    async def _on_call(self, data: dict[str, Any]) -> None:
        self.calls[data["call_id"]] = data
        self._changed_now()

    async def _on_meter(self, data: dict[str, Any]) -> None:
        self.meters[data["call_id"]] = data
        self._changed_now()

    async def _on_media_state(self, data: dict[str, Any]) -> None:
        if data.get("flowing"):
            self.flowing_at.setdefault(data["call_id"], asyncio.get_running_loop().time())
        self._changed_now()

    async def _on_chat(self, data: dict[str, Any]) -> None:
        if data.get("sender_id") != self.my_id:
            self.chat_rx[data["call_id"]] = self.chat_rx.get(data["call_id"], 0) + 1
        self._changed_now()

    async def _on_presence(self, data: dict[str, Any]) -> None:
        self.presence[data["user_id"]] = data["status"]
        self._changed_now()

    async def _on_draining(self, data: Any = None) -> None:
        self.draining = True
        self._changed_now()

    async def _on_disconnect(self, *args: Any) -> None:
        self.lost = True
        self._changed_now()
