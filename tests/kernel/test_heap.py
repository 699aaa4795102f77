"""The heap policy: what survives a full collection is frozen; periodic full collections
reclaim cycles among frozen objects."""

from __future__ import annotations

import asyncio
import gc

from kernel.heap import HeapPolicy


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_survivors_of_a_full_collection_are_frozen_and_cycles_reclaimed_later() -> None:
    policy = HeapPolicy(full_interval_s=0.2)
    await policy.start()
    try:
        assert gc.get_freeze_count() > 0  # start-up froze the heap
        gc.unfreeze()  # make the effect of one automatic full collection visible
        keep = [Cycle() for _ in range(100)]
        gc.collect(2)
        await asyncio.sleep(0)  # the freeze runs on the loop, after the collection
        await asyncio.sleep(0)
        frozen = gc.get_freeze_count()
        assert frozen >= 100
        # a cycle made garbage while frozen is reclaimed by the periodic full collection
        import weakref

        probe = weakref.ref(keep[0])
        del keep
        gc.collect()  # frozen objects are not examined: still alive
        assert probe() is not None
        await asyncio.sleep(0.5)
        assert probe() is None
    finally:
        await policy.stop()
        gc.unfreeze()
