"""Several real ``peiliao serve`` processes on one PostgreSQL database and the real Redis: a
customer on process A calls a companion on process B; SIGTERM drains a process."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from metering.check import check_ledger
from store.models import Call, User
from tests.conftest import RedisTarget
from tests.harness.processes import (
    Server,
    World,
    connect,
    login,
    pg_url,
    ready,
    run_cli,
    two_servers,
    world,
)
from tests.harness.rig import Sock, request_id

__all__ = ["pg_url", "world"]

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("processes")]


@pytest.fixture
def servers(pg_url: str, redis_target: RedisTarget) -> Iterator[tuple[Server, Server]]:
    with two_servers(pg_url, redis_target, {}, {"drain_timeout_s": "1.0"}) as pair:
        yield pair


async def test_customer_on_a_calls_companion_on_b_through_redis(
    servers: tuple[Server, Server], world: World
) -> None:
    a, b = servers
    await asyncio.gather(ready(a), ready(b))
    cust, cust_token = await login(a, world, fund_fen=1000)
    _rival, rival_token = await login(b, world, fund_fen=1000)
    comp, comp_token = await login(b, world, "companion")
    comp_sock = await connect(b, comp_token, "companion@B")
    cust_sock = await connect(a, cust_token, "customer@A")
    rival_sock = await connect(b, rival_token, "rival@B")
    socks = [comp_sock, cust_sock, rival_sock]
    try:
        watched = await cust_sock.ok("presence:watch", {"user_ids": [comp]})
        assert watched["statuses"] == {comp: "offline"}  # connected, not accepting yet
        await comp_sock.ok("presence:set", {"accepting": True})
        await cust_sock.wait("presence:update", lambda d: d["status"] == "online")  # B → A

        acks = await asyncio.gather(
            cust_sock.call(
                "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
            ),
            rival_sock.call(
                "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
            ),
        )
        assert sorted(x["ok"] for x in acks) == [False, True]  # one claim, across processes
        assert next(x for x in acks if not x["ok"])["error"]["code"] == "companion_busy"
        if not acks[0]["ok"]:  # the rival (on B) won: let it go, then call from A
            await rival_sock.ok("call:cancel", {"call_id": acks[1]["call"]["call_id"]})
            await cust_sock.wait("presence:update", lambda d: d["status"] == "online")
            acks = (
                await cust_sock.ok(
                    "call:request",
                    {"companion_id": comp, "mode": "text", "request_id": request_id()},
                ),
            )
        call_id = acks[0]["call"]["call_id"]
        incoming = await comp_sock.wait("call:incoming", lambda d: d["call_id"] == call_id)  # A → B
        assert incoming["customer"]["id"] == cust
        await comp_sock.ok("call:accept", {"call_id": call_id})
        await cust_sock.wait(
            "call:update", lambda d: d["call_id"] == call_id and d["status"] == "active"
        )

        await cust_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": "from-a-01", "text": "来自A"}
        )
        await comp_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": "from-b-01", "text": "来自B"}
        )
        got_b = await comp_sock.wait("chat:message", lambda d: d["text"] == "来自A")
        got_a = await cust_sock.wait("chat:message", lambda d: d["text"] == "来自B")
        assert (got_b["seq"], got_a["seq"]) == (1, 2)
        await cust_sock.wait("session:meter", lambda d: d["call_id"] == call_id)  # B's runner → A

        await cust_sock.ok("call:hangup", {"call_id": call_id})
        await comp_sock.wait(
            "call:update", lambda d: d["call_id"] == call_id and d["status"] == "ended"
        )
        balance = await world.wallets.balance(cust)
        assert (balance.wallet_fen, balance.held_fen) == (900, 0)  # a few seconds: one minute
        assert (await check_ledger(world.db)).ok
    finally:
        for s in socks:
            if s.sio.connected:
                await s.sio.disconnect()


async def test_sigterm_drains_then_settles(servers: tuple[Server, Server], world: World) -> None:
    a, b = servers
    await asyncio.gather(ready(a), ready(b))
    cust, cust_token = await login(a, world, fund_fen=1000)
    comp, comp_token = await login(b, world, "companion")
    comp_sock = await connect(b, comp_token, "companion@B")
    cust_sock = await connect(b, cust_token, "customer@B")
    await comp_sock.ok("presence:set", {"accepting": True})
    call_id = (
        await cust_sock.ok(
            "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
        )
    )["call"]["call_id"]
    await comp_sock.ok("call:accept", {"call_id": call_id})
    b.proc.send_signal(signal.SIGTERM)
    notice = await cust_sock.wait("server:draining")
    assert notice["reconnect"] is True
    # during the drain the session goes on
    await cust_sock.ok(
        "chat:send", {"call_id": call_id, "client_id": "during-drain", "text": "还在吗"}
    )
    try:
        code = b.proc.wait(20)
    except subprocess.TimeoutExpired:
        b.proc.kill()
        out = b.proc.communicate()[0]
        raise AssertionError(f"B did not stop after SIGTERM:\n{out[-4000:]}") from None
    assert code == 0
    async with world.db.reading() as s:
        row = (await s.scalars(select(Call).where(Call.id == call_id))).one()
    assert (row.status, row.end_reason) == ("ended", "drain")
    balance = await world.wallets.balance(cust)
    assert (balance.wallet_fen, balance.held_fen) == (900, 0)
    assert (await check_ledger(world.db)).ok
    # process A still serves
    other = await connect(a, cust_token, "customer@A")
    assert (await other.ok("call:current"))["call"] is None
    await other.sio.disconnect()


async def test_a_revocation_on_a_ends_the_sockets_on_b(
    servers: tuple[Server, Server], world: World, pg_url: str, redis_target: RedisTarget
) -> None:
    """Logout everywhere through A's HTTP API: the user's socket on B is told and disconnected
    within a second (Redis pub/sub), and so is the one on A; the admin CLI making someone an
    admin (a third process) ends their socket on B the same way."""
    from tests.signaling.test_revocation import gone

    a, b = servers
    await asyncio.gather(ready(a), ready(b))
    cust, token = await login(a, world, fund_fen=1000)
    _comp, comp_token = await login(b, world, "companion")
    comp_sock = await connect(b, comp_token, "companion@B")
    on_b = await connect(b, token, "customer@B")
    on_a = await connect(a, token, "customer@A")
    other, other_token = await login(a, world)
    other_on_b = await connect(b, other_token, "other@B")
    socks = [comp_sock, on_b, on_a, other_on_b]
    try:
        await comp_sock.ok("presence:set", {"accepting": True})
        loop = asyncio.get_running_loop()
        since = loop.time()
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                a.url + "/api/auth/logout-all", headers={"Authorization": f"Bearer {token}"}
            ) as r,
        ):
            assert r.status == 200, await r.text()
        await gone(on_b, "logout_all", since)
        await gone(on_a, "logout_all", since)
        await asyncio.sleep(0.2)
        assert not comp_sock.seen("call:incoming")
        balance = await world.wallets.balance(cust)
        assert (balance.wallet_fen, balance.held_fen) == (1000, 0)

        async with world.db.reading() as s:
            phone = await s.scalar(select(User.phone).where(User.id == other))
        code, _ = await run_cli(pg_url, redis_target, "admin", "create", "--phone", str(phone))
        assert code == 0
        await gone(other_on_b, "role_changed", loop.time())
        again = await connect(b, other_token, "other@B again")
        socks.append(again)
        assert (await again.wait("session:hello"))["role"] == "admin"
    finally:
        for s in socks:
            if s.sio.connected:
                await s.sio.disconnect()


# -- a process dies (kill -9) -------------------------------------------------------------------

#: heartbeats every 0.5 s, a process lapsed after 3 s of silence, 2 s for a user whose process
#: died to come back through another: the same rules as the defaults (2 s, 10 s, 20 s), faster
LIVENESS = {
    "process_heartbeat_interval_s": "0.5",
    "process_lapse_s": "3",
    "process_lost_grace_s": "2",
}
#: how long after a kill -9 everything must be settled and the companion free again
FREE_WITHIN_S = 30.0


@pytest.fixture
def dying(pg_url: str, redis_target: RedisTarget) -> Iterator[tuple[Server, Server]]:
    with two_servers(pg_url, redis_target, LIVENESS, LIVENESS) as pair:
        yield pair


async def _text_call_on_b(
    a: Server, b: Server, world: World
) -> tuple[str, str, str, Sock, Sock, str]:
    """A customer on A calls a companion on B, who accepts there (B owns the call)."""
    await asyncio.gather(ready(a), ready(b))
    cust, cust_token = await login(a, world, fund_fen=1000)
    comp, comp_token = await login(b, world, "companion")
    comp_sock = await connect(b, comp_token, "companion@B")
    cust_sock = await connect(a, cust_token, "customer@A")
    await comp_sock.ok("presence:set", {"accepting": True})
    call_id = (
        await cust_sock.ok(
            "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
        )
    )["call"]["call_id"]
    await comp_sock.wait("call:incoming", lambda d: d["call_id"] == call_id)
    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.wait("session:meter", lambda d: d["call_id"] == call_id)  # B bills
    return cust, comp, comp_token, cust_sock, comp_sock, call_id


async def _settled(world: World, call_id: str) -> tuple[Call, Any]:
    from store.models import MeteredSession

    async with world.db.reading() as s:
        call = (await s.scalars(select(Call).where(Call.id == call_id))).one()
        session = await s.get(MeteredSession, call_id)
    assert session is not None
    return call, session


def _usable_ms(session: Any) -> int:
    from metering.billing_clock import Meter, connected_ms

    meter = Meter.from_json(session.meter)
    assert meter.ended_at_ms is not None
    return connected_ms(meter, meter.ended_at_ms)


async def test_kill_9_of_the_customers_process_stops_billing_at_its_last_heartbeat(
    dying: tuple[Server, Server], world: World
) -> None:
    """The customer's socket is on A, the call (and its billing clock) on B.  A dies: the
    customer is away as of A's last heartbeat, so nothing after it is billed; not back within
    the grace, the call ends and the companion is free again."""
    a, b = dying
    cust, comp, _, cust_sock, comp_sock, call_id = await _text_call_on_b(a, b, world)
    _watcher, watcher_token = await login(b, world, fund_fen=1000)
    watcher = await connect(b, watcher_token, "watcher@B")
    try:
        await watcher.ok("presence:watch", {"user_ids": [comp]})
        await asyncio.sleep(6)  # a few seconds of a billed session
        os.kill(a.proc.pid, signal.SIGKILL)
        killed_ms = int(time.time() * 1000)
        a.proc.wait(10)

        ended = await comp_sock.wait(
            "call:update",
            lambda d: d["call_id"] == call_id and d["status"] == "ended",
            timeout=FREE_WITHIN_S,
        )
        assert ended["end_reason"] == "away"
        await watcher.wait(
            "presence:update",
            lambda d: d["user_id"] == comp and d["status"] == "online",
            timeout=max(1.0, FREE_WITHIN_S - (time.time() * 1000 - killed_ms) / 1000),
        )
        # The companion takes a new call at once.
        again = await watcher.ok(
            "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
        )
        assert again["call"]["status"] == "ringing"
        await watcher.ok("call:cancel", {"call_id": again["call"]["call_id"]})

        call, session = await _settled(world, call_id)
        assert session.status == "ended"
        usable_ms = _usable_ms(session)
        assert call.state["accepted_ms"] is not None
        stopped_ms = call.state["accepted_ms"] + usable_ms
        # Billed up to A's last heartbeat (at most one interval before the kill), not after.
        assert killed_ms - 2_000 <= stopped_ms <= killed_ms + 100, stopped_ms - killed_ms
        assert session.billed_minutes == math.ceil(usable_ms / 60_000) == 1
        balance = await world.wallets.balance(cust)
        assert (balance.wallet_fen, balance.held_fen) == (1000 - 100 * session.billed_minutes, 0)
        assert (await check_ledger(world.db)).ok
    finally:
        for s in (cust_sock, comp_sock, watcher):
            if s.sio.connected:
                await s.sio.disconnect()


async def test_kill_9_of_the_owning_process_settles_its_calls_at_its_last_heartbeat(
    dying: tuple[Server, Server], world: World
) -> None:
    """B owns the call (the companion accepted there) and dies: another process settles the
    call as of B's last heartbeat, and the companion, back on A, takes calls again."""
    a, b = dying
    cust, comp, comp_token, cust_sock, comp_sock, call_id = await _text_call_on_b(a, b, world)
    try:
        await asyncio.sleep(4)
        os.kill(b.proc.pid, signal.SIGKILL)
        killed_ms = int(time.time() * 1000)
        b.proc.wait(10)

        ended = await cust_sock.wait(
            "call:update",
            lambda d: d["call_id"] == call_id and d["status"] == "ended",
            timeout=FREE_WITHIN_S,
        )
        assert ended["end_reason"] == "server_lost"
        call, session = await _settled(world, call_id)
        assert (session.status, session.end_reason) == ("ended", "server_lost")
        stopped_ms = call.state["accepted_ms"] + _usable_ms(session)
        assert killed_ms - 2_000 <= stopped_ms <= killed_ms + 100, stopped_ms - killed_ms
        assert session.billed_minutes == 1

        # The companion reconnects through A and is free: a new call rings.
        comp_again = await connect(a, comp_token, "companion@A")
        try:
            await comp_again.ok("presence:set", {"accepting": True})
            again = await cust_sock.ok(
                "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
            )
            assert again["call"]["status"] == "ringing"
            assert (time.time() * 1000 - killed_ms) / 1000 <= FREE_WITHIN_S
            await cust_sock.ok("call:cancel", {"call_id": again["call"]["call_id"]})
        finally:
            await comp_again.sio.disconnect()
        balance = await world.wallets.balance(cust)
        assert (balance.wallet_fen, balance.held_fen) == (900, 0)
        assert (await check_ledger(world.db)).ok
    finally:
        for s in (cust_sock, comp_sock):
            if s.sio.connected:
                await s.sio.disconnect()
