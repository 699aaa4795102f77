"""The rules of a booking (pure): its states, the hold, the deadlines and who pays what.

::

    requested ──confirm──▶ confirmed ──slot──▶ starting ──call placed──▶ in_call ──▶ completed
      │  decline ─▶ declined     │ cancel ─▶ cancelled       │                 │
      │  cancel ─▶ cancelled     │                           ├─▶ no_show_companion (offline,
      └─ not confirmed by ───▶ expired                       │    busy, declined, timed out)
         starts_at − confirm_before                          ├─▶ no_show_customer (no device)
                                                             └─▶ failed (the call could not be
                                                                  placed: money back in full)

Money: the hold (rate × min(duration, hold minutes)) leaves the wallet when booked.  Declined,
expired, cancelled free or by the companion, a companion no-show: all of it goes back.  A late
cancellation by the customer (confirmed, less than ``free_cancel_before_s`` before the slot)
pays ``late_cancel_fee_bp`` of the hold to the companion; a customer with no device at the slot
pays ``no_show_fee_bp`` of it; the rest goes back.  At the slot with both present the hold goes
back to the wallet and the call bills from there, at the booked rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kernel.settings import Settings
from market.bookings.errors import BookingClosed, TooLateToCancel

BP_PER_UNIT = 10_000
DURATIONS_MIN = (30, 60, 90, 120)


class Status(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    STARTING = "starting"  # a process is acting at the slot
    IN_CALL = "in_call"  # the slot's call is placed (ringing or active)
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    NO_SHOW_COMPANION = "no_show_companion"
    NO_SHOW_CUSTOMER = "no_show_customer"
    FAILED = "failed"


#: before the slot: may be cancelled; counted against the customer's open bookings
PENDING = frozenset({Status.REQUESTED, Status.CONFIRMED})
#: the companion's time is taken
OPEN = frozenset({Status.REQUESTED, Status.CONFIRMED, Status.STARTING, Status.IN_CALL})
FINAL = frozenset(set(Status) - OPEN)


class Party(StrEnum):
    CUSTOMER = "customer"
    COMPANION = "companion"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Policy:
    min_lead_s: int = 3600
    horizon_days: int = 14
    hold_minutes: int = 10
    confirm_before_s: int = 900
    free_cancel_before_s: int = 7200
    late_cancel_fee_bp: int = 5000
    reminder_before_s: int = 900
    no_show_fee_bp: int = 10_000
    max_open: int = 5
    #: companion earnings from fees stay pending this long, as session earnings do
    earnings_hold_s: int = 72 * 3600

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        return cls(
            min_lead_s=s.booking_min_lead_s,
            horizon_days=s.booking_horizon_days,
            hold_minutes=s.booking_hold_minutes,
            confirm_before_s=s.booking_confirm_before_s,
            free_cancel_before_s=s.booking_free_cancel_before_s,
            late_cancel_fee_bp=s.booking_late_cancel_fee_bp,
            reminder_before_s=s.booking_reminder_before_s,
            no_show_fee_bp=s.booking_no_show_fee_bp,
            max_open=s.booking_max_open,
            earnings_hold_s=s.earnings_hold_s,
        )

    def earliest(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.min_lead_s)

    def latest(self, now: datetime) -> datetime:
        return now + timedelta(days=self.horizon_days)

    def confirm_by(self, starts_at: datetime) -> datetime:
        """An unconfirmed booking expires at this instant."""
        return starts_at - timedelta(seconds=self.confirm_before_s)

    def free_cancel_until(self, starts_at: datetime) -> datetime:
        return starts_at - timedelta(seconds=self.free_cancel_before_s)

    def remind_at(self, starts_at: datetime) -> datetime:
        return starts_at - timedelta(seconds=self.reminder_before_s)

    def hold_fen(self, rate_fen_per_min: int, duration_min: int) -> int:
        return rate_fen_per_min * min(duration_min, self.hold_minutes)


def share_fen(amount_fen: int, bp: int) -> int:
    """``bp`` basis points of ``amount_fen``, rounded down (in the customer's favour)."""
    return amount_fen * bp // BP_PER_UNIT


@dataclass(frozen=True, slots=True)
class CancelTerms:
    fee_fen: int
    #: free | late | unconfirmed | companion
    outcome: str


def cancel_terms(
    status: Status, by: Party, starts_at: datetime, now: datetime, hold_fen: int, policy: Policy
) -> CancelTerms:
    """What cancelling costs, or a refusal (:class:`TooLateToCancel`, :class:`BookingClosed`).

    The companion cancels free (the customer gets everything back) until the slot; so does the
    customer while the companion has not confirmed, and until ``free_cancel_before_s`` before
    the slot; later the customer pays ``late_cancel_fee_bp`` of the hold."""
    if status not in PENDING:
        if status in OPEN:
            raise TooLateToCancel()
        raise BookingClosed()
    if now >= starts_at:
        raise TooLateToCancel()
    if by is Party.COMPANION:
        return CancelTerms(0, "companion")
    if status is Status.REQUESTED:
        return CancelTerms(0, "unconfirmed")
    if now < policy.free_cancel_until(starts_at):
        return CancelTerms(0, "free")
    return CancelTerms(share_fen(hold_fen, policy.late_cancel_fee_bp), "late")


def outcome_of_call(accepted: bool, end_reason: str | None) -> tuple[Status, str]:
    """How a booking ends with its slot's call: connected → completed; the companion declined
    or let it ring out → their no-show; the customer cancelled the ring → a cancellation at the
    slot (a late one); anything else (a block, a server drain) → failed."""
    reason = end_reason or ""
    if accepted:
        return Status.COMPLETED, reason
    if reason in ("declined", "timed_out"):
        return Status.NO_SHOW_COMPANION, reason
    if reason == "cancelled":
        return Status.CANCELLED, "at_slot"
    return Status.FAILED, reason
