"""Errors of the bookings domain, each with a stable code and HTTP status.

Money refusals reuse metering's (``insufficient_funds``, ``budget_exceeded``,
``rates_not_set``), so a client handles them the same wherever they come from."""

from __future__ import annotations

from kernel.errors import DomainError


class CustomersOnly(DomainError):
    code = "customers_only"
    status = 403
    default_message = "only customers can book a companion"


class CompanionsOnly(DomainError):
    code = "companions_only"
    status = 403
    default_message = "only companions keep a calendar"


class CannotBookSelf(DomainError):
    code = "cannot_book_self"
    status = 400
    default_message = "you cannot book yourself"


class CompanionNotFound(DomainError):
    code = "companion_not_found"
    status = 404
    default_message = "no such companion"


class Blocked(DomainError):
    code = "blocked"
    status = 403
    default_message = "a block stands between you"


class InvalidAvailability(DomainError):
    code = "invalid_availability"
    status = 400
    default_message = "the availability ranges are not valid"


class SlotUnavailable(DomainError):
    """``details.reason``: not_aligned, too_soon, too_far, outside_availability, taken."""

    code = "slot_unavailable"
    status = 409
    default_message = "this slot cannot be booked"


class OverlapsYourBooking(DomainError):
    code = "overlaps_your_booking"
    status = 409
    default_message = "you have another booking at that time"


class TooManyBookings(DomainError):
    code = "too_many_bookings"
    status = 409
    default_message = "you have as many open bookings as allowed"


class BookingNotFound(DomainError):
    code = "booking_not_found"
    status = 404
    default_message = "no such booking"


class BookingClosed(DomainError):
    code = "booking_closed"
    status = 409
    default_message = "this booking is over or its slot has begun"


class BookingConfirmed(DomainError):
    code = "booking_confirmed"
    status = 409
    default_message = "this booking is confirmed: cancel it instead"


class BookingExpired(DomainError):
    code = "booking_expired"
    status = 409
    default_message = "this booking was not confirmed in time and has expired"


class TooLateToCancel(DomainError):
    code = "too_late_to_cancel"
    status = 409
    default_message = "the slot has begun"
