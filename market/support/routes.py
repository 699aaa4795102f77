"""HTTP adapter for customer service: users open tickets and write in them; staff work the
queue, reply (as 客服: no admin's identity reaches a user) and close."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from kernel.http.access import ADMINS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from market.support import rules
from market.support.errors import (
    InvalidText,
    InvalidTicket,
    LinkedBookingNotFound,
    LinkedSessionNotFound,
    TicketClosed,
    TicketFull,
    TicketNotFound,
    TooManyOpenTickets,
    TooManyTicketsToday,
)
from market.support.keys import TICKETS
from market.support.tickets import TicketView
from signaling.keys import EMITTER

api = Api()

RequestId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
LinkId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Category = Literal["account", "payment", "session", "booking", "safety", "other"]
assert set(get_args(Category)) == set(rules.CATEGORIES)
Body = Annotated[str, Field(min_length=1, max_length=rules.BODY_MAX_CHARS)]


class TicketIn(Strict):
    category: Category
    subject: Annotated[str, Field(min_length=1, max_length=rules.SUBJECT_MAX_CHARS)]
    body: Body
    #: the session concerned (one of mine, as customer or companion)
    session_id: LinkId | None = None
    #: or the booking concerned (one of mine)
    booking_id: LinkId | None = None
    #: the client's idempotency key: a resend with it returns the same ticket
    request_id: RequestId


class MessageIn(Strict):
    body: Body


class MessageOut(BaseModel):
    seq: int
    #: "user" or "staff"
    author: str
    #: the user's nickname, or 客服 for staff
    author_name: str
    body: str
    at: datetime


class AdminMessageOut(MessageOut):
    #: the user's id, or the id of the admin who wrote it
    author_id: str


class TicketSummaryOut(BaseModel):
    id: str
    category: str
    subject: str
    session_id: str | None
    booking_id: str | None
    #: open (waiting for staff) | answered (waiting for you) | closed
    status: str
    message_count: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    #: "user" or "staff"
    closed_by: str | None


class TicketOut(TicketSummaryOut):
    messages: list[MessageOut]


class TicketsOut(BaseModel):
    tickets: list[TicketSummaryOut]


class AdminTicketSummaryOut(TicketSummaryOut):
    user_id: str
    user_nickname: str
    #: since when the user waits for staff (open tickets)
    waiting_since: datetime | None


class AdminTicketOut(AdminTicketSummaryOut):
    messages: list[AdminMessageOut]


class AdminTicketsOut(BaseModel):
    tickets: list[AdminTicketSummaryOut]


class MineQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class QueueQuery(Strict):
    status: Literal["open", "answered", "closed"] = "open"
    limit: Annotated[int, Field(ge=1, le=100)] = 50


def _summary(t: TicketView) -> dict[str, object]:
    return {
        "id": t.id,
        "category": t.category,
        "subject": t.subject,
        "session_id": t.session_id,
        "booking_id": t.booking_id,
        "status": t.status,
        "message_count": t.message_count,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "closed_at": t.closed_at,
        "closed_by": t.closed_by,
    }


def _author_name(t: TicketView, author: str) -> str:
    return rules.STAFF_NAME if author == "staff" else t.user_nickname


def ticket_out(t: TicketView) -> TicketOut:
    return TicketOut.model_validate(
        {
            **_summary(t),
            "messages": [
                MessageOut(
                    seq=m.seq,
                    author=m.author,
                    author_name=_author_name(t, m.author),
                    body=m.body,
                    at=m.at,
                )
                for m in t.messages
            ],
        }
    )


def _admin_summary(t: TicketView) -> dict[str, object]:
    return {
        **_summary(t),
        "user_id": t.user_id,
        "user_nickname": t.user_nickname,
        "waiting_since": t.waiting_since,
    }


def admin_ticket_out(t: TicketView) -> AdminTicketOut:
    return AdminTicketOut.model_validate(
        {
            **_admin_summary(t),
            "messages": [
                AdminMessageOut(
                    seq=m.seq,
                    author=m.author,
                    author_name=_author_name(t, m.author),
                    author_id=m.author_id,
                    body=m.body,
                    at=m.at,
                )
                for m in t.messages
            ],
        }
    )


def _ticket_id(call: Call) -> str:
    return call.request.match_info["ticket_id"][:40]


@api.route(
    "POST",
    "/api/tickets",
    access=access(USERS),
    summary="Open a customer-service ticket, optionally about one of my sessions or bookings",
    tags=["support"],
    body=TicketIn,
    response=TicketOut,
    status=201,
    errors=[
        TooManyOpenTickets,
        TooManyTicketsToday,
        LinkedSessionNotFound,
        LinkedBookingNotFound,
        InvalidTicket,
        InvalidText,
    ],
)
async def open_ticket(call: Call) -> BaseModel:
    body: TicketIn = call.body
    view = await call.request.app[TICKETS].open(
        call.user.user_id,
        category=body.category,
        subject=body.subject,
        body=body.body,
        request_id=body.request_id,
        session_id=body.session_id,
        booking_id=body.booking_id,
    )
    return ticket_out(view)


@api.route(
    "GET",
    "/api/tickets",
    access=access(USERS),
    summary="My tickets, most recently active first",
    tags=["support"],
    query=MineQuery,
    response=TicketsOut,
)
async def my_tickets(call: Call) -> BaseModel:
    q: MineQuery = call.query
    views = await call.request.app[TICKETS].mine(call.user.user_id, q.limit)
    return TicketsOut(tickets=[TicketSummaryOut.model_validate(_summary(t)) for t in views])


@api.route(
    "GET",
    "/api/tickets/{ticket_id}",
    access=access(USERS, ticket_id=("self", "admin")),
    summary="One of my tickets with its thread (staff shown as 客服); admins: any ticket",
    tags=["support"],
    response=TicketOut,
    errors=[TicketNotFound],
)
async def get_ticket(call: Call) -> BaseModel:
    view = await call.request.app[TICKETS].get(
        _ticket_id(call), call.user.user_id, admin=call.user.role == "admin"
    )
    return ticket_out(view)


@api.route(
    "POST",
    "/api/tickets/{ticket_id}/messages",
    access=access(USERS, ticket_id="self"),
    summary="Write in my ticket (not once closed); it waits for staff again",
    tags=["support"],
    body=MessageIn,
    response=TicketOut,
    errors=[TicketNotFound, TicketClosed, TicketFull, InvalidText],
)
async def write_in_ticket(call: Call) -> BaseModel:
    body: MessageIn = call.body
    view = await call.request.app[TICKETS].write(_ticket_id(call), call.user.user_id, body.body)
    return ticket_out(view)


@api.route(
    "POST",
    "/api/tickets/{ticket_id}/close",
    access=access(USERS, ticket_id="self"),
    summary="Close my ticket",
    tags=["support"],
    response=TicketOut,
    errors=[TicketNotFound],
)
async def close_ticket(call: Call) -> BaseModel:
    view = await call.request.app[TICKETS].close(_ticket_id(call), call.user.user_id)
    return ticket_out(view)


@api.route(
    "GET",
    "/api/admin/tickets",
    access=access(ADMINS),
    summary="Admin: tickets by status (open: the longest waiting first)",
    tags=["admin"],
    query=QueueQuery,
    response=AdminTicketsOut,
)
async def ticket_queue(call: Call) -> BaseModel:
    q: QueueQuery = call.query
    views = await call.request.app[TICKETS].queue(q.status, q.limit)
    return AdminTicketsOut(
        tickets=[AdminTicketSummaryOut.model_validate(_admin_summary(t)) for t in views]
    )


@api.route(
    "GET",
    "/api/admin/tickets/{ticket_id}",
    access=access(ADMINS, ticket_id="admin"),
    summary="Admin: one ticket with its thread and who wrote each message",
    tags=["admin"],
    response=AdminTicketOut,
    errors=[TicketNotFound],
)
async def admin_get_ticket(call: Call) -> BaseModel:
    view = await call.request.app[TICKETS].get(_ticket_id(call), call.user.user_id, admin=True)
    return admin_ticket_out(view)


@api.route(
    "POST",
    "/api/admin/tickets/{ticket_id}/messages",
    access=access(ADMINS, ticket_id="admin"),
    summary="Admin: reply as 客服 (the ticket is answered); audit-logged",
    tags=["admin"],
    body=MessageIn,
    response=AdminTicketOut,
    errors=[TicketNotFound, TicketClosed, TicketFull, InvalidText],
)
async def reply_to_ticket(call: Call) -> BaseModel:
    body: MessageIn = call.body
    view = await call.request.app[TICKETS].reply(_ticket_id(call), call.user.user_id, body.body)
    await _tell(call, view)
    return admin_ticket_out(view)


@api.route(
    "POST",
    "/api/admin/tickets/{ticket_id}/close",
    access=access(ADMINS, ticket_id="admin"),
    summary="Admin: close a ticket; audit-logged",
    tags=["admin"],
    response=AdminTicketOut,
    errors=[TicketNotFound],
)
async def staff_close_ticket(call: Call) -> BaseModel:
    view = await call.request.app[TICKETS].staff_close(_ticket_id(call), call.user.user_id)
    await _tell(call, view)
    return admin_ticket_out(view)


async def _tell(call: Call, view: TicketView) -> None:
    """The user learns that support answered or closed their ticket."""
    await call.request.app[EMITTER].to_user(
        view.user_id,
        "ticket:updated",
        {"ticket_id": view.id, "subject": view.subject, "status": view.status},
    )
