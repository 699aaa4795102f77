"""Reads coalesced the way group commit coalesces writes: lookups by key asked while one batch
query runs wait for the next, and one query answers them all.

Every lookup is answered by a query that *started after it was asked* (a key never joins a batch
already in flight), so a caller sees everything committed before it asked, exactly as with a
query of its own: a revocation or a mute committed before a socket's event is seen by that
event's check.  With one caller at a time there is no wait at all (the batch of one starts at
once); under load, one query per database round trip instead of one per event.  The sockets'
login re-checks and chat sanctions use it (``signaling.logins``, ``accounts.sanctions``): on
SQLite those per-event reads were a third of a busy server's time (bench/signaling, py-spy).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: keys per query (an ``IN (…)`` list): the rest wait for the next
MAX_BATCH = 500


class Coalescer(Generic[K, V]):
    """``await get(key)``: the value ``fetch`` gives for it (a ``BaseException`` it gives is
    raised); ``fetch`` gets the distinct keys of a batch and answers every one."""

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V | BaseException]]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._fetch = fetch
        self._max_batch = max_batch
        self._pending: dict[K, list[asyncio.Future[V]]] = {}
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # queries run (tests, metrics)

    async def get(self, key: K) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append(future)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="coalescer")
        return await future

    async def _work(self) -> None:
        while self._pending:
            keys = list(self._pending)[: self._max_batch]
            waiting = {k: self._pending.pop(k) for k in keys}
            self.batches += 1
            try:
                found = await self._fetch(keys)
            except asyncio.CancelledError:  # stopping: nobody is left waiting for ever
                for futures in (*waiting.values(), *self._pending.values()):
                    for f in futures:
                        f.cancel()
                raise
            except Exception as exc:  # the query failed: each waiter gets the error
                for futures in waiting.values():
                    for f in futures:
                        if not f.done():
                            f.set_exception(exc)
                continue
            for key, futures in waiting.items():
                value = found[key]
                for f in futures:
                    if f.done():  # its waiter was cancelled
                        continue
                    if isinstance(value, BaseException):
                        f.set_exception(value)
                    else:
                        f.set_result(value)
