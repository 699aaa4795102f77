"""Every transition of the call lifecycle, its idempotence, the races, and a property over random
event sequences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.lifecycle import (
    Accept,
    Away,
    AwayCheck,
    Back,
    Call,
    CallError,
    Cancel,
    Decline,
    EndBilling,
    EndReason,
    Hangup,
    PauseBilling,
    Policy,
    ReleaseCompanion,
    ResumeBilling,
    RingTimeout,
    Side,
    StartBilling,
    Status,
    StopRinging,
    Terminate,
    next_deadline_ms,
    ringing,
    step,
)

P = Policy(ring_timeout_ms=30_000, away_timeout_ms=120_000)
T0 = 1_000_000


def active(at: int = T0 + 5_000, device: str = "d1") -> Call:
    call, actions = step(ringing(T0, P), Accept(device, at), P)
    assert actions == [StopRinging(), StartBilling()]
    return call


def test_request_rings_until_the_deadline() -> None:
    call = ringing(T0, P)
    assert call.status is Status.RINGING
    assert next_deadline_ms(call, P) == T0 + 30_000


def test_accept_connects_and_stops_every_ringing_device() -> None:
    call = active()
    assert call.status is Status.ACTIVE
    assert call.accepted_device == "d1"
    assert next_deadline_ms(call, P) is None


def test_accept_again_from_the_same_device_is_a_no_op() -> None:
    call = active()
    assert step(call, Accept("d1", T0 + 6_000), P) == (call, [])


def test_second_device_accepting_is_refused() -> None:
    with pytest.raises(CallError) as err:
        step(active(), Accept("d2", T0 + 5_001), P)
    assert err.value.code == "answered_elsewhere"


@pytest.mark.parametrize(
    ("event", "reason", "by"),
    [
        (Decline(T0 + 1), EndReason.DECLINED, "companion"),
        (Cancel(T0 + 1), EndReason.CANCELLED, "customer"),
        (Hangup(Side.CUSTOMER, T0 + 1), EndReason.CANCELLED, "customer"),
        (Hangup(Side.COMPANION, T0 + 1), EndReason.DECLINED, "companion"),
        (RingTimeout(T0 + 30_000), EndReason.TIMED_OUT, "system"),
        (Terminate(EndReason.ADMIN, T0 + 1), EndReason.ADMIN, "system"),
        (Terminate(EndReason.UNFUNDED, T0 + 1), EndReason.UNFUNDED, "system"),
    ],
)
def test_ringing_call_ends_without_connecting(event: object, reason: EndReason, by: str) -> None:
    call, actions = step(ringing(T0, P), event, P)  # type: ignore[arg-type]
    assert call.status is Status.ENDED
    assert (call.end_reason, call.ended_by) == (reason, by)
    assert actions == [StopRinging(), EndBilling(reason), ReleaseCompanion()]
    assert StartBilling() not in actions  # nothing charged: it never connected
    assert step(call, event, P) == (call, [])  # a duplicate is a no-op  # type: ignore[arg-type]


def test_ring_timeout_before_the_deadline_does_nothing() -> None:
    call = ringing(T0, P)
    assert step(call, RingTimeout(T0 + 29_999), P) == (call, [])


def test_accept_after_the_deadline_times_out_instead() -> None:
    call, actions = step(ringing(T0, P), Accept("d1", T0 + 30_000), P)
    assert call.end_reason is EndReason.TIMED_OUT
    assert call.ended_ms == T0 + 30_000
    assert StartBilling() not in actions


@pytest.mark.parametrize("first", ["accept", "cancel"])
def test_accept_vs_cancel_whoever_comes_first_wins(first: str) -> None:
    call = ringing(T0, P)
    if first == "accept":
        call, _ = step(call, Accept("d1", T0 + 10), P)
        with pytest.raises(CallError) as err:
            step(call, Cancel(T0 + 10), P)
        assert err.value.code == "call_active"
        assert call.status is Status.ACTIVE
    else:
        call, _ = step(call, Cancel(T0 + 10), P)
        with pytest.raises(CallError) as err:
            step(call, Accept("d1", T0 + 10), P)
        assert err.value.code == "call_ended"
        assert call.end_reason is EndReason.CANCELLED


def test_ring_timeout_vs_accept() -> None:
    timed_out, _ = step(ringing(T0, P), RingTimeout(T0 + 30_000), P)
    with pytest.raises(CallError):
        step(timed_out, Accept("d1", T0 + 30_001), P)
    accepted = active(T0 + 29_999)
    assert step(accepted, RingTimeout(T0 + 30_000), P) == (accepted, [])


def test_decline_or_cancel_of_an_active_call_is_refused() -> None:
    for event in (Decline(T0 + 9_000), Cancel(T0 + 9_000)):
        with pytest.raises(CallError) as err:
            step(active(), event, P)
        assert err.value.code == "call_active"


def test_a_cancelled_call_cannot_be_declined() -> None:
    call, _ = step(ringing(T0, P), Cancel(T0 + 1), P)
    with pytest.raises(CallError) as err:
        step(call, Decline(T0 + 2), P)
    assert err.value.code == "call_ended"


@pytest.mark.parametrize("side", list(Side))
def test_hangup_by_either_side_settles_once(side: Side) -> None:
    call, actions = step(active(), Hangup(side, T0 + 70_000), P)
    assert (call.status, call.end_reason, call.ended_by) == (Status.ENDED, EndReason.HANGUP, side)
    assert actions == [EndBilling(EndReason.HANGUP), ReleaseCompanion()]
    assert step(call, Hangup(side, T0 + 70_001), P) == (call, [])
    other = Side.CUSTOMER if side is Side.COMPANION else Side.COMPANION
    assert step(call, Hangup(other, T0 + 70_001), P) == (call, [])


def test_terminate_after_end_is_a_no_op() -> None:
    call, _ = step(active(), Hangup(Side.CUSTOMER, T0 + 70_000), P)
    assert step(call, Terminate(EndReason.FUNDS, T0 + 70_001), P) == (call, [])


def test_terminate_refuses_a_participant_reason() -> None:
    with pytest.raises(ValueError):
        step(active(), Terminate(EndReason.HANGUP, T0), P)


def test_away_pauses_billing_and_back_resumes_it() -> None:
    call, actions = step(active(), Away(Side.CUSTOMER, T0 + 10_000), P)
    assert actions == [PauseBilling(T0 + 10_000)]
    assert next_deadline_ms(call, P) == T0 + 130_000
    assert step(call, Away(Side.CUSTOMER, T0 + 11_000), P) == (call, [])  # still away since 10 s
    assert step(call, AwayCheck(T0 + 129_999), P) == (call, [])
    back, actions = step(call, Back(Side.CUSTOMER, T0 + 40_000), P)
    assert actions == [ResumeBilling()]
    assert back.customer_away_ms is None
    assert step(back, Back(Side.CUSTOMER, T0 + 41_000), P) == (back, [])


def test_away_past_the_time_out_ends_the_call_at_the_time_out() -> None:
    call, _ = step(active(), Away(Side.COMPANION, T0 + 10_000), P)
    ended, actions = step(call, AwayCheck(T0 + 130_000), P)
    assert (ended.end_reason, ended.ended_ms) == (EndReason.AWAY, T0 + 130_000)
    assert actions == [EndBilling(EndReason.AWAY), ReleaseCompanion()]


def test_coming_back_after_the_time_out_but_before_the_sweep_still_ends() -> None:
    call, _ = step(active(), Away(Side.CUSTOMER, T0 + 10_000), P)
    ended, _ = step(call, Back(Side.CUSTOMER, T0 + 500_000), P)
    assert (ended.end_reason, ended.ended_ms) == (EndReason.AWAY, T0 + 130_000)


def test_both_sides_away_the_earliest_counts() -> None:
    call, _ = step(active(), Away(Side.CUSTOMER, T0 + 10_000), P)
    call, actions = step(call, Away(Side.COMPANION, T0 + 20_000), P)
    assert actions == []  # already paused
    assert next_deadline_ms(call, P) == T0 + 130_000
    call, actions = step(call, Back(Side.CUSTOMER, T0 + 30_000), P)
    assert actions == []  # the companion is still away
    call, actions = step(call, Back(Side.COMPANION, T0 + 40_000), P)
    assert actions == [ResumeBilling()]


def test_a_side_whose_process_died_is_away_from_its_heartbeat_with_the_short_grace() -> None:
    """Found at 32 s, the process last heartbeat at 20 s: billing pauses as of 20 s and the call
    ends 20 s later unless that side is back through another process."""
    call, actions = step(active(), Away(Side.CUSTOMER, T0 + 20_000, timeout_ms=20_000), P)
    assert actions == [PauseBilling(T0 + 20_000)]
    assert next_deadline_ms(call, P) == T0 + 40_000
    assert step(call, AwayCheck(T0 + 39_999), P) == (call, [])
    ended, actions = step(call, AwayCheck(T0 + 41_000), P)
    assert (ended.end_reason, ended.ended_ms) == (EndReason.AWAY, T0 + 40_000)
    assert actions == [EndBilling(EndReason.AWAY), ReleaseCompanion()]
    # Back in time: billing resumes, and a later absence has the policy's time-out again.
    back, actions = step(call, Back(Side.CUSTOMER, T0 + 35_000), P)
    assert actions == [ResumeBilling()] and back.customer_away_timeout_ms is None
    again, _ = step(back, Away(Side.CUSTOMER, T0 + 50_000), P)
    assert next_deadline_ms(again, P) == T0 + 170_000
    # The other side's ordinary absence keeps its own, longer, time-out.
    both, _ = step(call, Away(Side.COMPANION, T0 + 21_000), P)
    assert next_deadline_ms(both, P) == T0 + 40_000
    assert both.away_deadline(Side.COMPANION, P) == T0 + 141_000


def test_an_absence_from_before_the_accept_starts_with_the_call() -> None:
    """A process's last heartbeat can precede an accept made through another process."""
    call, actions = step(active(T0 + 5_000), Away(Side.COMPANION, T0 + 1_000, 20_000), P)
    assert actions == [PauseBilling(T0 + 5_000)]
    assert call.companion_away_ms == T0 + 5_000
    gone, _ = step(ringing(T0, P), Away(Side.CUSTOMER, T0 - 9_000, 20_000), P)
    assert gone.customer_away_ms == T0


def test_a_customer_gone_while_it_rings_is_not_billed_on_accept() -> None:
    call, actions = step(ringing(T0, P), Away(Side.CUSTOMER, T0 + 1_000), P)
    assert actions == [] and call.customer_away_ms == T0 + 1_000
    active_call, actions = step(call, Accept("d1", T0 + 5_000), P)
    assert actions == [StopRinging(), StartBilling(paused=True)]
    assert active_call.customer_away_ms == T0 + 5_000  # the away time-out counts from accept
    assert next_deadline_ms(active_call, P) == T0 + 125_000
    back, actions = step(call, Back(Side.CUSTOMER, T0 + 2_000), P)
    assert actions == [] and back.customer_away_ms is None
    assert step(back, Accept("d1", T0 + 5_000), P)[1] == [StopRinging(), StartBilling()]


def test_companion_away_while_ringing_is_ignored() -> None:
    call = ringing(T0, P)
    assert step(call, Away(Side.COMPANION, T0 + 1), P) == (call, [])


def test_json_round_trip() -> None:
    call, _ = step(active(), Hangup(Side.COMPANION, T0 + 70_000), P)
    assert Call.from_json(call.to_json()) == call


events = st.one_of(
    st.builds(Accept, st.sampled_from(["d1", "d2"]), st.integers(0, 300_000)),
    st.builds(Decline, st.integers(0, 300_000)),
    st.builds(Cancel, st.integers(0, 300_000)),
    st.builds(RingTimeout, st.integers(0, 300_000)),
    st.builds(Hangup, st.sampled_from(list(Side)), st.integers(0, 300_000)),
    st.builds(
        Away,
        st.sampled_from(list(Side)),
        st.integers(0, 300_000),
        st.one_of(st.none(), st.integers(1, 60_000)),
    ),
    st.builds(Back, st.sampled_from(list(Side)), st.integers(0, 300_000)),
    st.builds(AwayCheck, st.integers(0, 300_000)),
    st.builds(
        Terminate,
        st.sampled_from([EndReason.FUNDS, EndReason.ADMIN, EndReason.MODERATION, EndReason.DRAIN]),
        st.integers(0, 300_000),
    ),
)


@settings(max_examples=300)
@given(st.lists(events, max_size=25))
def test_any_sequence_keeps_the_invariants(seq: list[object]) -> None:
    """Ended is final; billing starts at most once, ends exactly once per ended call, and pauses
    and resumes alternate per side; the companion is released exactly when the call ends."""
    call = ringing(0, P)
    started = ended = released = 0
    paused = False
    for event in seq:
        before = call
        try:
            call, actions = step(call, event, P)  # type: ignore[arg-type]
        except CallError:
            assert call is before
            continue
        if before.status is Status.ENDED:
            assert (call, actions) == (before, [])
        for a in actions:
            if isinstance(a, StartBilling):
                started += 1
                assert not paused
                paused = a.paused
            elif isinstance(a, EndBilling):
                ended += 1
                assert a.reason is call.end_reason
            elif isinstance(a, ReleaseCompanion):
                released += 1
            elif isinstance(a, PauseBilling):
                assert not paused
                paused = True
            elif isinstance(a, ResumeBilling):
                assert paused
                paused = False
        assert started <= 1
        if call.status is Status.ACTIVE:
            away = call.customer_away_ms is not None or call.companion_away_ms is not None
            assert paused == away
        assert ended == released == (1 if call.status is Status.ENDED else 0)
        assert Call.from_json(call.to_json()) == call
