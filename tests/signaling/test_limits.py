from __future__ import annotations

import pytest

from signaling.limits import RateLimiter


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_burst_then_refill() -> None:
    clock = Clock()
    lim = RateLimiter(3, 1.0, now=clock)
    assert [lim.allow("u") for _ in range(4)] == [True, True, True, False]
    clock.t = 0.5
    assert not lim.allow("u")
    clock.t = 1.6
    assert lim.allow("u")
    assert not lim.allow("u")
    assert lim.allow("other")  # keys are independent


def test_refill_never_exceeds_capacity() -> None:
    clock = Clock()
    lim = RateLimiter(2, 10.0, now=clock)
    clock.t = 1000
    assert [lim.allow("u") for _ in range(3)] == [True, True, False]


def test_bounded_keys() -> None:
    lim = RateLimiter(1, 0.001, max_keys=2, now=Clock())
    assert lim.allow("a") and lim.allow("b") and lim.allow("c")
    assert len(lim._buckets) == 2
    assert lim.allow("a")  # forgotten, so it starts full again


def test_bad_configuration() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
