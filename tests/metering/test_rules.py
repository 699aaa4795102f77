"""Pure metering rules: the exact split, rates and bounds, the rounding rule, the billing clock."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metering import billing_clock as bc
from metering.commission import allocate, split
from metering.tariff import (
    Level,
    Mode,
    RateError,
    Rates,
    billed_minutes,
    bounds_for,
    validate_rates,
)


def test_split_is_exact_for_every_charge_up_to_a_million_fen_at_every_rate() -> None:
    charges = np.arange(1, 1_000_001, dtype=np.int64)
    for bp in range(2000, 3001, 100):  # every whole-percent rate 20 % … 30 %
        platform = charges * bp // 10_000
        companion = charges - platform
        assert np.all(platform + companion == charges)
        assert np.all((platform >= 0) & (companion >= 0))
        # floor: the platform never gets more than its rate, and less by under one fen
        assert np.all(platform * 10_000 <= charges * bp)
        assert np.all((platform + 1) * 10_000 > charges * bp)
        # and the Python implementation agrees with the vectorised one
        for c in (1, 7, 999, 123_457, 1_000_000):
            assert split(c, bp).platform_fen == int(platform[c - 1])


@given(st.integers(0, 10**9), st.integers(2000, 3000))
def test_split_parts_add_up(charge: int, bp: int) -> None:
    s = split(charge, bp)
    assert s.platform_fen + s.companion_fen == charge and s.platform_fen <= s.companion_fen * 3


def test_split_refuses_rates_outside_20_to_30_percent() -> None:
    for bp in (1999, 3001):
        with pytest.raises(ValueError):
            split(100, bp)


@given(st.integers(0, 10**7), st.integers(1, 500))
def test_allocation_shares_sum_to_the_total(total: int, parts: int) -> None:
    assert sum(allocate(total, parts, i) for i in range(1, parts + 1)) == total


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (119, 2), (120, 2), (121, 3)],
)
def test_billed_minutes_table(seconds: int, minutes: int) -> None:
    assert billed_minutes(seconds * 1000) == minutes


def test_rate_bounds_and_order() -> None:
    assert validate_rates(Rates(50, 100, 200), Level.NEWCOMER, False)
    with pytest.raises(RateError, match="text"):
        validate_rates(Rates(49, 100, 200), Level.NEWCOMER, False)
    with pytest.raises(RateError, match="text"):
        validate_rates(Rates(201, 300, 400), Level.NEWCOMER, False)
    with pytest.raises(RateError) as order:
        validate_rates(Rates(150, 100, 200), Level.NEWCOMER, False)
    assert order.value.code == "rate_order"
    with pytest.raises(RateError):
        validate_rates(Rates(100, 200, 150), Level.NEWCOMER, False)
    # Levels and specialist categories raise the upper bounds.
    assert (
        bounds_for(Mode.VOICE, Level.GOLD, True).max_fen
        > bounds_for(Mode.VOICE, Level.NEWCOMER, False).max_fen
    )
    assert validate_rates(Rates(400, 1000, 2000), Level.SENIOR, True)


# -- the billing clock, driven by a simulated shell -----------------------------------------------


def drive(
    events: list[bc.Event],
    funds_minutes: int,
    meter: bc.Meter | None = None,
) -> tuple[bc.Meter, list[bc.Action]]:
    """Run events through the machine like the shell does: reservations spend ``funds``."""
    m = meter or bc.Meter(now_ms=0)
    done: list[bc.Action] = []
    funds = funds_minutes
    queue = list(events)
    while queue:
        ev = queue.pop(0)
        try:
            m, actions = bc.step(m, ev)
        except bc.MeterError as exc:  # the shell answers session_ended and writes nothing
            assert exc.code == "session_ended"
            continue
        done += actions
        for a in actions:
            if isinstance(a, bc.ReserveMinute):
                ok = funds > 0
                funds -= ok
                queue.insert(
                    0,
                    bc.ReserveSucceeded(a.minute, ev.at_ms)
                    if ok
                    else bc.ReserveFailed(a.minute, ev.at_ms),
                )
    return m, done


def captured(actions: list[bc.Action]) -> list[int]:
    return [a.minute for a in actions if isinstance(a, bc.CaptureMinute)]


def test_minutes_are_captured_as_they_begin_and_released_when_unserved() -> None:
    _m, acts = drive(
        [bc.MediaUp(0), bc.Tick(1), bc.Tick(60_000), bc.Tick(60_001), bc.Ended(90_000, "hangup")],
        funds_minutes=10,
    )
    assert captured(acts) == [1, 2]
    assert [a.minute for a in acts if isinstance(a, bc.ReleaseMinute)] == [3]
    assert acts[-1] == bc.CloseSession(90_000, "hangup", 2)


def test_late_disconnect_refunds_an_overcaptured_minute() -> None:
    _m, acts = drive(
        [bc.MediaUp(0), bc.Tick(61_000), bc.MediaDown(59_000), bc.Ended(61_000, "hangup")],
        funds_minutes=10,
    )
    assert captured(acts) == [1, 2]
    assert [a.minute for a in acts if isinstance(a, bc.RefundMinute)] == [2]
    assert acts[-1].billed_minutes == 1  # type: ignore[union-attr]


def test_a_dead_process_s_disconnect_lands_at_its_heartbeat_but_not_before_a_later_mark() -> None:
    """A side's process died at its last heartbeat (50 s); it was found at 62 s, after minute 2
    was captured: the minute is refunded.  A mark seen after the heartbeat (back at 55 s, as
    the dying process reported) is not undone by the late disconnect."""
    late = bc.MediaDown(50_000, not_before_marks=True)
    _m, acts = drive(
        [bc.MediaUp(0), bc.Tick(60_001), late, bc.Ended(62_000, "away")], funds_minutes=10
    )
    assert [a.minute for a in acts if isinstance(a, bc.RefundMinute)] == [2]
    assert acts[-1] == bc.CloseSession(62_000, "away", 1)
    m, _ = drive([bc.MediaUp(0), bc.MediaDown(40_000), bc.MediaUp(55_000), late], funds_minutes=10)
    assert m.media[-1] == (55_001, False)  # just after the last mark, not before it
    assert bc.connected_ms(m, 70_000) == 40_001


def test_pause_happens_at_the_exact_boundary_and_resume_continues() -> None:
    m, acts = drive([bc.MediaUp(0), bc.Tick(65_000)], funds_minutes=0)
    assert any(isinstance(a, bc.PauseSession) and a.at_ms == 60_000 for a in acts)
    assert m.status is bc.Status.PAUSED
    m, acts = drive(
        [bc.FundsAdded(80_000), bc.Tick(110_000), bc.Ended(110_000, "x")], funds_minutes=5, meter=m
    )
    assert any(isinstance(a, bc.ResumeSession) for a in acts)
    # 60 s before the pause + 30 s after resuming at 80 s = 90 s → 2 minutes
    assert acts[-1].billed_minutes == 2  # type: ignore[union-attr]


def test_a_minute_begun_before_its_tick_is_still_billed_at_the_end() -> None:
    """Regression (Hypothesis): hang-up 1 ms into minute 2, before minute 2's tick."""
    _m, acts = drive([bc.MediaUp(0), bc.Ended(60_001, "x")], funds_minutes=5)
    assert captured(acts) == [1, 2]
    assert acts[-1] == bc.CloseSession(60_001, "x", 2)
    _m, acts = drive([bc.MediaUp(0), bc.Ended(60_001, "x")], funds_minutes=0)
    assert acts[-1] == bc.CloseSession(60_001, "x", 1)  # no money for it: capped at the hold


def test_events_after_the_end_are_refused() -> None:
    m, _ = drive([bc.MediaUp(0), bc.Ended(10, "x")], funds_minutes=1)
    with pytest.raises(bc.MeterError) as err:
        bc.step(m, bc.Tick(20))
    assert err.value.code == "session_ended"
    assert bc.step(m, bc.Ended(30, "again")) == (m, [])


def test_meter_survives_json() -> None:
    m, _ = drive([bc.MediaUp(0), bc.Tick(61_000), bc.MediaDown(70_000)], funds_minutes=3)
    assert bc.Meter.from_json(m.to_json()) == m


kinds = st.sampled_from(["up", "down", "tick", "funds"])
event_lists = st.lists(st.tuples(kinds, st.integers(0, 600_000)), max_size=40)


def build(raw: list[tuple[str, int]]) -> list[bc.Event]:
    make = {"up": bc.MediaUp, "down": bc.MediaDown, "tick": bc.Tick, "funds": bc.FundsAdded}
    return [make[k](t) for k, t in raw]


@settings(max_examples=400, deadline=None)
@given(event_lists, st.integers(0, 12), st.integers(0, 700_000))
def test_final_bill_is_the_rounded_connected_time_within_what_was_reserved(
    raw: list[tuple[str, int]], funds: int, end_at: int
) -> None:
    events = build(raw)
    m, acts = drive([*events, bc.Ended(end_at, "x")], funds_minutes=funds)
    closes = [a for a in acts if isinstance(a, bc.CloseSession)]
    assert len(closes) == 1  # the session closes exactly once, by hang-up or by running dry
    close = closes[0]
    n_captured = len(captured(acts))
    n_refunded = sum(isinstance(a, bc.RefundMinute) for a in acts)
    # each minute captured at most once; refunds only of captured minutes
    assert len(set(captured(acts))) == n_captured and n_refunded <= n_captured
    assert close.billed_minutes == n_captured - n_refunded
    # never more than was reserved (1 before the start + what funds allowed)
    assert close.billed_minutes <= 1 + funds
    # without funds trouble the bill is exactly ceil(connected / 60 s)
    if funds >= 12:
        assert close.billed_minutes == billed_minutes(bc.connected_ms(m, end_at))
    # the same events in another order give the same bill when nothing was refused
    if funds >= 12:
        _m2, acts2 = drive([*reversed(events), bc.Ended(end_at, "x")], funds_minutes=funds)
        close2 = next(a for a in acts2 if isinstance(a, bc.CloseSession))
        assert close2.billed_minutes == close.billed_minutes
    # every reserved minute ends up captured, released or refunded: nothing left pending
    released = {a.minute for a in acts if isinstance(a, bc.ReleaseMinute)}
    assert set(captured(acts)) | released == set(range(1, m.reserved + 1))
