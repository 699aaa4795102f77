"""A sanction takes effect on every process: a ban by the operator's CLI (a third process) ends
the banned companion's call with a customer on process A and their socket on process B within
a second, billed to that moment, and no process lets them log in again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest
from sqlalchemy import select

from metering.check import check_ledger
from store.models import User
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
from tests.harness.rig import request_id
from tests.signaling.test_revocation import gone

__all__ = ["pg_url", "world"]

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("processes")]


@pytest.fixture
def servers(pg_url: str, redis_target: RedisTarget) -> Iterator[tuple[Server, Server]]:
    with two_servers(pg_url, redis_target, {}, {}) as pair:
        yield pair


async def test_a_ban_from_the_cli_ends_the_call_and_sockets_on_every_process(
    servers: tuple[Server, Server], world: World, pg_url: str, redis_target: RedisTarget
) -> None:
    a, b = servers
    await asyncio.gather(ready(a), ready(b))
    cust, cust_token = await login(a, world, fund_fen=1000)
    comp, comp_token = await login(b, world, "companion")
    comp_sock = await connect(b, comp_token, "companion@B")
    cust_sock = await connect(a, cust_token, "customer@A")
    socks = [comp_sock, cust_sock]
    try:
        await comp_sock.ok("presence:set", {"accepting": True})
        ack = await cust_sock.ok(
            "call:request", {"companion_id": comp, "mode": "text", "request_id": request_id()}
        )
        call_id = ack["call"]["call_id"]
        await comp_sock.ok("call:accept", {"call_id": call_id})
        async with world.db.reading() as s:
            phone = await s.scalar(select(User.phone).where(User.id == comp))
        code, out = await run_cli(
            pg_url,
            redis_target,
            *("admin", "sanction", "--phone", str(phone), "--kind", "ban"),
            *("--reason", "引导线下交易"),
        )
        assert code == 0
        printed = json.loads(out)
        assert (printed["kind"], printed["user_id"], printed["ends_at"]) == ("ban", comp, None)
        since = asyncio.get_running_loop().time()
        await gone(comp_sock, "sanctioned", since, within_s=2.0)
        ended = await cust_sock.wait(
            "call:update", lambda d: d["call_id"] == call_id and d["status"] == "ended"
        )
        assert ended["end_reason"] == "moderation"
        balance = await world.wallets.balance(cust)
        assert (balance.wallet_fen, balance.held_fen) == (1000 - 100, 0)  # one minute served
        assert (await check_ledger(world.db)).ok
        for server in (a, b):
            async with aiohttp.ClientSession() as http:
                async with http.post(server.url + "/api/auth/sms-code", json={"phone": phone}) as r:
                    assert r.status in (200, 429), await r.text()
                async with http.get(
                    server.url + "/api/me", headers={"Authorization": f"Bearer {comp_token}"}
                ) as r:
                    assert r.status == 401
    finally:
        for s in socks:
            if s.sio.connected:
                await s.sio.disconnect()
