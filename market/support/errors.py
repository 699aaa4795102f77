"""Errors of the support domain, each with a stable code and HTTP status."""

from __future__ import annotations

from kernel.errors import DomainError


class TicketNotFound(DomainError):
    code = "ticket_not_found"
    status = 404
    default_message = "no such ticket"


class TooManyOpenTickets(DomainError):
    code = "too_many_open_tickets"
    status = 409
    default_message = "you have several tickets open; close one or wait for an answer"


class TooManyTicketsToday(DomainError):
    code = "too_many_tickets_today"
    status = 429
    default_message = "you opened many tickets today; write in one of them instead"


class TicketClosed(DomainError):
    code = "ticket_closed"
    status = 409
    default_message = "this ticket is closed; open a new one"


class TicketFull(DomainError):
    code = "ticket_full"
    status = 409
    default_message = "this ticket holds as many messages as it can; open a new one"


class LinkedSessionNotFound(DomainError):
    code = "session_not_found"
    status = 404
    default_message = "no such session of yours"


class LinkedBookingNotFound(DomainError):
    code = "booking_not_found"
    status = 404
    default_message = "no such booking of yours"


class InvalidTicket(DomainError):
    code = "invalid_ticket"
    status = 400
    default_message = "the ticket is about one session or one booking, not both"


class InvalidText(DomainError):
    code = "invalid_text"
    status = 400
    default_message = "the text is empty or too long once trimmed"
