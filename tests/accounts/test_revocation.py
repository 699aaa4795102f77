"""The revocation channel: the in-memory and the Redis implementation pass the same tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from accounts.ids import AuthSessionId, UserId
from accounts.revocation import (
    MemoryRevocations,
    Reason,
    RedisRevocations,
    Revocations,
    Revoked,
)
from tests.conftest import RedisTarget

#: the processes of one deployment: with memory there is one, with Redis there are three
Cluster = Callable[[], Awaitable[list[Revocations]]]


@pytest.fixture(params=["memory", "redis"])
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    made: list[Revocations] = []

    async def make() -> list[Revocations]:
        if request.param == "memory":
            channels: list[Revocations] = [MemoryRevocations()]
        else:
            target: RedisTarget = request.getfixturevalue("redis_target")
            channels = [
                RedisRevocations.from_url(target.url, target.prefix, f"process-{n}")
                for n in range(3)
            ]
        for channel in channels:
            await channel.start()
        made.extend(channels)
        return channels

    yield make
    for channel in made:
        await channel.close()


class Heard:
    def __init__(self) -> None:
        self.items: list[Revoked] = []
        self.changed = asyncio.Event()

    async def __call__(self, r: Revoked) -> None:
        self.items.append(r)
        self.changed.set()

    async def until(self, count: int) -> list[Revoked]:
        async with asyncio.timeout(2):
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.items


async def test_every_process_hears_each_revocation_once(cluster: Cluster) -> None:
    channels = await cluster()
    heard = [Heard() for _ in channels]
    for channel, h in zip(channels, heard, strict=True):
        channel.subscribe(h)
    one = Revoked(UserId("u_1"), Reason.LOGOUT, AuthSessionId("s_1"))
    every = Revoked(UserId("u_2"), Reason.SANCTIONED)
    await channels[-1].publish(one)
    # The publisher's own listeners are called before publish returns (a logout on this
    # process never waits on Redis).
    assert heard[-1].items == [one]
    await channels[0].publish(every)
    for h in heard:
        assert sorted(await h.until(2), key=lambda r: r.user_id) == [one, every]
    await asyncio.sleep(0.2)  # no echo of a process's own message comes back later
    assert all(len(h.items) == 2 for h in heard)


async def test_a_failing_listener_neither_stops_the_others_nor_the_publisher(
    cluster: Cluster,
) -> None:
    channels = await cluster()

    async def broken(r: Revoked) -> None:
        raise RuntimeError("a listener's bug")

    heard = Heard()
    for channel in channels:
        channel.subscribe(broken)
    channels[-1].subscribe(heard)
    revoked = Revoked(UserId("u_1"), Reason.DELETED)
    await channels[0].publish(revoked)  # does not raise
    assert await heard.until(1) == [revoked]


def test_a_message_round_trips_and_garbage_is_no_revocation() -> None:
    for r in (
        Revoked(UserId("u_1"), Reason.LOGOUT, AuthSessionId("s_1")),
        Revoked(UserId("u_1"), Reason.ROLE_CHANGED),
    ):
        assert Revoked.decode(r.encode("p")) == ("p", r)
    for raw in (b"", b"[]", b"{}", b'{"origin": "p", "user_id": "u", "reason": "nope"}', b"\xff"):
        assert Revoked.decode(raw) is None


async def test_redis_listeners_skip_garbage_on_the_channel(redis_target: RedisTarget) -> None:
    from redis.asyncio import Redis

    channel = RedisRevocations.from_url(redis_target.url, redis_target.prefix, "process-a")
    heard = Heard()
    channel.subscribe(heard)
    await channel.start()
    raw = Redis.from_url(redis_target.url)
    try:
        await raw.publish(f"{redis_target.prefix}revoked", b"not json")
        revoked = Revoked(UserId("u_1"), Reason.LOGOUT_ALL)
        await raw.publish(f"{redis_target.prefix}revoked", revoked.encode("process-b"))
        assert await heard.until(1) == [revoked]
    finally:
        await raw.aclose()
        await channel.close()


async def test_publishing_with_redis_down_does_not_raise() -> None:
    """The change is committed before it is published: a lost message must not turn a logout
    into an error (the sockets' database re-check ends them instead)."""
    channel = RedisRevocations.from_url("redis://127.0.0.1:1", "x:", "process-a")
    heard = Heard()
    channel.subscribe(heard)
    revoked = Revoked(UserId("u_1"), Reason.LOGOUT_ALL)
    await channel.publish(revoked)
    assert heard.items == [revoked]  # this process's own sockets still hear it
    await channel.close()
