"""Injected time.  Wall-clock time is UTC and timezone-aware; durations use the monotonic clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring durations."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class ScaledClock:
    """Real time sped up ``speed`` times from an anchor: two processes given the same anchor
    and speed agree on the time.  For crash tests that need minutes to pass in seconds."""

    def __init__(self, anchor_epoch_s: float, speed: float) -> None:
        self.anchor = anchor_epoch_s
        self.speed = speed

    def now(self) -> datetime:
        real = time.time()
        return datetime.fromtimestamp(self.anchor + (real - self.anchor) * self.speed, UTC)

    def monotonic(self) -> float:
        return time.monotonic() * self.speed
