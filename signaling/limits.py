"""Token buckets per key (a user, a socket): ``capacity`` events at once, refilled at
``per_s`` a second.  Bounded: past ``max_keys`` the least recently used key is forgotten (it
starts again with a full bucket, which errs on the side of letting a user through)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        capacity: float,
        per_s: float,
        *,
        max_keys: int = 100_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or per_s <= 0:
            raise ValueError("capacity and per_s must be positive")
        self.capacity = capacity
        self.per_s = per_s
        self._max = max_keys
        self._now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, cost: float = 1.0) -> bool:
        now = self._now()
        tokens, at = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.per_s)
        ok = tokens >= cost
        if ok:
            tokens -= cost
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return ok

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)
