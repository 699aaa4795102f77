"""One customer, one meter across two real ``peiliao serve`` processes (PostgreSQL, Redis): the
customer's socket on A asks for a call while their socket on B joins a room, at the same
instant: one opens, the other is refused ``already_in_call`` having opened nothing.  Then the
process that owns the open session is killed (-9): the other settles it, and with it frees the
customer's meter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest
from sqlalchemy import select

from metering.check import check_ledger
from store.models import ActiveMeter, MeteredSession
from tests.conftest import RedisTarget
from tests.harness.processes import (
    Server,
    World,
    connect,
    login,
    pg_url,
    ready,
    two_servers,
    world,
)
from tests.harness.rig import Sock, request_id

__all__ = ["pg_url", "world"]
pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("processes")]

TRIES = 3
FUNDS = 1_000
ROOM_RATE = 200
FAST = {"heartbeat_interval_s": "1", "heartbeat_timeout_s": "4"}


@pytest.fixture
def servers(pg_url: str, redis_target: RedisTarget) -> Iterator[tuple[Server, Server]]:
    with two_servers(pg_url, redis_target, FAST, FAST) as pair:
        yield pair


async def open_room(server: Server, token: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.url + "/api/voice-rooms",
            json={"title": "两地夜聊", "rate_fen_per_min": ROOM_RATE, "capacity": 3},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        assert resp.status == 201, await resp.text()
        room_id: str = (await resp.json())["id"]
        return room_id


async def customer_sessions(world: World, user_id: str) -> list[tuple[str, str]]:
    async with world.db.reading() as s:
        rows = (
            await s.execute(
                select(MeteredSession.id, MeteredSession.status).where(
                    MeteredSession.customer_id == user_id
                )
            )
        ).all()
    return [(str(r[0]), str(r[1])) for r in rows]


async def meter(world: World, user_id: str) -> str | None:
    async with world.db.reading() as s:
        found = await s.scalar(
            select(ActiveMeter.session_id).where(ActiveMeter.customer_id == user_id)
        )
    return str(found) if found is not None else None


async def test_a_call_on_a_and_a_seat_on_b_at_once_then_kill_9(
    servers: tuple[Server, Server], world: World
) -> None:
    a, b = servers
    await asyncio.gather(ready(a), ready(b))
    socks: list[Sock] = []
    try:
        for attempt in range(TRIES):
            last = attempt == TRIES - 1
            cust, cust_token = await login(a, world, fund_fen=FUNDS)
            comp, comp_token = await login(a, world, "companion")
            _host, host_token = await login(b, world, "companion")
            comp_sock = await connect(a, comp_token, "companion@A")
            on_a = await connect(a, cust_token, "customer@A")
            on_b = await connect(b, cust_token, "customer@B")
            socks += [comp_sock, on_a, on_b]
            await comp_sock.ok("presence:set", {"accepting": True})
            room_id = await open_room(b, host_token)

            acks = await asyncio.gather(
                on_a.call(
                    "call:request",
                    {"companion_id": comp, "mode": "text", "request_id": request_id()},
                ),
                on_b.call("room:join", {"room_id": room_id, "request_id": request_id()}),
            )
            assert sorted(bool(x.get("ok")) for x in acks) == [False, True], acks
            lost = next(x for x in acks if not x.get("ok"))
            assert lost["error"]["code"] == "already_in_call", lost
            opened = await customer_sessions(world, cust)
            assert [status for _, status in opened] == ["running"], opened
            session_id = opened[0][0]
            assert await meter(world, cust) == session_id
            call_won = bool(acks[0].get("ok"))
            price = 100 if call_won else ROOM_RATE
            balance = await world.wallets.balance(cust)
            assert (balance.wallet_fen, balance.held_fen) == (FUNDS - price, price)

            if not last:
                if call_won:
                    await on_a.ok("call:cancel", {"call_id": session_id})
                else:
                    await on_b.ok("room:leave", {"room_id": room_id})
                continue

            # The last one stays open, billing on its owner (the call's: A, where it was
            # accepted; the seat's: B, the room's); kill -9 the owner, the other settles it.
            if call_won:
                await comp_sock.ok("call:accept", {"call_id": session_id})
            owner, survivor = (a, b) if call_won else (b, a)
            await asyncio.sleep(1.5)  # a heartbeat or two of the owner
            owner.proc.kill()
            owner.proc.wait(10)
            deadline = time.monotonic() + 40
            while await meter(world, cust) is not None:
                assert time.monotonic() < deadline, "the survivor never settled the session"
                await asyncio.sleep(0.25)
            assert survivor.proc.poll() is None
            async with world.db.reading() as s:
                row = await s.get(MeteredSession, session_id)
            assert row is not None
            assert (row.status, row.end_reason) == ("ended", "server_lost")
            balance = await world.wallets.balance(cust)
            assert balance.held_fen == 0 and balance.wallet_fen == FUNDS - row.charged_fen
    finally:
        for sock in socks:
            if sock.sio.connected:
                await sock.sio.disconnect()
    report = await check_ledger(world.db)
    assert report.ok, report.to_json()
