"""A voice room's chat across two real ``peiliao serve`` processes (PostgreSQL, Redis): the host
on A, members on A and B sending at once through their own process; every message is numbered
once from the room's counter (gap-free, whichever process stored it) and reaches everyone."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.conftest import RedisTarget
from tests.harness.processes import World, connect, login, pg_url, ready, two_servers, world
from tests.harness.rig import Sock, request_id

__all__ = ["pg_url", "world"]
pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("processes")]


async def test_room_chat_is_ordered_across_processes(
    pg_url: str, redis_target: RedisTarget, world: World
) -> None:
    loopback = {"ice_host_addresses": "127.0.0.1"}
    with two_servers(pg_url, redis_target, loopback, loopback) as (a, b):
        await ready(a)
        await ready(b)
        host_id, host_token = await login(a, world, "companion")
        on_a_id, on_a_token = await login(a, world, fund_fen=5_000)
        on_b_id, on_b_token = await login(b, world, fund_fen=5_000)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                a.url + "/api/voice-rooms",
                json={"title": "跨进程聊天", "rate_fen_per_min": 200, "capacity": 4},
                headers={"Authorization": f"Bearer {host_token}"},
            ) as r,
        ):
            assert r.status == 201, await r.text()
            room_id = (await r.json())["id"]
        host = await connect(a, host_token, "host")
        on_a = await connect(a, on_a_token, "on-a")
        on_b = await connect(b, on_b_token, "on-b")
        try:
            for sock in (on_a, on_b):
                await sock.ok("room:join", {"room_id": room_id, "request_id": request_id()})

            async def burst(sock: Sock, tag: str) -> list[int]:
                seqs = []
                for n in range(5):
                    ack = await sock.ok(
                        "roomchat:send",
                        {"room_id": room_id, "client_id": request_id(), "text": f"{tag}{n}"},
                    )
                    seqs.append(ack["message"]["seq"])
                return seqs

            got = await asyncio.gather(burst(host, "h"), burst(on_a, "a"), burst(on_b, "b"))
            assert sorted(s for seqs in got for s in seqs) == list(range(1, 16))
            assert all(seqs == sorted(seqs) for seqs in got)
            for sock in (host, on_a, on_b):
                await sock.wait(
                    "roomchat:message",
                    lambda d, sock=sock: len(sock.seen("roomchat:message")) >= 15,
                )
                seen = sorted((m["seq"], m["text"]) for m in sock.seen("roomchat:message"))
                assert [s for s, _ in seen] == list(range(1, 16))
                for tag in "hab":
                    assert [t for _, t in seen if t[0] == tag] == [f"{tag}{n}" for n in range(5)]
            # history through B agrees with what A stored
            page = await on_b.ok("roomchat:history", {"room_id": room_id})
            assert [m["seq"] for m in page["messages"]] == list(range(1, 16))
            assert {m["sender"]["user_id"] for m in page["messages"]} == {host_id, on_a_id, on_b_id}
        finally:
            for sock in (host, on_a, on_b):
                await sock.sio.disconnect()
