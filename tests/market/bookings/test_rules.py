"""The pure rules: weekly ranges, slots and booking checks in China time, and who pays what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.bookings.calendar import (
    CHINA,
    WeeklyRange,
    covers,
    day_slots,
    refusal,
    weekly_ranges,
)
from market.bookings.errors import BookingClosed, InvalidAvailability, TooLateToCancel
from market.bookings.rules import Party, Policy, Status, cancel_terms, outcome_of_call, share_fen

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # Thursday 08:00 in China
P = Policy()


def test_ranges_are_sorted_and_checked() -> None:
    got = weekly_ranges([(6, "22:00", "24:00"), (0, "09:00", "10:30"), (0, "08:00", "09:00")])
    assert got == [WeeklyRange(0, 480, 540), WeeklyRange(0, 540, 630), WeeklyRange(6, 1320, 1440)]
    assert (got[2].start, got[2].end) == ("22:00", "24:00")
    for bad in (
        [(0, "09:00", "09:00")],
        [(0, "09:10", "10:00")],
        [(0, "25:00", "26:00")],
        [(0, "9:00", "10:00")],
        [(7, "09:00", "10:00")],
        [(0, "09:00", "11:00"), (0, "10:00", "12:00")],
        [(d % 7, "00:00", "00:30") for d in range(29)],
    ):
        with pytest.raises(InvalidAvailability):
            weekly_ranges(bad)


def test_a_booking_may_run_across_midnight_into_the_next_days_range() -> None:
    ranges = weekly_ranges([(3, "23:00", "24:00"), (4, "00:00", "01:00")])
    start = datetime(2026, 1, 1, 23, 0, tzinfo=CHINA)  # Thursday
    latest = NOW + timedelta(days=14)
    assert refusal(ranges, start, 120, [], NOW, latest) is None
    assert refusal(ranges, start, 120 + 30, [], NOW, latest) is not None
    assert refusal(ranges[:1], start, 90, [], NOW, latest) == "outside_availability"
    assert covers(ranges, start.astimezone(UTC))  # UTC instants work the same


def test_refusals_name_the_rule() -> None:
    ranges = weekly_ranges([(d, "00:00", "24:00") for d in range(7)])
    earliest, latest = P.earliest(NOW), P.latest(NOW)
    at = NOW + timedelta(hours=2)
    assert refusal(ranges, at, 60, [], earliest, latest) is None
    assert refusal(ranges, at + timedelta(minutes=1), 60, [], earliest, latest) == "not_aligned"
    assert refusal(ranges, NOW + timedelta(minutes=30), 60, [], earliest, latest) == "too_soon"
    assert refusal(ranges, latest + timedelta(minutes=30), 30, [], earliest, latest) == "too_far"
    busy = [(at + timedelta(minutes=30), at + timedelta(minutes=60))]
    assert refusal(ranges, at, 60, busy, earliest, latest) == "taken"
    assert refusal(ranges, at, 30, busy, earliest, latest) is None  # touching is free


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 48)), max_size=10),
    busy_cells=st.sets(st.integers(0, 48 * 3), max_size=20),
    lead_cells=st.integers(0, 48),
)
def test_slots_are_inside_ranges_free_and_within_the_window(
    raw: list[tuple[int, int, int]], busy_cells: set[int], lead_cells: int
) -> None:
    ranges = sorted({WeeklyRange(d, a * 30, min(48, a + n) * 30) for d, a, n in raw if a + n <= 48})
    first = date(2026, 1, 1)
    base = datetime(2026, 1, 1, tzinfo=CHINA)
    busy = [
        (base + timedelta(minutes=30 * c), base + timedelta(minutes=30 * (c + 1)))
        for c in busy_cells
    ]
    earliest = base + timedelta(minutes=30 * lead_cells)
    latest = base + timedelta(days=2)
    for n in range(3):
        day = first + timedelta(days=n)
        for at in day_slots(ranges, day, busy, earliest, latest):
            assert at.astimezone(CHINA).date() == day
            assert earliest <= at <= latest
            assert covers(ranges, at)
            assert (at, at + timedelta(minutes=30)) not in busy
            # Every slot offered can be booked for 30 minutes.
            assert refusal(ranges, at, 30, busy, earliest, latest) is None


def test_cancel_terms() -> None:
    starts = NOW + timedelta(hours=5)
    hold = 3001

    def terms(status: Status, by: Party, hours_before: float) -> tuple[int, str]:
        t = cancel_terms(status, by, starts, starts - timedelta(hours=hours_before), hold, P)
        return t.fee_fen, t.outcome

    assert terms(Status.CONFIRMED, Party.CUSTOMER, 2.01) == (0, "free")
    assert terms(Status.CONFIRMED, Party.CUSTOMER, 2) == (1500, "late")  # floor, for the customer
    assert terms(Status.REQUESTED, Party.CUSTOMER, 0.5) == (0, "unconfirmed")
    assert terms(Status.CONFIRMED, Party.COMPANION, 0.01) == (0, "companion")
    with pytest.raises(TooLateToCancel):
        terms(Status.CONFIRMED, Party.CUSTOMER, 0)
    with pytest.raises(TooLateToCancel):
        terms(Status.IN_CALL, Party.COMPANION, 1)
    with pytest.raises(BookingClosed):
        terms(Status.DECLINED, Party.CUSTOMER, 3)


def test_money_shares_and_call_outcomes() -> None:
    assert P.hold_fen(300, 60) == 3000 and P.hold_fen(300, 30) == 3000
    assert Policy(hold_minutes=60).hold_fen(300, 30) == 9000
    assert share_fen(3000, 10_000) == 3000 and share_fen(3001, 5000) == 1500
    assert share_fen(3000, 0) == 0
    assert outcome_of_call(True, "hangup") == (Status.COMPLETED, "hangup")
    assert outcome_of_call(False, "timed_out") == (Status.NO_SHOW_COMPANION, "timed_out")
    assert outcome_of_call(False, "declined") == (Status.NO_SHOW_COMPANION, "declined")
    assert outcome_of_call(False, "cancelled") == (Status.CANCELLED, "at_slot")
    assert outcome_of_call(False, "moderation") == (Status.FAILED, "moderation")
