"""What the network lab does to packets: the profiles, and the pure model of one direction of a
link (``Pipe``) that the router applies.  No I/O, no clock: ``Pipe.admit(size, now_s)`` says when
a packet leaves the link, or why it never does.

One direction of a link, in the order a packet meets them:

1. *Loss* at the radio: independent (Bernoulli, ``loss``) or bursty (Gilbert-Elliott: a good
   state that loses ``ge_loss_good`` and a bad one that loses ``ge_loss_bad``; ``ge_p`` is the
   chance per packet to go bad, ``ge_r`` to recover, so bursts last 1/``ge_r`` packets on average
   and the long-run loss is p/(p+r)·bad + r/(p+r)·good; Gilbert 1960, Elliott 1963, and the
   model of RFC 3611 §4.7.2).
2. *Bottleneck*: a link of ``rate_kbit`` (IP bytes) with a FIFO of ``queue_ms`` worth of bytes in
   front; a packet that does not fit is tail-dropped, as a real bottleneck drops (the queue is
   what makes delay grow under congestion, and the drop is what a congestion controller sees).
3. *Propagation*: ``delay_ms`` plus jitter drawn from a normal law of deviation ``jitter_ms``
   (never below zero).  ``reorder=False`` holds a packet behind the one sent before it (a link
   that jitters but keeps order, as most do); ``True`` lets them overtake, as netem does.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Direction:
    """One direction of a link.  Zero means "not impaired" for every field."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    reorder: bool = False
    loss: float = 0.0
    ge_p: float = 0.0
    ge_r: float = 0.0
    ge_loss_good: float = 0.0
    ge_loss_bad: float = 1.0
    rate_kbit: float = 0.0
    queue_ms: float = 200.0

    def __post_init__(self) -> None:
        for name in ("loss", "ge_p", "ge_r", "ge_loss_good", "ge_loss_bad"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a probability: {value!r} is not in [0, 1]")
        for name in ("delay_ms", "jitter_ms", "rate_kbit", "queue_ms"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
        if self.loss and self.bursty:
            raise ValueError("choose random loss (loss) or bursty loss (ge_p, ge_r), not both")
        if self.ge_p and not self.ge_r:
            raise ValueError("ge_p without ge_r: the bad state would never end")
        if self.rate_kbit and self.queue_ms <= 0:
            raise ValueError("a rate cap needs a queue (queue_ms > 0)")

    @property
    def bursty(self) -> bool:
        return self.ge_p > 0

    @property
    def mean_loss(self) -> float:
        """The long-run share of packets the loss model drops (not counting the queue)."""
        if not self.bursty:
            return self.loss
        bad = self.ge_p / (self.ge_p + self.ge_r)
        return bad * self.ge_loss_bad + (1 - bad) * self.ge_loss_good

    @property
    def queue_bytes(self) -> int:
        return int(self.rate_kbit * 1000 / 8 * self.queue_ms / 1000) if self.rate_kbit else 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Profile:
    """A client's access network: ``up`` is client → anything, ``down`` anything → client.
    ``switch_at_s``: the client's address changes this long after the call starts (the lab
    moves it from its first network to its second)."""

    name: str
    summary: str
    up: Direction = field(default_factory=Direction)
    down: Direction = field(default_factory=Direction)
    switch_at_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "up": self.up.as_dict(),
            "down": self.down.as_dict(),
            "switch_at_s": self.switch_at_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(
            name=data["name"],
            summary=data.get("summary", ""),
            up=Direction(**data.get("up", {})),
            down=Direction(**data.get("down", {})),
            switch_at_s=data.get("switch_at_s"),
        )


def _same_both_ways(
    name: str, summary: str, switch_at_s: float | None = None, **kw: Any
) -> Profile:
    return Profile(name, summary, Direction(**kw), Direction(**kw), switch_at_s)


# Lossy Wi-Fi: 10 % of packets lost in bursts of 3 on average (r = 1/3, p = 0.1·r/0.9).
_WIFI_R = 1 / 3
_WIFI_P = 0.1 * _WIFI_R / 0.9

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("clean", "nothing done to packets"),
        _same_both_ways("good_4g", "50 ms RTT, 1 % random loss each way", delay_ms=25, loss=0.01),
        _same_both_ways(
            "poor_4g",
            "150 ms RTT, 5 % random loss each way, 30 ms jitter (packets may overtake)",
            delay_ms=75,
            jitter_ms=30,
            loss=0.05,
            reorder=True,
        ),
        Profile(
            "congested_down",
            "500 kbit/s downlink behind a 300 ms queue, 40 ms RTT",
            up=Direction(delay_ms=20),
            down=Direction(delay_ms=20, rate_kbit=500, queue_ms=300),
        ),
        _same_both_ways(
            "lossy_wifi",
            "10 % loss in bursts (Gilbert-Elliott, mean burst 3 packets) each way, 10 ms RTT",
            delay_ms=5,
            ge_p=_WIFI_P,
            ge_r=_WIFI_R,
        ),
        _same_both_ways(
            "network_switch",
            "Wi-Fi (10 ms RTT) then, 8 s in, a new address on 4G (50 ms RTT)",
            switch_at_s=8.0,
            delay_ms=5,
        ),
    )
}

# The second network of ``network_switch`` (what the client moves to).
SWITCHED_TO = _same_both_ways("network_switch_4g", "4G, 50 ms RTT", delay_ms=25)


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: one of {', '.join(PROFILES)}") from None


@dataclass(slots=True)
class PipeCounters:
    packets_in: int = 0
    lost: int = 0  # the loss model
    queue_dropped: int = 0  # the bottleneck's full queue
    packets_out: int = 0
    bytes_out: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Pipe:
    """One direction of one client's link.  ``admit`` decides a packet's fate when it arrives;
    the caller delivers it at the returned time.  ``rng`` is injected: tests seed it."""

    def __init__(self, spec: Direction, rng: random.Random | None = None) -> None:
        self.spec = spec
        self.rng = rng or random.Random()
        self.counters = PipeCounters()
        self._bad = False
        self._link_free_at_s = 0.0  # when the bottleneck finishes sending what it holds
        self._last_delivery_s = 0.0

    def reconfigure(self, spec: Direction) -> None:
        self.spec = spec
        self._bad = False

    def _lost(self) -> bool:
        spec = self.spec
        if not spec.bursty:
            return spec.loss > 0 and self.rng.random() < spec.loss
        # The state moves first, then the packet meets it (RFC 3611 §4.7.2's per-packet chain).
        if self._bad:
            self._bad = self.rng.random() >= spec.ge_r
        else:
            self._bad = self.rng.random() < spec.ge_p
        chance = spec.ge_loss_bad if self._bad else spec.ge_loss_good
        return self.rng.random() < chance

    def admit(self, size_bytes: int, now_s: float) -> float | None:
        """When a packet of ``size_bytes`` (IP) arriving at ``now_s`` leaves this direction, or
        None if it is lost."""
        spec = self.spec
        self.counters.packets_in += 1
        if self._lost():
            self.counters.lost += 1
            return None
        leaves_s = now_s
        if spec.rate_kbit:
            start_s = max(now_s, self._link_free_at_s)
            backlog_bytes = (start_s - now_s) * spec.rate_kbit * 1000 / 8
            if backlog_bytes + size_bytes > max(spec.queue_bytes, size_bytes):
                self.counters.queue_dropped += 1
                return None
            self._link_free_at_s = start_s + size_bytes * 8 / (spec.rate_kbit * 1000)
            leaves_s = self._link_free_at_s
        delay_s = spec.delay_ms / 1000
        if spec.jitter_ms:
            delay_s = max(0.0, delay_s + self.rng.gauss(0.0, spec.jitter_ms / 1000))
        at_s = leaves_s + delay_s
        if not spec.reorder:
            at_s = max(at_s, self._last_delivery_s)
        self._last_delivery_s = max(self._last_delivery_s, at_s)
        self.counters.packets_out += 1
        self.counters.bytes_out += size_bytes
        return at_s
