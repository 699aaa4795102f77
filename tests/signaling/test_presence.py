"""Presence and claims: the same tests against the in-memory and the Redis implementation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from signaling.presence import BUSY, OFFLINE, ONLINE, MemoryPresence, Presence, RedisPresence
from tests.conftest import RedisTarget


@pytest.fixture(params=["memory", "redis"])
async def presence(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    if request.param == "memory":
        yield MemoryPresence()
        return
    target: RedisTarget = request.getfixturevalue("redis_target")
    p = RedisPresence.from_url(target.url, prefix=target.prefix)
    yield p
    await p.close()


async def test_devices_count_per_user(presence: Presence) -> None:
    assert await presence.device_up("u1", "a") == 1
    assert await presence.device_up("u1", "b") == 2
    assert await presence.device_up("u1", "b") == 2  # the same socket twice
    assert await presence.device_up("u2", "c") == 1
    assert await presence.device_down("u1", "a") == 1
    assert await presence.device_down("u1", "zzz") == 1
    assert await presence.device_down("u1", "b") == 0
    assert await presence.devices("u1") == 0
    assert await presence.devices("u2") == 1


async def test_status_online_busy_offline(presence: Presence) -> None:
    assert await presence.statuses(["c1"]) == {"c1": OFFLINE}
    await presence.device_up("c1", "s1")
    assert await presence.statuses(["c1"]) == {"c1": OFFLINE}  # connected, not taking orders
    await presence.set_accepting("c1", True)
    assert await presence.statuses(["c1", "c2"]) == {"c1": ONLINE, "c2": OFFLINE}
    assert await presence.claim("c1", "call-1") == "call-1"
    assert await presence.statuses(["c1"]) == {"c1": BUSY}
    await presence.release("c1", "call-1")
    assert await presence.statuses(["c1"]) == {"c1": ONLINE}
    await presence.device_down("c1", "s1")
    assert await presence.statuses(["c1"]) == {"c1": OFFLINE}


async def test_one_claim_at_a_time(presence: Presence) -> None:
    assert await presence.claim("c1", "call-1") == "call-1"
    assert await presence.claim("c1", "call-2") == "call-1"
    assert await presence.keep("c1", "call-1")
    assert not await presence.keep("c1", "call-2")
    await presence.release("c1", "call-2")  # not the holder: nothing happens
    assert await presence.holder("c1") == "call-1"
    await presence.release("c1", "call-1")
    assert await presence.holder("c1") is None
    assert await presence.claim("c1", "call-2") == "call-2"


async def test_concurrent_claims_one_wins(presence: Presence) -> None:
    results = await asyncio.gather(*(presence.claim("c9", f"call-{i}") for i in range(20)))
    assert len(set(results)) == 1
    assert results[0] in {f"call-{i}" for i in range(20)}


async def test_redis_devices_and_claims_expire_when_their_process_dies(
    redis_target: RedisTarget,
) -> None:
    """A process that stops refreshing (it died) leaves nothing behind once the TTLs pass."""
    p = RedisPresence.from_url(
        redis_target.url, prefix=redis_target.prefix, device_ttl_ms=200, claim_ttl_ms=200
    )
    try:
        await p.device_up("c1", "s1")
        await p.set_accepting("c1", True)
        await p.claim("c1", "call-1")
        assert await p.statuses(["c1"]) == {"c1": BUSY}
        await asyncio.sleep(0.12)
        await p.refresh({"c1": ["s1"]})
        assert await p.keep("c1", "call-1")
        await asyncio.sleep(0.12)
        assert await p.devices("c1") == 1  # refreshed in time
        await asyncio.sleep(0.25)
        assert await p.devices("c1") == 0
        assert await p.holder("c1") is None
        assert await p.statuses(["c1"]) == {"c1": OFFLINE}
    finally:
        await p.close()
