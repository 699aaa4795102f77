"""``kernel.coalesce.Coalescer``: many lookups, few queries, and never an answer older than
the question."""

from __future__ import annotations

import asyncio

import pytest

from kernel.coalesce import Coalescer


class Store:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.queries: list[list[str]] = []
        self.fail = False

    async def fetch(self, keys: list[str]) -> dict[str, int | BaseException]:
        self.queries.append(list(keys))
        snapshot = dict(self.values)  # what a query sees: the state when it starts
        await asyncio.sleep(0.01)
        if self.fail:
            raise RuntimeError("database down")
        return {k: snapshot[k] if k in snapshot else KeyError(k) for k in keys}


async def test_concurrent_lookups_share_queries() -> None:
    store = Store()
    store.values = {f"k{i}": i for i in range(200)}
    c = Coalescer(store.fetch)
    got = await asyncio.gather(*(c.get(f"k{i % 100}") for i in range(200)))
    assert got == [i % 100 for i in range(200)]
    # all asked before the first query started: one query, each key once
    assert len(store.queries) == 1
    assert sorted(store.queries[0]) == sorted({f"k{i}" for i in range(100)})
    later = await asyncio.gather(*(c.get(f"k{i}") for i in range(150)))
    assert later == list(range(150)) and len(store.queries) == 2


async def test_a_lookup_never_joins_a_query_already_running() -> None:
    """A change committed after a query started and before a lookup is asked is seen by it."""
    store = Store()
    store.values = {"muted": 0}
    c = Coalescer(store.fetch)
    first = asyncio.ensure_future(c.get("muted"))
    await asyncio.sleep(0.001)  # that query is running
    store.values["muted"] = 1  # committed now
    second = await c.get("muted")
    assert (await first, second) == (0, 1)


async def test_errors_reach_their_waiters_and_the_next_batch_runs() -> None:
    store = Store()
    store.values = {"a": 1}
    c = Coalescer(store.fetch)
    with pytest.raises(KeyError):
        await c.get("missing")
    store.fail = True
    results = await asyncio.gather(c.get("a"), c.get("a"), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    store.fail = False
    assert await c.get("a") == 1


async def test_a_cancelled_waiter_does_not_stop_the_others() -> None:
    store = Store()
    store.values = {"a": 1, "b": 2}
    c = Coalescer(store.fetch, max_batch=1)
    gone = asyncio.ensure_future(c.get("a"))
    stays = asyncio.ensure_future(c.get("b"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await stays == 2
    assert await c.get("a") == 1
