"""A running server on loopback and real Socket.IO clients (python-socketio's AsyncClient)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import AppRunner, BaseRunner
from sqlalchemy import update

from accounts.sms import DevOutbox
from kernel.clock import FakeClock
from kernel.settings import Settings
from metering.keys import METERING
from metering.tariff import Rates
from peiliao.app import create_app
from peiliao.cli import SHUTDOWN_TIMEOUT_S
from signaling.keys import SIGNALING
from signaling.protocol import SERVER_EVENTS
from store import Database
from store.models import User
from tests.harness import bearer, login_cli


class Sock:
    """One device: a Socket.IO client that records every event it receives."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))
        self._changed.set()

    @property
    def sid(self) -> str:
        return str(self.sio.get_sid())

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:  # noqa: ASYNC109
        return await self.sio.call(event, data, timeout=timeout)

    async def ok(self, event: str, data: Any = None) -> Any:
        ack = await self.call(event, data)
        assert ack["ok"], (event, ack)
        return ack

    async def wait(
        self,
        event: str,
        pred: Callable[[Any], bool] = lambda d: True,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> Any:
        """The first recorded ``event`` whose data satisfies ``pred`` (waiting for it)."""
        async with asyncio.timeout(timeout):
            while True:
                for name, data in self.events:
                    if name == event and pred(data):
                        return data
                self._changed.clear()
                await self._changed.wait()

    def seen(self, event: str, pred: Callable[[Any], bool] = lambda d: True) -> list[Any]:
        return [d for n, d in self.events if n == event and pred(d)]


@dataclass
class Person:
    user_id: str
    token: str
    phone: str


@dataclass
class Rig:
    app: Any
    http: TestClient  # type: ignore[type-arg]
    clock: Any  # FakeClock, or a ScaledClock where billing must run by itself
    outbox: DevOutbox
    db: Database
    url: str
    socks: list[Sock] = field(default_factory=list)
    #: run when the rig closes, before its sockets and server (e.g. closing browser pages)
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def person(self, role: str = "customer", *, fund_fen: int = 0) -> Person:
        phone = "13" + "".join(secrets.choice("0123456789") for _ in range(9))
        token = await login_cli(self.http, self.outbox, phone)
        me = await (await self.http.get("/api/me", headers=bearer(token))).json()
        uid = me["id"]
        if role != "customer":
            async with self.db.writing() as s:
                await s.execute(update(User).where(User.id == uid).values(role=role))
        if role == "companion":
            await self.app[METERING].set_rates(uid, Rates(100, 300, 600))
        if fund_fen:
            await self.fund(token, fund_fen)
        return Person(uid, token, phone)

    async def fund(self, token: str, fen: int) -> None:
        resp = await self.http.post(
            "/api/wallet/topups", json={"amount_fen": fen}, headers=bearer(token)
        )
        assert resp.status == 201, await resp.text()
        order = (await resp.json())["order_id"]
        resp = await self.http.post(f"/api/payments/sandbox/pay/{order}", headers=bearer(token))
        assert resp.status == 200, await resp.text()

    async def connect(self, who: Person | None, name: str = "", *, auth: Any = None) -> Sock:
        sock = Sock(name or (who.user_id if who else "anon"))
        await sock.sio.connect(
            self.url,
            auth=auth if auth is not None else ({"token": who.token} if who else None),
            transports=["websocket"],
            wait_timeout=5,
        )
        self.socks.append(sock)
        return sock

    async def online_companion(self) -> tuple[Person, Sock]:
        comp = await self.person("companion")
        sock = await self.connect(comp, "companion")
        await sock.ok("presence:set", {"accepting": True})
        return comp, sock

    async def active_call(
        self, mode: str = "text", fund_fen: int = 10_000
    ) -> tuple[Person, Sock, Person, Sock, str]:
        """A funded customer's call to an online companion, accepted: (customer, their socket,
        companion, their socket, call id)."""
        cust = await self.person(fund_fen=fund_fen)
        comp, comp_sock = await self.online_companion()
        cust_sock = await self.connect(cust, "customer")
        ack = await cust_sock.ok(
            "call:request",
            {"companion_id": comp.user_id, "mode": mode, "request_id": request_id()},
        )
        call_id: str = ack["call"]["call_id"]
        await comp_sock.ok("call:accept", {"call_id": call_id})
        return cust, cust_sock, comp, comp_sock, call_id

    @property
    def signaling(self) -> Any:
        return self.app[SIGNALING]


class ServedLikeProduction(TestServer):
    """A test server that shuts down like ``peiliao serve``: after the drain has told every
    socket to go, it waits 3 s for their connections to close, not aiohttp's default 60 s (a
    browser page left open kept every web test's rig closing for ~40 s)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return AppRunner(self.app, shutdown_timeout=SHUTDOWN_TIMEOUT_S, **kwargs)


RigFactory = Callable[..., AbstractAsyncContextManager[Rig]]


@pytest.fixture
def make_rig(db: Database, settings: Settings, outbox: DevOutbox) -> RigFactory:
    """A rig with other settings or another clock (a ``ScaledClock`` lets billing run)."""

    @asynccontextmanager
    async def make(
        clock: Any, moderation: Any = None, *, host: str = "127.0.0.1", **changes: Any
    ) -> AsyncIterator[Rig]:
        """``host``: where the server listens (a network lab's address, for clients in its
        namespaces)."""
        app = create_app(
            settings.replace(**({"sweep_interval_s": 0.25} | changes)),
            clock=clock,
            sms=outbox,
            moderation=moderation,
        )
        async with TestClient(ServedLikeProduction(app, host=host)) as http:
            rig = Rig(app, http, clock, outbox, db, str(http.make_url("/")).rstrip("/"))
            try:
                yield rig
            finally:
                for close in rig.on_close:
                    with contextlib.suppress(Exception):
                        await close()
                for sock in rig.socks:
                    if sock.sio.connected:
                        await sock.sio.disconnect()
            # every event the server sent is one docs/protocol.md documents
            sent = {name for sock in rig.socks for name, _ in sock.events}
            assert sent <= set(SERVER_EVENTS), sent - set(SERVER_EVENTS)

    return make


@pytest.fixture
async def rig(make_rig: RigFactory, clock: FakeClock) -> AsyncIterator[Rig]:
    async with make_rig(clock) as rig:
        yield rig


def request_id() -> str:
    return "req_" + secrets.token_hex(8)
