"""A voice call across two real ``peiliao serve`` processes (PostgreSQL, Redis): the customer's
socket is on A, the companion accepts on B, so the room lives on B; the customer's offer, mute,
report (whose evidence B seals) and hang-up travel from A to B over Redis, and both hear each
other through B."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import aiohttp
import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from sqlalchemy import select

from store.models.evidence import CallEvidence
from tests.conftest import RedisTarget
from tests.harness import bearer
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
from tests.harness.rig import request_id
from tests.media.test_forward import RATE, Tone
from tests.media.test_negotiation import hear_each_other, listen, negotiate

__all__ = ["pg_url", "world"]
pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("processes")]


@pytest.fixture
def media_servers(pg_url: str, redis_target: RedisTarget) -> Iterator[tuple[Server, Server]]:
    loopback = {"ice_host_addresses": "127.0.0.1"}
    with two_servers(pg_url, redis_target, loopback, loopback) as pair:
        yield pair


async def test_a_room_on_b_serves_a_customer_connected_to_a(
    media_servers: tuple[Server, Server], world: World
) -> None:
    a, b = media_servers
    await asyncio.gather(ready(a), ready(b))
    cust, cust_token = await login(a, world, fund_fen=1000)
    comp, comp_token = await login(b, world, "companion")
    comp_sock = await connect(b, comp_token, "companion@B")
    cust_sock = await connect(a, cust_token, "customer@A")
    rtc = RTCConfiguration(iceServers=[])
    cust_pc, comp_pc = RTCPeerConnection(rtc), RTCPeerConnection(rtc)
    tasks: list[asyncio.Future[None]] = []
    heard_by_cust: list[np.ndarray] = []
    heard_by_comp: list[np.ndarray] = []
    try:
        await comp_sock.ok("presence:set", {"accepting": True})
        call = await cust_sock.ok(
            "call:request", {"companion_id": comp, "mode": "voice", "request_id": request_id()}
        )
        call_id = call["call"]["call_id"]
        await comp_sock.wait("call:incoming", lambda d: d["call_id"] == call_id)
        await comp_sock.ok("call:accept", {"call_id": call_id})  # B owns the call and its room
        cust_pc.addTrack(Tone(440.0))
        comp_pc.addTrack(Tone(660.0))
        listen(cust_pc, heard_by_cust, tasks)
        listen(comp_pc, heard_by_comp, tasks)
        assert (await negotiate(cust_sock, call_id, cust_pc))["ok"]  # A → B → A
        assert (await negotiate(comp_sock, call_id, comp_pc))["ok"]
        await hear_each_other(heard_by_cust, heard_by_comp, 440.0, 660.0)
        await cust_sock.wait("media:state", lambda d: d["flowing"], timeout=10)

        await cust_sock.ok("media:mute", {"call_id": call_id, "audio": True, "video": False})
        peer = await comp_sock.wait("media:peer", timeout=5)
        assert peer["user_id"] == cust and peer["audio"] is True

        # A report made on A reaches B, whose relay holds the windows: B seals and writes them.
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                a.url + "/api/reports",
                json={"user_id": comp, "reason": "harassment", "call_id": call_id},
                headers=bearer(cust_token),
            ) as resp,
        ):
            assert resp.status == 201, await resp.text()
            assert (await resp.json())["call_evidence"] == "kept"
        async with world.db.reading() as s:
            pieces = (
                await s.scalars(select(CallEvidence).where(CallEvidence.call_id == call_id))
            ).all()
        assert sorted(p.subject_id for p in pieces if p.kind == "audio") == sorted([cust, comp])
        # Any process opens it (the data keys are the deployment's): an admin on A plays it.
        _admin, admin_token = await login(a, world, "admin")
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                a.url + f"/api/admin/call-evidence/{pieces[0].id}", headers=bearer(admin_token)
            ) as resp,
        ):
            assert resp.status == 200 and resp.content_type == "audio/ogg"
            ogg_file = await resp.read()
        assert sum(f.samples for f in av.open(io.BytesIO(ogg_file)).decode(audio=0)) > RATE

        await cust_sock.ok("call:hangup", {"call_id": call_id})  # on A; the room is on B
        for _ in range(100):
            if cust_pc.connectionState == "closed" or comp_pc.connectionState == "closed":
                break
            await asyncio.sleep(0.05)
        # B closed its peer connections: the customer's media stops.
        await asyncio.sleep(0.5)
        held = len(heard_by_cust)
        await asyncio.sleep(0.5)
        assert len(heard_by_cust) == held
    finally:
        for task in tasks:
            task.cancel()
        for pc in (cust_pc, comp_pc):
            await pc.close()
        for s in (cust_sock, comp_sock):
            if s.sio.connected:
                await s.sio.disconnect()
