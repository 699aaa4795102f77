"""The local broker of ``serve --workers`` (``peiliao.broker``): fakeredis's server on a Unix
socket.  These also check the fakeredis names it relies on (its request handler, the socket's
``response_ready`` event it replaces): an upgrade that changes them fails here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from peiliao.broker import IDLE_WAIT_S, Broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "var" / "broker.sock")
    b.start()
    yield b
    b.stop()


async def test_commands_scripts_and_a_private_socket(broker: Broker) -> None:
    assert broker.path.stat().st_mode & 0o777 == 0o600
    r = aioredis.Redis.from_url(broker.url, decode_responses=True)
    other = aioredis.Redis.from_url(broker.url, decode_responses=True)
    try:
        await r.set("k", "v", px=10_000)
        assert await other.get("k") == "v"  # two connections, one store
        incr = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        assert await incr(keys=["n"], args=[5]) == 5
        assert await incr(keys=["n"], args=[2]) == 7
        now = await r.eval("return redis.call('TIME')", 0)
        assert abs(int(now[0]) - time.time()) < 5
    finally:
        await r.aclose()
        await other.aclose()


async def test_a_published_message_arrives_at_once(broker: Broker) -> None:
    """The subscriber's thread is woken by the message, not by its idle wait (0.5 s)."""
    pub = aioredis.Redis.from_url(broker.url)
    sub = aioredis.Redis.from_url(broker.url).pubsub()
    try:
        await sub.subscribe("ch")
        assert (await sub.get_message(timeout=2))["type"] == "subscribe"
        waits = []
        for i in range(20):
            await asyncio.sleep(0.02)
            started = time.perf_counter()
            assert await pub.publish("ch", str(i)) == 1
            message = None
            while message is None:
                message = await sub.get_message(ignore_subscribe_messages=True, timeout=2)
            assert message["data"] == str(i).encode()
            waits.append(time.perf_counter() - started)
        assert sorted(waits)[len(waits) // 2] < IDLE_WAIT_S / 10
    finally:
        await sub.aclose()
        await pub.aclose()


def test_a_socket_left_by_a_killed_supervisor_is_replaced(tmp_path: Path) -> None:
    first = Broker(tmp_path / "b.sock")  # never stopped: its file stays, as after kill -9
    first.server_close()
    second = Broker(tmp_path / "b.sock")
    second.start()
    second.stop()
    assert not (tmp_path / "b.sock").exists()
