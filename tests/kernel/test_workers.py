"""``peiliao serve --workers 2`` on the embedded default (SQLite, no Redis): two worker
processes on one port, cooperating through the supervisor's local broker.  A customer on one
worker calls a companion on the other, by text and by voice (the room lives on the companion's
worker; the customer's offer reaches it through the broker), each billed once; a worker killed
with -9 is started again and its call settled by the other; SIGTERM stops everything and
removes the broker's socket.  The workers run on uvloop (PEILIAO_EVENT_LOOP), so a real call
through aiortc is checked on it too."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis
from aiortc import RTCConfiguration, RTCPeerConnection
from sqlalchemy import select

from kernel.clock import SystemClock
from metering.check import check_ledger
from metering.service import MeteringService
from metering.wallet import Wallets
from store import Database
from store.models import Call
from tests.conftest import TEST_SECRET
from tests.harness.processes import ROOT, Server, World, free_port, login, ready
from tests.harness.rig import Sock, request_id
from tests.media.test_forward import Tone
from tests.media.test_negotiation import hear_each_other, listen, negotiate

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("processes")]


@dataclass
class Machine:
    server: Server
    broker: Path
    db_url: str
    log: Path


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'peiliao.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEILIAO_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PEILIAO_ENV="dev",
        PEILIAO_DATABASE_URL=db_url,
        PEILIAO_SECRET_KEY=TEST_SECRET,
        PEILIAO_WEB_DIST_DIR="/nonexistent",
        PEILIAO_VAR_DIR=str(tmp_path / "var"),
        PEILIAO_LOG_LEVEL="INFO",
        PEILIAO_SMS_MAX_PER_IP_PER_HOUR="100000",
        PEILIAO_ICE_HOST_ADDRESSES="127.0.0.1",
        PEILIAO_SWEEP_INTERVAL_S="0.2",
        PEILIAO_PROCESS_HEARTBEAT_INTERVAL_S="0.5",
        PEILIAO_PROCESS_LAPSE_S="2",
        PEILIAO_PROCESS_LOST_GRACE_S="2",
        PEILIAO_DRAIN_TIMEOUT_S="1",
        PEILIAO_MODERATION_WARM="0",
        # the workers on uvloop: a real voice call through aiortc on it (the default is asyncio's)
        PEILIAO_EVENT_LOOP="uvloop",
    )
    cli = [sys.executable, "-m", "peiliao.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cli, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    broker = tmp_path / "var" / f"broker-{proc.pid}.sock"
    try:
        yield Machine(Server(port, proc), broker, db_url, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        print(log.read_text()[-6000:])  # shown when the test failed


@pytest.fixture
async def world(machine: Machine) -> AsyncIterator[World]:
    db = Database(machine.db_url)
    ms = MeteringService(db, SystemClock())
    yield World(db, ms, Wallets(db, SystemClock(), ms.ledger))
    await db.dispose()


class Broker:
    """What the workers keep in the broker: which process each socket is on."""

    def __init__(self, path: Path) -> None:
        self.redis = aioredis.Redis(unix_socket_path=str(path), decode_responses=True)

    async def processes(self) -> list[str]:
        return list(await self.redis.zrange("peiliao:procs", 0, -1))

    async def where(self, user_id: str) -> str | None:
        for process in await self.processes():
            if user_id in (await self.redis.hgetall(f"peiliao:procdev:{process}")).values():
                return process
        return None


async def connect(server: Server, token: str, name: str) -> Sock:
    sock = Sock(name)
    await sock.sio.connect(server.url, auth={"token": token}, transports=["websocket"])
    return sock


async def apart(server: Server, broker: Broker, cust: str, comp: tuple, name: str) -> Sock:
    """The companion's socket, reconnected until the kernel puts it on another worker than the
    customer's (each new connection lands on either with even odds)."""
    here = await broker.where(cust)
    for _ in range(30):
        sock = await connect(server, comp[1], name)
        for _ in range(50):
            there = await broker.where(comp[0])
            if there is not None:
                break
            await asyncio.sleep(0.05)
        if there is not None and there != here:
            return sock
        await sock.sio.disconnect()
        await asyncio.sleep(0.2)  # the device is gone from the broker before the next try
    raise AssertionError("every connection landed on the customer's worker")


async def accepted(cust_sock: Sock, comp_sock: Sock, companion_id: str, mode: str) -> str:
    """The customer calls, the companion's socket hears it ring and accepts: the call's id."""
    ack = await cust_sock.ok(
        "call:request", {"companion_id": companion_id, "mode": mode, "request_id": request_id()}
    )
    call_id: str = ack["call"]["call_id"]
    await comp_sock.wait("call:incoming", lambda d: d["call_id"] == call_id)
    await comp_sock.ok("call:accept", {"call_id": call_id})
    return call_id


async def test_two_workers_on_sqlite_without_redis(machine: Machine, world: World) -> None:
    server = machine.server
    await ready(server)
    broker = Broker(machine.broker)
    assert oct(machine.broker.stat().st_mode & 0o777) == "0o600"  # only this user opens it
    for _ in range(100):
        if len(await broker.processes()) == 2:
            break
        await asyncio.sleep(0.1)
    assert len(await broker.processes()) == 2

    cust, cust_token = await login(server, world, fund_fen=2000)
    comp = await login(server, world, "companion")
    cust_sock = await connect(server, cust_token, "customer")
    for _ in range(50):
        if await broker.where(cust):
            break
        await asyncio.sleep(0.05)
    comp_sock = await apart(server, broker, cust, comp, "companion")
    socks = [cust_sock, comp_sock]
    rtc = RTCConfiguration(iceServers=[])
    cust_pc, comp_pc = RTCPeerConnection(rtc), RTCPeerConnection(rtc)
    tasks: list[asyncio.Future[None]] = []
    try:
        # Text: presence, the claim, chat both ways and the meter cross the broker.
        watched = await cust_sock.ok("presence:watch", {"user_ids": [comp[0]]})
        assert watched["statuses"][comp[0]] == "offline"
        await comp_sock.ok("presence:set", {"accepting": True})
        await cust_sock.wait("presence:update", lambda d: d["status"] == "online")
        call_id = await accepted(cust_sock, comp_sock, comp[0], "text")
        await cust_sock.wait("call:update", lambda d: d["status"] == "active")
        await cust_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": "cust-0001", "text": "在吗"}
        )
        await comp_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": "comp-0001", "text": "在的"}
        )
        await comp_sock.wait("chat:message", lambda d: d["text"] == "在吗")
        await cust_sock.wait("chat:message", lambda d: d["text"] == "在的")
        await cust_sock.wait("session:meter", lambda d: d["call_id"] == call_id)
        await cust_sock.ok("call:hangup", {"call_id": call_id})
        await comp_sock.wait("call:update", lambda d: d["status"] == "ended")

        # Voice: the room is on the companion's worker; the customer's offer gets there.
        await cust_sock.wait("presence:update", lambda d: d["status"] == "online")
        voice_id = await accepted(cust_sock, comp_sock, comp[0], "voice")
        heard_by_cust: list[np.ndarray] = []
        heard_by_comp: list[np.ndarray] = []
        cust_pc.addTrack(Tone(440.0))
        comp_pc.addTrack(Tone(660.0))
        listen(cust_pc, heard_by_cust, tasks)
        listen(comp_pc, heard_by_comp, tasks)
        assert (await negotiate(cust_sock, voice_id, cust_pc))["ok"]
        assert (await negotiate(comp_sock, voice_id, comp_pc))["ok"]
        await hear_each_other(heard_by_cust, heard_by_comp, 440.0, 660.0)
        await cust_sock.wait("media:state", lambda d: d["flowing"], timeout=15)

        # kill -9 of the worker that owns the voice call: the other settles it, the supervisor
        # starts a new worker, and the port keeps answering.
        async with world.db.reading() as s:
            owner = await s.scalar(select(Call.owner).where(Call.id == voice_id))
        assert owner == await broker.where(comp[0])
        pid = int(str(owner).split(":")[1])
        os.kill(pid, signal.SIGKILL)
        for _ in range(300):
            async with world.db.reading() as s:
                status = await s.scalar(select(Call.status).where(Call.id == voice_id))
            if status == "ended":
                break
            await asyncio.sleep(0.1)
        assert status == "ended"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            procs = await broker.processes()
            if len(procs) == 2 and owner not in procs:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"no second worker after the kill: {await broker.processes()}")
        await ready(server)

        balance = await world.wallets.balance(cust)
        assert balance.held_fen == 0
        assert 2000 - balance.wallet_fen in (100 + 300, 100 + 600)  # a text minute, 1–2 voice
        assert (await check_ledger(world.db)).ok
    finally:
        for task in tasks:
            task.cancel()
        for pc in (cust_pc, comp_pc):
            await pc.close()
        for sock in socks:
            if sock.sio.connected:
                await sock.sio.disconnect()
        await broker.redis.aclose()

    server.proc.send_signal(signal.SIGTERM)
    await asyncio.to_thread(server.proc.wait, 60)
    out = machine.log.read_text()
    assert server.proc.returncode == 0, out
    assert "2 workers" in out and "local broker" in out and "all 2 workers serving" in out
    assert out.count("event_loop=uvloop") >= 3  # two workers, then the one started again
    assert not machine.broker.exists()
