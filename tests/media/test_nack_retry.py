"""``media.nack.RetryingNacks``, the relay receiver's NACK policy, on a fake clock: a new gap is
asked for at once, a packet still missing is asked for again once per round trip (the leg's,
when measured), until it comes, ten asks, or a second; numbering wraps; a jump is a new
numbering, not a loss."""

from __future__ import annotations

from types import SimpleNamespace

from media.nack import GIVE_UP_S, MAX_TRIES, RetryingNacks


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def nacks(rtt: float | None = None) -> tuple[RetryingNacks, Clock]:
    clock = Clock()
    return RetryingNacks(rtt=lambda: rtt, now=clock), clock


def test_a_new_gap_is_asked_for_at_once_and_again_each_round_trip_until_it_comes() -> None:
    n, clock = nacks(rtt=0.05)  # retry every 1.2 × 50 ms + 10 ms = 70 ms
    assert n.update(10) == []
    assert n.update(13) == [11, 12]
    clock.t += 0.03
    assert n.update(14) == []  # a round trip has not passed
    clock.t += 0.05
    assert n.update(15) == [11, 12]
    assert n.update(11) == []  # 11 came
    assert n.missing == {12}
    assert n.recovering(12) and not n.recovering(11)
    clock.t += 0.08
    assert n.update(16) == [12]
    assert n.asked == 5


def test_without_a_measured_round_trip_it_waits_100_ms_and_more() -> None:
    n, clock = nacks(rtt=None)
    n.update(1)
    assert n.update(3) == [2]
    clock.t += 0.1
    assert n.update(4) == []
    clock.t += 0.05
    assert n.update(5) == [2]


def test_a_packet_is_given_up_after_ten_asks_or_a_second() -> None:
    n, clock = nacks(rtt=0.01)
    n.update(1)
    n.update(3)
    seq, asks = 4, 1
    while n.recovering(2):
        clock.t += 0.05
        if 2 in n.update(seq):
            asks += 1
        seq += 1
    assert asks == MAX_TRIES
    clock.t += 0.05
    n.update(seq)
    assert n.missing == set() and n.given_up == 1

    slow, clock = nacks(rtt=0.4)
    slow.update(1)
    slow.update(3)
    clock.t += GIVE_UP_S + 0.01
    assert not slow.recovering(2)
    assert slow.update(4) == [] and slow.missing == set()


def test_numbering_wraps_and_a_jump_is_not_a_loss() -> None:
    n, _ = nacks(rtt=0.05)
    n.update(65534)
    assert n.update(1) == [65535, 0]
    assert n.update(0) == [] and n.missing == {65535}
    assert n.update(1000) == []  # renumbered: nothing before it is coming
    assert n.missing == set()
    assert n.update(999) == []  # late, from before: nothing to ask


def test_it_stands_in_for_aiortcs_generator_on_aiortcs_own_path() -> None:
    n, _ = nacks()
    assert n.add(SimpleNamespace(sequence_number=7)) is False
    assert n.add(SimpleNamespace(sequence_number=9)) is True
    assert sorted(n.missing) == [8]
