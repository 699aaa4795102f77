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


# -- process liveness (signaling.liveness) ------------------------------------------------------


async def test_one_process_never_finds_another_dead() -> None:
    """No Redis: one process, nothing to watch; its sockets are its own memory."""
    p = MemoryPresence()
    await p.device_up("u1", "s1")
    assert await p.heartbeat(1_000, 10_000) is False
    assert await p.lapsed(10**15) == []
    assert await p.reap("anyone", 10**15) is None
    assert await p.devices("u1") == 1


def _process(target: RedisTarget, name: str) -> RedisPresence:
    return RedisPresence.from_url(target.url, prefix=target.prefix, process=name)


async def test_a_lapsed_process_is_reaped_once_and_leaves_its_only_users_away(
    redis_target: RedisTarget,
) -> None:
    """A and B heartbeat; A stops.  Once A's heartbeat is older than the lapse, B finds it,
    reaps it (its devices go) and learns which users A left with no device: those connected
    through B too are not among them."""
    from kernel.clock import FakeClock
    from signaling.liveness import ProcessWatch

    a, b, c = (_process(redis_target, n) for n in ("A", "B", "C"))
    clock = FakeClock()
    lost: list[tuple[str, int]] = []
    owners: list[tuple[str, int]] = []
    revived: list[bool] = []

    async def user_lost(user_id: str, at_ms: int) -> None:
        lost.append((user_id, at_ms))

    async def process_lost(process: str, at_ms: int) -> None:
        owners.append((process, at_ms))

    async def on_revived() -> None:
        revived.append(True)

    def watch(p: RedisPresence) -> ProcessWatch:
        now = lambda: int(clock.now().timestamp() * 1000)  # noqa: E731
        return ProcessWatch(
            p,
            now,
            interval_s=1,
            lapse_s=3,
            on_user_lost=user_lost,
            on_process_lost=process_lost,
            on_revived=on_revived,
        )

    wa, wb, wc = watch(a), watch(b), watch(c)
    try:
        await a.device_up("only-a", "sa1")
        await a.device_up("both", "sa2")
        await b.device_up("both", "sb1")
        await b.device_up("only-b", "sb2")
        for w in (wa, wb, wc):
            await w.beat()
        a_last_ms = int(clock.now().timestamp() * 1000)
        clock.advance(2)
        await wb.beat()
        await wc.beat()
        assert await wb.check() == [] and await wc.check() == []  # 2 s: not lapsed yet
        clock.advance(1.5)
        await wb.beat()
        await wc.beat()
        # Two live processes look at once: exactly one reaps A.
        reaped = await asyncio.gather(wb.check(), wc.check())
        assert sorted(map(len, reaped)) == [0, 1] and ["A"] in reaped
        assert owners == [("A", a_last_ms)]
        assert lost == [("only-a", a_last_ms)]  # away as of A's last heartbeat
        assert (await b.devices("only-a"), await b.devices("both")) == (0, 1)
        assert await b.devices("only-b") == 1
        assert await wb.check() == [] and len(owners) == 1  # reaped once
        # A was only slow: its next heartbeat says so, and it registers its devices again.
        clock.advance(1)
        await wa.beat()
        assert revived == [True]
        await wa.beat()
        assert revived == [True]  # a timely heartbeat is not a revival
    finally:
        for p in (a, b, c):
            await p.close()


async def test_a_process_that_heartbeats_in_time_is_never_reaped(
    redis_target: RedisTarget,
) -> None:
    a, b = _process(redis_target, "A"), _process(redis_target, "B")
    try:
        await a.device_up("u1", "s1")
        assert await a.heartbeat(1_000, 3_000) is True  # first heartbeat
        assert await b.heartbeat(1_000, 3_000) is True
        assert await a.heartbeat(3_500, 3_000) is False
        assert await b.lapsed(4_001 - 3_000) == []  # at 4 s with a 3 s lapse: A beat at 3.5 s
        assert await b.reap("A", 2_000) is None  # A's heartbeat is newer than the cut-off
        assert await b.lapsed(10_000) == [("A", 3_500)]  # never itself
        assert await b.devices("u1") == 1
        await a.device_down("u1", "s1")
        assert await b.reap("A", 10_000) == []  # a clean disconnect left nothing to reap
    finally:
        await a.close()
        await b.close()
