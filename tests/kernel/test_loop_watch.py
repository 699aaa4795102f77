"""The event-loop watch: a blocked loop shows in /metrics as the longest stall, and in the
lag histogram."""

from __future__ import annotations

import asyncio
import time

from aiohttp.test_utils import TestClient


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_a_blocked_loop_is_reported_as_a_stall(client: TestClient) -> None:
    await asyncio.sleep(0.2)  # the watch has ticked
    time.sleep(0.3)  # noqa: ASYNC251 -- blocks the loop on purpose (the test server runs in it)
    await asyncio.sleep(0.2)
    text = await (await client.get("/metrics")).text()
    assert 0.25 <= _metric(text, "peiliao_event_loop_stall_max_seconds") < 5
    assert _metric(text, "peiliao_event_loop_lag_seconds_count") >= 3
    assert _metric(text, 'peiliao_event_loop_lag_seconds_bucket{le="0.25"}') < _metric(
        text, 'peiliao_event_loop_lag_seconds_bucket{le="0.5"}'
    )
