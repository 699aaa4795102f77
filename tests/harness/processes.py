"""Real ``peiliao serve`` processes for the multi-process tests: spawn one on a free loopback
port (PostgreSQL + Redis), wait until it answers, stop it (SIGTERM, then kill); the database and
money services the tests read beside them (``World``), and people logging in and connecting
through a given process."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update

from kernel.clock import SystemClock
from metering.service import MeteringService
from metering.tariff import Rates
from metering.wallet import Wallets
from store import Database
from store.models import User
from tests.conftest import TEST_SECRET, RedisTarget
from tests.harness.rig import Sock

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def spawn(db_url: str, redis: RedisTarget, **extra: str) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PEILIAO_ENV": "dev",
        "PEILIAO_DATABASE_URL": db_url,
        "PEILIAO_REDIS_URL": redis.url,
        "PEILIAO_REDIS_PREFIX": redis.prefix,
        "PEILIAO_SECRET_KEY": TEST_SECRET,
        "PEILIAO_WEB_DIST_DIR": "/nonexistent",
        "PEILIAO_SWEEP_INTERVAL_S": "0.2",
        "PEILIAO_LOG_LEVEL": "WARNING",
        # every login of a worker's tests comes from 127.0.0.1 into one database: the hourly
        # per-network SMS limit is not what these tests are about
        "PEILIAO_SMS_MAX_PER_IP_PER_HOUR": "100000",
        # 2.6 s of CPU per process that these tests of processes do not need
        "PEILIAO_MODERATION_WARM": "0",
        **{f"PEILIAO_{k.upper()}": v for k, v in extra.items()},
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "peiliao.cli", "serve", "--workers", "1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Server(port, proc)


async def ready(server: Server) -> None:
    deadline = time.monotonic() + 90  # a loaded 2-core machine took 18 s to import the app
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise AssertionError(
                    f"server exited: {server.proc.stdout.read() if server.proc.stdout else ''}"
                )
            try:
                async with http.get(server.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not start")


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.kill()
    server.proc.wait(10)


@pytest.fixture
def pg_url(pg_database: str) -> str:
    return pg_database


@dataclass
class World:
    db: Database
    metering: MeteringService
    wallets: Wallets


@pytest.fixture
async def world(pg_url: str) -> AsyncIterator[World]:
    db = Database(pg_url)
    ms = MeteringService(db, SystemClock())
    yield World(db, ms, Wallets(db, SystemClock(), ms.ledger))
    await db.dispose()


async def login(
    server: Server, world: World, role: str = "customer", fund_fen: int = 0
) -> tuple[str, str]:
    phone = "15" + "".join(secrets.choice("0123456789") for _ in range(9))
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/api/auth/sms-code", json={"phone": phone}) as r:
            assert r.status == 200, await r.text()
        async with http.get(server.url + "/api/dev/sms-outbox", params={"phone": phone}) as r:
            code = (await r.json())["messages"][0]["code"]
        async with http.post(
            server.url + "/api/auth/login", json={"phone": phone, "code": code, "client": "cli"}
        ) as r:
            body = await r.json()
    token, uid = body["token"], body["user"]["id"]
    if role != "customer":
        async with world.db.writing() as s:
            await s.execute(update(User).where(User.id == uid).values(role=role))
    if role == "companion":
        await world.metering.set_rates(uid, Rates(100, 300, 600))
    if fund_fen:
        order = "o_" + secrets.token_hex(6)
        await world.wallets.create_order(order, uid, "sandbox", fund_fen)
        await world.wallets.credit_paid_order(
            order, provider="sandbox", amount_fen=fund_fen, trade_no="t"
        )
    return uid, token


async def connect(server: Server, token: str, name: str) -> Sock:
    sock = Sock(name)
    await sock.sio.connect(
        server.url, auth={"token": token}, transports=["websocket"], wait_timeout=5
    )
    return sock


@contextmanager
def two_servers(
    pg_url: str, redis_target: RedisTarget, a: dict[str, str], b: dict[str, str]
) -> Iterator[tuple[Server, Server]]:
    """Two processes on one database and Redis (each with its own extra settings), stopped on
    the way out whatever happened."""
    first = spawn(pg_url, redis_target, **a)
    try:
        second = spawn(pg_url, redis_target, **b)
    except BaseException:
        stop(first)
        raise
    try:
        yield first, second
    finally:
        stop(first)
        stop(second)


async def run_cli(pg_url: str, redis: RedisTarget, *args: str) -> tuple[int, bytes]:
    """``peiliao *args`` as the operator runs it beside the servers (a third process on their
    database and Redis): its exit code and standard output."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PEILIAO_ENV": "dev",
        "PEILIAO_DATABASE_URL": pg_url,
        "PEILIAO_REDIS_URL": redis.url,
        "PEILIAO_REDIS_PREFIX": redis.prefix,
        "PEILIAO_SECRET_KEY": TEST_SECRET,
        "PEILIAO_LOG_LEVEL": "WARNING",
        # every login of a worker's tests comes from 127.0.0.1 into one database: the hourly
        # per-network SMS limit is not what these tests are about
        "PEILIAO_SMS_MAX_PER_IP_PER_HOUR": "100000",
        # 2.6 s of CPU per process that these tests of processes do not need
        "PEILIAO_MODERATION_WARM": "0",
    }
    cli = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "peiliao.cli", *args),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(cli.communicate(), 60)
    assert cli.returncode is not None
    return cli.returncode, out
