"""Asking a publisher again for the video packets that never reached the relay.

aiortc's receiver NACKs a missing packet once, when the gap appears, and again only when some
later gap happens to list it too; on a lossy uplink the retransmission is itself lost one time
in ten, and the packet then stays missing until the subscriber's own NACK finds nothing to
repair and a keyframe (large, so lost more) is asked for: a freeze.  Browsers' receivers ask
again every round trip, up to ten times.  ``RetryingNacks`` does the same for the relay's
receivers: a new gap is NACKed at once, and each packet still missing a round trip (the
publisher leg's, measured by the relay's sender on the same connection) after its last NACK is
asked for again, at most ``MAX_TRIES`` times and for ``GIVE_UP_S``; past that the packet is
given up (``recovering`` says no), so whoever waits for it (``media.forward``) asks for a
keyframe instead.

It stands in for aiortc's ``NackGenerator`` on a receiver (``add`` and ``missing`` keep that
meaning for aiortc's own path); the relay's synchronous path calls ``update``.  Pure: the time
comes in, the sequence numbers to ask for go out; no timers (retries are due when a later packet
arrives, which on a live video stream is every few milliseconds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

#: what one missing packet is asked for at most, and for how long (a jitter buffer does not wait
#: longer for it than this)
MAX_TRIES = 10
GIVE_UP_S = 1.0
#: the round trip assumed before the leg has measured one, and the least wait between two asks
DEFAULT_RTT_S = 0.1
MIN_RETRY_S = 0.02
#: a jump forward larger than this is a new numbering (a restarted stream), not a loss
MAX_GAP = 128


class RetryingNacks:
    __slots__ = ("_missing", "_next_due", "_now", "_rtt", "asked", "given_up", "max_seq")

    def __init__(
        self,
        rtt: Callable[[], float | None] = lambda: None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_seq: int | None = None
        #: seq → [missed at, last asked at, times asked]
        self._missing: dict[int, list[float]] = {}
        self._next_due = math.inf
        self._rtt = rtt
        self._now = now
        #: NACKed sequence numbers, first asks and retries (tests, the bench)
        self.asked = 0
        self.given_up = 0

    @property
    def missing(self) -> set[int]:
        """The sequence numbers still missing (aiortc's ``NackGenerator.missing``)."""
        return set(self._missing)

    def add(self, packet: Any) -> bool:
        """aiortc's ``NackGenerator.add``: True when a NACK (of ``missing``) should go out."""
        return bool(self.update(packet.sequence_number))

    def recovering(self, seq: int) -> bool:
        """Whether ``seq`` is missing and still being asked for (not given up)."""
        entry = self._missing.get(seq)
        return entry is not None and entry[2] < MAX_TRIES and self._now() - entry[0] <= GIVE_UP_S

    def interval(self) -> float:
        """How long to wait for a retransmission before asking again: the leg's round trip
        and a little for the publisher to answer."""
        rtt = self._rtt()
        if rtt is None or rtt <= 0:
            rtt = DEFAULT_RTT_S
        return max(MIN_RETRY_S, 1.2 * rtt + 0.01)

    def update(self, seq: int) -> list[int]:
        """``seq`` arrived: the sequence numbers to NACK now (sorted), new gaps and retries."""
        if self.max_seq is None:
            self.max_seq = seq
            return []
        now = self._now()
        out: list[int] = []
        ahead = (seq - self.max_seq) & 0xFFFF
        if 0 < ahead < 0x8000:
            if ahead > MAX_GAP:
                self._missing.clear()  # renumbered: nothing before is coming
                self._next_due = math.inf
            else:
                s = (self.max_seq + 1) & 0xFFFF
                while s != seq:
                    self._missing[s] = [now, now, 1.0]
                    out.append(s)
                    s = (s + 1) & 0xFFFF
                if out:
                    self.asked += len(out)
                    self._next_due = min(self._next_due, now + self.interval())
            self.max_seq = seq
        elif self._missing.pop(seq, None) is not None and not self._missing:
            self._next_due = math.inf
        if now >= self._next_due:
            out.extend(self._retries(now))
            out.sort()
        return out

    def _retries(self, now: float) -> list[int]:
        interval = self.interval()
        due: list[int] = []
        next_due = math.inf
        oldest = (self.max_seq or 0) - MAX_GAP
        for s, entry in list(self._missing.items()):
            first, last, tries = entry
            if tries >= MAX_TRIES or now - first > GIVE_UP_S or ((s - oldest) & 0xFFFF) > 0x8000:
                del self._missing[s]
                self.given_up += 1
                continue
            if now - last >= interval:
                entry[1] = last = now
                entry[2] = tries + 1
                due.append(s)
            next_due = min(next_due, last + interval)
        self.asked += len(due)
        self._next_due = next_due
        return due
