"""What both parties see of a booking (HTTP responses and Socket.IO payloads alike)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from market.bookings.rules import Policy
from store.models.bookings import Booking


class PartyOut(BaseModel):
    id: str
    nickname: str


class BookingOut(BaseModel):
    id: str
    customer: PartyOut
    companion: PartyOut
    mode: str
    starts_at: datetime
    ends_at: datetime
    duration_min: int
    #: fixed when booked: the slot's call bills this
    rate_fen_per_min: int
    #: taken from the customer's wallet when booked
    hold_fen: int
    #: requested | confirmed | starting | in_call | completed | declined | expired | cancelled
    #: | no_show_companion | no_show_customer | failed
    status: str
    #: an unconfirmed booking expires at this instant
    confirm_by: datetime
    #: the customer cancels a confirmed booking free until this instant
    free_cancel_until: datetime
    #: customer | companion | system (a block); for ``cancelled``
    cancelled_by: str | None
    #: the reason given with a decline or a cancellation
    reason: str
    #: why it ended so: free, late, unconfirmed, companion, at_slot, unavailable, offline, busy,
    #: declined, timed_out, late_start, … (empty while open)
    outcome: str
    #: paid from the hold to the companion (before commission)
    fee_fen: int
    #: returned to the customer's wallet
    released_fen: int
    #: the call placed at the slot (also its metered session's id)
    call_id: str | None
    created_at: datetime


def booking_out(row: Booking, names: dict[str, str], policy: Policy) -> BookingOut:
    return BookingOut(
        id=row.id,
        customer=PartyOut(id=row.customer_id, nickname=names.get(row.customer_id, "")),
        companion=PartyOut(id=row.companion_id, nickname=names.get(row.companion_id, "")),
        mode=row.mode,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        duration_min=row.duration_min,
        rate_fen_per_min=row.rate_fen_per_min,
        hold_fen=row.hold_fen,
        status=row.status,
        confirm_by=policy.confirm_by(row.starts_at),
        free_cancel_until=policy.free_cancel_until(row.starts_at),
        cancelled_by=row.cancelled_by,
        reason=row.reason,
        outcome=row.outcome,
        fee_fen=row.fee_fen,
        released_fen=row.released_fen,
        call_id=row.call_id,
        created_at=row.created_at,
    )
