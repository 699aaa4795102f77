"""HTTP adapter for bookings: a companion's weekly availability, the free slots customers book,
booking with a hold, the companion's confirm / decline, cancellations, and both parties' lists.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, create_model

from kernel.cursor import MAX_CURSOR_CHARS, BadCursor
from kernel.http.access import ANYONE, COMPANIONS, CUSTOMERS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import OneOf, Strict
from market.bookings.calendar import SLOT_MIN
from market.bookings.errors import (
    Blocked,
    BookingClosed,
    BookingConfirmed,
    BookingExpired,
    BookingNotFound,
    CannotBookSelf,
    CompanionNotFound,
    CompanionsOnly,
    CustomersOnly,
    InvalidAvailability,
    OverlapsYourBooking,
    SlotUnavailable,
    TooLateToCancel,
    TooManyBookings,
)
from market.bookings.keys import BOOKINGS
from market.bookings.rules import DURATIONS_MIN, FINAL, OPEN, Party, Status
from market.bookings.views import BookingOut
from metering.errors import BudgetExceeded, InsufficientFunds, RatesNotSet
from metering.tariff import Mode

api = Api()

TIMEZONE = "Asia/Shanghai"
_BOOKING_ID = re.compile(r"^bkg_[0-9a-f]{24}$")
UserIdField = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ClientKey = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
HHMM = Annotated[str, Field(min_length=5, max_length=5, pattern=r"^\d\d:\d\d$")]
Reason = Annotated[str, Field(max_length=200)]


def _aware(value: Any) -> Any:
    """An ISO 8601 instant with its offset (``2026-01-05T10:00:00+08:00`` or ``…Z``)."""
    if isinstance(value, str):
        if len(value) > 40:
            raise ValueError("not an ISO 8601 date-time")
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date-time") from None
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("give the time zone offset (e.g. +08:00)")
    return value


AwareInstant = Annotated[datetime, BeforeValidator(_aware)]


# -- availability --------------------------------------------------------------------------------


class RangeIn(Strict):
    #: 0 = Monday … 6 = Sunday
    weekday: Annotated[int, Field(ge=0, le=6)]
    #: "HH:MM" China time, on the hour or the half hour
    start: HHMM
    #: "HH:MM", after ``start``; "24:00" is the end of the day
    end: HHMM


class AvailabilityIn(Strict):
    #: weekly ranges, no two overlapping on one day
    ranges: Annotated[list[RangeIn], Field(max_length=28)]


class RangeOut(BaseModel):
    weekday: int
    start: str
    end: str


class AvailabilityOut(BaseModel):
    timezone: str
    ranges: list[RangeOut]


def _availability_out(ranges: Any) -> AvailabilityOut:
    return AvailabilityOut(
        timezone=TIMEZONE,
        ranges=[RangeOut(weekday=r.weekday, start=r.start, end=r.end) for r in ranges],
    )


@api.route(
    "PUT",
    "/api/me/availability",
    access=access(COMPANIONS, refuse=CompanionsOnly),
    summary="Set my weekly availability (companions): the slots customers can book",
    tags=["bookings"],
    body=AvailabilityIn,
    response=AvailabilityOut,
    errors=[CompanionsOnly, InvalidAvailability],
)
async def set_availability(call: Call) -> BaseModel:
    body: AvailabilityIn = call.body
    ranges = await call.request.app[BOOKINGS].set_availability(
        call.user.user_id, str(call.user.role), [(r.weekday, r.start, r.end) for r in body.ranges]
    )
    return _availability_out(ranges)


@api.route(
    "GET",
    "/api/me/availability",
    access=access(COMPANIONS, refuse=CompanionsOnly),
    summary="My weekly availability (companions)",
    tags=["bookings"],
    response=AvailabilityOut,
    errors=[CompanionsOnly],
)
async def my_availability(call: Call) -> BaseModel:
    if call.user.role != "companion":
        raise CompanionsOnly()
    return _availability_out(await call.request.app[BOOKINGS].availability(call.user.user_id))


# ``from`` is a Python keyword: the model is made with the field named as the API names it.
SlotsQuery: type[Strict] = create_model(
    "SlotsQuery",
    __base__=Strict,
    **{
        "from": (date | None, None),
        "days": (Annotated[int, Field(ge=1, le=14)], 7),
    },  # type: ignore[call-overload]
)


class DayOut(BaseModel):
    #: the local (China) date
    date: date
    #: free slot starts (half-hour cells); a longer booking needs consecutive ones
    slots: list[datetime]


class SlotsOut(BaseModel):
    companion_id: str
    timezone: str
    slot_min: int
    durations_min: list[int]
    days: list[DayOut]


@api.route(
    "GET",
    "/api/companions/{companion_id}/availability",
    access=access(ANYONE, companion_id="public"),
    summary="A companion's free slots, day by day (from=YYYY-MM-DD, days ≤ 14)",
    tags=["bookings"],
    query=SlotsQuery,
    response=SlotsOut,
    errors=[CompanionNotFound],
)
async def companion_slots(call: Call) -> BaseModel:
    companion_id = call.request.match_info["companion_id"][:32]
    viewer = call.principal.user_id if call.principal is not None else None
    days = await call.request.app[BOOKINGS].free_slots(
        companion_id, viewer, getattr(call.query, "from"), call.query.days
    )
    return SlotsOut(
        companion_id=companion_id,
        timezone=TIMEZONE,
        slot_min=SLOT_MIN,
        durations_min=list(DURATIONS_MIN),
        days=[DayOut(date=d, slots=slots) for d, slots in days],
    )


# -- bookings ------------------------------------------------------------------------------------


class BookIn(Strict):
    companion_id: UserIdField
    mode: Literal["text", "voice", "video"]
    #: a free slot start (``GET /api/companions/{id}/availability``), with its offset
    starts_at: AwareInstant
    duration_min: Annotated[int, OneOf(DURATIONS_MIN)]
    #: the client's idempotency key: a resend returns the same booking
    request_id: ClientKey


@api.route(
    "POST",
    "/api/bookings",
    access=access(CUSTOMERS, refuse=CustomersOnly),
    summary="Book a companion's slot (customers): the rate is fixed and a hold is taken",
    tags=["bookings"],
    body=BookIn,
    response=BookingOut,
    status=201,
    errors=[
        CustomersOnly,
        CannotBookSelf,
        CompanionNotFound,
        Blocked,
        RatesNotSet,
        SlotUnavailable,
        OverlapsYourBooking,
        TooManyBookings,
        InsufficientFunds,
        BudgetExceeded,
    ],
)
async def book(call: Call) -> BaseModel:
    body: BookIn = call.body
    return await call.request.app[BOOKINGS].book(
        call.user.user_id,
        str(call.user.role),
        body.companion_id,
        Mode(body.mode),
        body.starts_at,
        body.duration_min,
        body.request_id,
    )


#: ``status`` filters: one status, or a group the studio shows
GROUPS: dict[str, tuple[Status, ...]] = {
    "incoming": (Status.REQUESTED,),
    "upcoming": (Status.CONFIRMED, Status.STARTING, Status.IN_CALL),
    "open": tuple(sorted(OPEN)),
    "history": tuple(sorted(FINAL)),
}
StatusFilter = Literal[
    "incoming",
    "upcoming",
    "open",
    "history",
    "requested",
    "confirmed",
    "starting",
    "in_call",
    "completed",
    "declined",
    "expired",
    "cancelled",
    "no_show_companion",
    "no_show_customer",
    "failed",
]


class ListQuery(Strict):
    #: my bookings as the customer or as the companion (default: by my role)
    role: Literal["customer", "companion"] | None = None
    #: incoming (requested), upcoming (confirmed, starting, in_call), open, history (ended), or
    #: one status; open ones come soonest first, the rest latest first
    status: StatusFilter | None = None
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_CHARS)] | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class BookingsOut(BaseModel):
    bookings: list[BookingOut]
    next_cursor: str | None


@api.route(
    "GET",
    "/api/bookings",
    access=access(USERS),
    summary="My bookings (as customer or companion): incoming, upcoming, history",
    tags=["bookings"],
    query=ListQuery,
    response=BookingsOut,
    errors=[BadCursor],
)
async def my_bookings(call: Call) -> BaseModel:
    q: ListQuery = call.query
    role = Party(q.role or ("companion" if call.user.role == "companion" else "customer"))
    if q.status is None:
        statuses: tuple[Status, ...] = tuple(Status)
    else:
        statuses = GROUPS.get(q.status) or (Status(q.status),)
    newest_first = not (set(statuses) <= OPEN)
    bookings, cursor = await call.request.app[BOOKINGS].mine(
        call.user.user_id,
        role,
        statuses,
        newest_first=newest_first,
        cursor=q.cursor,
        limit=q.limit,
    )
    return BookingsOut(bookings=bookings, next_cursor=cursor)


def _booking_id(call: Call) -> str:
    booking_id = call.request.match_info["booking_id"]
    if not _BOOKING_ID.match(booking_id):
        raise BookingNotFound()
    return booking_id


@api.route(
    "GET",
    "/api/bookings/{booking_id}",
    access=access(USERS, booking_id="participant"),
    summary="One of my bookings (either party)",
    tags=["bookings"],
    response=BookingOut,
    errors=[BookingNotFound],
)
async def get_booking(call: Call) -> BaseModel:
    return await call.request.app[BOOKINGS].get(call.user.user_id, _booking_id(call))


@api.route(
    "POST",
    "/api/bookings/{booking_id}/confirm",
    access=access(USERS, booking_id="companion"),
    summary="Confirm a booking request (the companion), before its confirmation deadline",
    tags=["bookings"],
    response=BookingOut,
    errors=[BookingNotFound, BookingClosed, BookingExpired],
)
async def confirm_booking(call: Call) -> BaseModel:
    return await call.request.app[BOOKINGS].confirm(call.user.user_id, _booking_id(call))


class ReasonIn(Strict):
    reason: Reason = ""


@api.route(
    "POST",
    "/api/bookings/{booking_id}/decline",
    access=access(USERS, booking_id="companion"),
    summary="Decline a booking request (the companion): the hold goes back",
    tags=["bookings"],
    body=ReasonIn,
    response=BookingOut,
    errors=[BookingNotFound, BookingClosed, BookingConfirmed],
)
async def decline_booking(call: Call) -> BaseModel:
    body: ReasonIn = call.body
    return await call.request.app[BOOKINGS].decline(
        call.user.user_id, _booking_id(call), body.reason
    )


@api.route(
    "POST",
    "/api/bookings/{booking_id}/cancel",
    access=access(USERS, booking_id="participant"),
    summary="Cancel a booking before its slot (either party; a late cancellation by the "
    "customer pays a fee)",
    tags=["bookings"],
    body=ReasonIn,
    response=BookingOut,
    errors=[BookingNotFound, BookingClosed, TooLateToCancel],
)
async def cancel_booking(call: Call) -> BaseModel:
    body: ReasonIn = call.body
    return await call.request.app[BOOKINGS].cancel(
        call.user.user_id, _booking_id(call), body.reason
    )
