"""A group voice room across two real ``peiliao serve`` processes (PostgreSQL, Redis).

The host opens the room on A, so A owns it: its media room, its members' billing clocks.  One
customer is connected to B, another to A; both join through their own process, and every
``media:offer`` goes through the sender's own process (B's is routed to A over Redis).  With
real aiortc peers everyone hears the host and each other; each member is billed at the room's
rate for their own connected time; the member on B leaves through B and their billing stops
there and then while the other's goes on; the host closes and the ledger is in balance."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aiohttp
import pytest
from sqlalchemy import select

from metering.billing_clock import Meter, connected_ms
from metering.check import check_ledger
from metering.commission import split
from store.models import MeteredSession
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
from tests.harness.rig import Person, Sock, request_id
from tests.market.voicerooms.test_media import Peer, enter, until
from tests.media.test_forward import RATE

__all__ = ["pg_url", "world"]
pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("processes")]

ROOM_RATE = 200  # the companion's own voice rate is 300: the room's applies
FUNDS = 10_000


@pytest.fixture
def media_servers(pg_url: str, redis_target: RedisTarget) -> Iterator[tuple[Server, Server]]:
    loopback = {"ice_host_addresses": "127.0.0.1"}
    with two_servers(pg_url, redis_target, loopback, loopback) as pair:
        yield pair


async def sessions(world: World, *user_ids: str) -> dict[str, MeteredSession]:
    async with world.db.reading() as s:
        rows = (
            await s.scalars(select(MeteredSession).where(MeteredSession.customer_id.in_(user_ids)))
        ).all()
    return {row.customer_id: row for row in rows}


def connected(row: MeteredSession) -> int:
    """Milliseconds the session was billed as connected, up to its end (or its last event)."""
    meter = Meter.from_json(row.meter)
    return connected_ms(meter, meter.ended_at_ms or meter.now_ms)


async def test_a_room_on_a_serves_a_member_connected_to_b(
    media_servers: tuple[Server, Server], world: World
) -> None:
    a, b = media_servers
    await asyncio.gather(ready(a), ready(b))
    host_id, host_token = await login(a, world, "companion")
    on_b_id, on_b_token = await login(b, world, fund_fen=FUNDS)
    on_a_id, on_a_token = await login(a, world, fund_fen=FUNDS)
    host = Person(host_id, host_token, "")
    on_b, on_a = Person(on_b_id, on_b_token, ""), Person(on_a_id, on_a_token, "")
    host_sock = await connect(a, host_token, "host@A")
    b_sock = await connect(b, on_b_token, "member@B")
    a_sock = await connect(a, on_a_token, "member@A")
    socks: list[Sock] = [host_sock, b_sock, a_sock]
    peers: list[Peer] = []
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                a.url + "/api/voice-rooms",
                json={"title": "两地夜聊", "rate_fen_per_min": ROOM_RATE, "capacity": 3},
                headers={"Authorization": f"Bearer {host_token}"},
            ) as resp,
        ):
            assert resp.status == 201, await resp.text()
            room_id = (await resp.json())["id"]

        joined_b = await b_sock.ok("room:join", {"room_id": room_id, "request_id": request_id()})
        joined_a = await a_sock.ok("room:join", {"room_id": room_id, "request_id": request_id()})
        assert joined_b["session_id"].startswith("vrs_") and joined_a["session_id"]
        # B's join reaches the host on A (and everyone sees the whole room).
        for sock in socks:
            await sock.wait("room:update", lambda d: len(d["members"]) == 3)

        peers = [
            await enter(host, host_sock, room_id, 880.0, slots=2),  # on A, local
            await enter(on_b, b_sock, room_id, 440.0, slots=2),  # on B, answered by A
            await enter(on_a, a_sock, room_id, 620.0, slots=2),
        ]
        host_peer, b_peer, a_peer = peers
        tone = {p.person.user_id: p.hz for p in peers}
        # Everyone hears the two others, each on a slot of their own (slots from A reach B).
        await until(lambda: all(len(p.slots(room_id)) == 2 for p in peers), 15)
        for p in peers:
            assert sorted(p.slots(room_id).values()) == sorted(
                o.person.user_id for o in peers if o is not p
            )
        await until(
            lambda: all(p.samples(mid) >= RATE // 2 for p in peers for mid in p.slots(room_id)),
            15,
        )
        for p in peers:
            for mid, source in p.slots(room_id).items():
                assert abs(p.tone_on(mid) - tone[source]) < 15, (p.person.user_id, source)

        # Both members are billed (A's relay saw their media, A's clock runs their sessions).
        for sock in (b_sock, a_sock):
            await sock.wait("media:state", lambda d: d["call_id"] == room_id and d["flowing"])
        await b_sock.wait("room:meter", lambda d: d["rate_fen_per_min"] == ROOM_RATE)
        await host_sock.wait("room:meter", lambda d: "earned_fen" in d)

        # The member on B leaves through B: their session ends there and then.
        left = await b_sock.ok("room:leave", {"room_id": room_id})
        # out of the room now: the leaver sees the host, no longer the other members
        assert [m["user_id"] for m in left["room"]["members"]] == [host_id]
        assert (await b_sock.wait("room:left"))["reason"] == "left"
        await host_sock.wait(
            "room:update", lambda d: [m["user_id"] for m in d["members"]] == [host_id, on_a_id]
        )
        gone = (await sessions(world, on_b_id))[on_b_id]
        assert (gone.status, gone.end_reason) == ("ended", "left")
        billed_b = connected(gone)
        # A drops them from its media room (its sweep sees the leave made on B).
        await until(lambda: len(host_peer.slots(room_id)) == 1, 5)
        assert list(host_peer.slots(room_id).values()) == [on_a_id]
        await asyncio.sleep(0.5)  # what was in flight arrives
        held = b_peer.total()
        host_mid_at_a = next(m for m, u in a_peer.slots(room_id).items() if u == host_id)
        mark = a_peer.samples(host_mid_at_a)
        await asyncio.sleep(1.0)
        assert b_peer.total() == held  # nothing reaches them any more
        assert a_peer.samples(host_mid_at_a) > mark + RATE // 2  # the others go on
        still = await sessions(world, on_b_id, on_a_id)
        assert connected(still[on_b_id]) == billed_b  # no longer billed
        assert still[on_a_id].status == "running"

        async with (
            aiohttp.ClientSession() as http,
            http.post(
                a.url + f"/api/voice-rooms/{room_id}/close",
                headers={"Authorization": f"Bearer {host_token}"},
            ) as resp,
        ):
            assert resp.status == 200, await resp.text()
        assert (await a_sock.wait("room:left"))["reason"] == "closed"
    finally:
        for p in peers:
            await p.close()
        for s in socks:
            if s.sio.connected:
                await s.sio.disconnect()

    final = await sessions(world, on_b_id, on_a_id)
    for user_id, row in final.items():
        assert row.status == "ended" and row.companion_id == host_id
        assert row.rate_fen_per_min == ROOM_RATE
        assert row.billed_minutes == 1  # some seconds of their own: minute 1 at the room's rate
        assert row.charged_fen == ROOM_RATE
        balance = await world.wallets.balance(user_id)
        assert (balance.wallet_fen, balance.held_fen) == (FUNDS - ROOM_RATE, 0)
    assert final[on_a_id].end_reason == "closed"
    assert connected(final[on_b_id]) == billed_b
    assert connected(final[on_a_id]) > billed_b + 1_000  # billed on, a while after B left
    # The host earned the companion's share of each member's minute, and was told so.
    earned = sum(split(r.rate_fen_per_min, r.commission_bp).companion_fen for r in final.values())
    await host_sock.wait("room:meter", lambda d: d.get("earned_fen") == earned)
    assert (await check_ledger(world.db)).ok
