"""Keeps CPython's cyclic garbage collector from stalling the event loop.

A full (generation 2) collection walks every tracked object.  A server holding a thousand
sessions has a few hundred thousand of them (each Socket.IO connection, its tasks and timers,
each session's billing timer); walking them took 230–320 ms on this project's machine, which was
the whole tail of chat delivery latency in ``bench/signaling`` (and 30–40 ms of metering's, from
the imported modules alone).

The policy, for a long-running server process:

1. at start-up, collect once and ``gc.freeze()`` everything alive (modules, the app);
2. after every automatic full collection, freeze what survived it: it was just proven reachable,
   and later full collections only walk what is newer (cheap);
3. every ``full_interval_s``, unfreeze, collect everything once and freeze again, so that cycles
   among frozen objects that died since (a closed connection's tasks, say) are reclaimed: one
   pause per interval instead of one every few seconds.

Objects freed by reference counting (most of them) are freed at once, frozen or not; only cyclic
garbage among frozen objects waits, for at most ``full_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def freeze_now() -> None:
    """Collect, then move everything alive out of the collector's reach."""
    gc.collect()
    gc.freeze()


class HeapPolicy:
    def __init__(self, full_interval_s: float) -> None:
        self._interval = full_interval_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_full = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        freeze_now()
        gc.callbacks.append(self._after_collection)
        self._task = asyncio.create_task(self._full_collections(), name="heap-full-collections")

    async def stop(self) -> None:
        if self._after_collection in gc.callbacks:
            gc.callbacks.remove(self._after_collection)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != 2 or self._in_full:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # Not inside the collector's callback, and maybe not on the loop's thread.
            loop.call_soon_threadsafe(gc.freeze)

    async def _full_collections(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._in_full = True
            started = time.perf_counter()
            try:
                gc.unfreeze()
                found = gc.collect()
                gc.freeze()
            finally:
                self._in_full = False
            log.info(
                "heap_full_collection",
                unreachable=found,
                pause_ms=round((time.perf_counter() - started) * 1000, 1),
            )
