"""Tickets: the shell around ``support.rules``.  A user opens a ticket (optionally about one of
their sessions or bookings) and writes in its thread; staff read the queue, reply and close.
Every staff reply and close is in the audit log, in the same transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.log import AuditLog
from kernel.clock import Clock
from kernel.errors import DomainError
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
from store import Database
from store.models import MeteredSession, User
from store.models.bookings import Booking
from store.models.support import Ticket, TicketMessage

log = structlog.get_logger(__name__)

MAX_PAGE = 100

_RULE_ERRORS: dict[str, type[DomainError]] = {
    "ticket_closed": TicketClosed,
    "ticket_full": TicketFull,
}


@dataclass(frozen=True, slots=True)
class MessageView:
    seq: int
    #: "user" or "staff"
    author: str
    #: the author's user id; for staff, the admin's id (admins only ever see it)
    author_id: str
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketView:
    id: str
    user_id: str
    user_nickname: str
    category: str
    subject: str
    session_id: str | None
    booking_id: str | None
    status: str
    message_count: int
    waiting_since: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    #: "user", "staff", or null while not closed (which admin: in the audit log)
    closed_by: str | None
    messages: tuple[MessageView, ...] = ()


class TicketService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        policy: rules.Policy,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._policy = policy

    # -- the user -------------------------------------------------------------------------------

    async def open(
        self,
        user_id: str,
        *,
        category: str,
        subject: str,
        body: str,
        request_id: str,
        session_id: str | None = None,
        booking_id: str | None = None,
    ) -> TicketView:
        """Open a ticket with its first message.  A resend with the same ``request_id``
        returns the first ticket."""
        if category not in rules.CATEGORIES:
            raise InvalidTicket(f"the category is one of {', '.join(rules.CATEGORIES)}")
        if session_id is not None and booking_id is not None:
            raise InvalidTicket()
        clean_subject = _clean(subject, rules.SUBJECT_MAX_CHARS, "subject")
        clean_body = _clean(body, rules.BODY_MAX_CHARS, "message")
        now = self._clock.now()
        try:
            async with self._db.writing() as s:
                # One user's tickets are counted and created one at a time.
                await s.execute(select(User.id).where(User.id == user_id).with_for_update())
                existing = await s.scalar(
                    select(Ticket).where(
                        Ticket.user_id == user_id, Ticket.request_key == request_id
                    )
                )
                if existing is not None:
                    return await self._view(s, existing, thread=True)
                if session_id is not None:
                    session = await s.get(MeteredSession, session_id)
                    if session is None or user_id not in (
                        session.customer_id,
                        session.companion_id,
                    ):
                        raise LinkedSessionNotFound()
                if booking_id is not None:
                    booking = await s.get(Booking, booking_id)
                    if booking is None or user_id not in (
                        booking.customer_id,
                        booking.companion_id,
                    ):
                        raise LinkedBookingNotFound()
                open_count = await s.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.user_id == user_id, Ticket.status != "closed")
                )
                if (open_count or 0) >= self._policy.max_open:
                    raise TooManyOpenTickets(max_open=self._policy.max_open)
                today = await s.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.user_id == user_id, Ticket.created_at > now - timedelta(days=1))
                )
                if (today or 0) >= self._policy.max_per_day:
                    raise TooManyTicketsToday(max_per_day=self._policy.max_per_day)
                row = Ticket(
                    id="tkt_" + secrets.token_hex(12),
                    user_id=user_id,
                    request_key=request_id,
                    category=category,
                    subject=clean_subject,
                    session_id=session_id,
                    booking_id=booking_id,
                    status="open",
                    message_count=1,
                    waiting_since=now,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.add(
                    TicketMessage(
                        ticket_id=row.id,
                        seq=1,
                        author_id=user_id,
                        staff=False,
                        body=clean_body,
                        created_at=now,
                    )
                )
                await s.flush()
                view = await self._view(s, row, thread=True)
        except IntegrityError:
            # The same request raced itself: the first one's ticket is the answer.
            async with self._db.reading() as s:
                existing = await s.scalar(
                    select(Ticket).where(
                        Ticket.user_id == user_id, Ticket.request_key == request_id
                    )
                )
                if existing is None:
                    raise
                return await self._view(s, existing, thread=True)
        log.info("ticket_opened", ticket_id=view.id, user_id=user_id, category=category)
        return view

    async def write(self, ticket_id: str, user_id: str, body: str) -> TicketView:
        """The user's message in their ticket's thread (not closed; within the cap)."""
        clean = _clean(body, rules.BODY_MAX_CHARS, "message")
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Ticket, ticket_id, with_for_update=True)
            if row is None or row.user_id != user_id:
                raise TicketNotFound()
            state = _apply(
                lambda st: rules.after_user_message(st, row.message_count, now, self._policy),
                row,
            )
            self._add_message(s, row, user_id, staff=False, body=clean, now=now)
            row.status, row.waiting_since = state.status, state.waiting_since
            return await self._view(s, row, thread=True)

    async def close(self, ticket_id: str, user_id: str) -> TicketView:
        """The user closes their ticket (closing a closed one changes nothing)."""
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Ticket, ticket_id, with_for_update=True)
            if row is None or row.user_id != user_id:
                raise TicketNotFound()
            if row.status != "closed":
                self._close(row, "user", now)
            return await self._view(s, row, thread=True)

    async def mine(self, user_id: str, limit: int = MAX_PAGE) -> list[TicketView]:
        """My tickets, most recently active first (without their threads)."""
        async with self._db.reading() as s:
            rows = (
                await s.scalars(
                    select(Ticket)
                    .where(Ticket.user_id == user_id)
                    .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                    .limit(min(limit, MAX_PAGE))
                )
            ).all()
            return await self._views(s, rows)

    async def get(self, ticket_id: str, user_id: str, *, admin: bool) -> TicketView:
        """A ticket with its thread: its user's, or any for an admin; 404 otherwise."""
        async with self._db.reading() as s:
            row = await s.get(Ticket, ticket_id)
            if row is None or not (admin or row.user_id == user_id):
                raise TicketNotFound()
            return await self._view(s, row, thread=True)

    # -- staff ----------------------------------------------------------------------------------

    async def queue(self, status: str, limit: int = MAX_PAGE) -> list[TicketView]:
        """Admin: tickets by status.  ``open``: the longest waiting first; ``answered``: the
        longest untouched first; ``closed``: the most recently closed first."""
        stmt = select(Ticket).where(Ticket.status == status)
        if status == "open":
            stmt = stmt.order_by(Ticket.waiting_since, Ticket.id)
        elif status == "answered":
            stmt = stmt.order_by(Ticket.updated_at, Ticket.id)
        else:
            stmt = stmt.order_by(Ticket.closed_at.desc(), Ticket.id)
        async with self._db.reading() as s:
            rows = (await s.scalars(stmt.limit(min(limit, MAX_PAGE)))).all()
            return await self._views(s, rows)

    async def reply(self, ticket_id: str, admin_id: str, body: str) -> TicketView:
        """A staff reply: the ticket is answered (it waits for the user).  Audit-logged."""
        clean = _clean(body, rules.BODY_MAX_CHARS, "message")
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Ticket, ticket_id, with_for_update=True)
            if row is None:
                raise TicketNotFound()
            state = _apply(
                lambda st: rules.after_staff_reply(st, row.message_count, self._policy), row
            )
            seq = self._add_message(s, row, admin_id, staff=True, body=clean, now=now)
            row.status, row.waiting_since = state.status, state.waiting_since
            await self._audit.record(
                key=f"ticket.reply:{row.id}:{seq}",
                admin_id=admin_id,
                action="ticket.reply",
                subject_type="ticket",
                subject_id=row.id,
                detail={"seq": seq},
                s=s,
            )
            return await self._view(s, row, thread=True)

    async def staff_close(self, ticket_id: str, admin_id: str) -> TicketView:
        """Staff close a ticket.  Audit-logged (once: closing a closed ticket changes nothing)."""
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Ticket, ticket_id, with_for_update=True)
            if row is None:
                raise TicketNotFound()
            if row.status != "closed":
                self._close(row, "staff", now)
                await self._audit.record(
                    key=f"ticket.close:{row.id}",
                    admin_id=admin_id,
                    action="ticket.close",
                    subject_type="ticket",
                    subject_id=row.id,
                    detail={"user_id": row.user_id},
                    s=s,
                )
            return await self._view(s, row, thread=True)

    # -- internals ------------------------------------------------------------------------------

    @staticmethod
    def _add_message(
        s: AsyncSession, row: Ticket, author_id: str, *, staff: bool, body: str, now: datetime
    ) -> int:
        row.message_count += 1
        row.updated_at = now
        s.add(
            TicketMessage(
                ticket_id=row.id,
                seq=row.message_count,
                author_id=author_id,
                staff=staff,
                body=body,
                created_at=now,
            )
        )
        return row.message_count

    @staticmethod
    def _close(row: Ticket, by: str, now: datetime) -> None:
        state = rules.after_close(rules.State(row.status, row.waiting_since))
        row.status, row.waiting_since = state.status, state.waiting_since
        row.closed_at, row.closed_by, row.updated_at = now, by, now

    async def _view(self, s: AsyncSession, row: Ticket, *, thread: bool) -> TicketView:
        return (await self._views(s, [row], thread=thread))[0]

    async def _views(
        self, s: AsyncSession, rows: Sequence[Ticket], *, thread: bool = False
    ) -> list[TicketView]:
        if not rows:
            return []
        await s.flush()
        nicknames = {
            str(uid): str(nick)
            for uid, nick in await s.execute(
                select(User.id, User.nickname).where(User.id.in_({r.user_id for r in rows}))
            )
        }
        out = []
        for r in rows:
            messages: tuple[MessageView, ...] = ()
            if thread:
                found = await s.scalars(
                    select(TicketMessage)
                    .where(TicketMessage.ticket_id == r.id)
                    .order_by(TicketMessage.seq)
                    .limit(self._policy.max_messages)
                )
                messages = tuple(
                    MessageView(
                        m.seq, "staff" if m.staff else "user", m.author_id, m.body, m.created_at
                    )
                    for m in found
                )
            out.append(
                TicketView(
                    id=r.id,
                    user_id=r.user_id,
                    user_nickname=nicknames.get(r.user_id, ""),
                    category=r.category,
                    subject=r.subject,
                    session_id=r.session_id,
                    booking_id=r.booking_id,
                    status=r.status,
                    message_count=r.message_count,
                    waiting_since=r.waiting_since,
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                    closed_at=r.closed_at,
                    closed_by=None if r.closed_by is None else r.closed_by,
                    messages=messages,
                )
            )
        return out


def _clean(raw: str, max_chars: int, what: str) -> str:
    clean = rules.clean_text(raw, 1, max_chars)
    if clean is None:
        raise InvalidText(f"the {what} is 1-{max_chars} characters once trimmed")
    return clean


def _apply(step: Callable[[rules.State], rules.State], row: Ticket) -> rules.State:
    try:
        return step(rules.State(row.status, row.waiting_since))
    except rules.TicketRuleError as exc:
        raise _RULE_ERRORS[exc.code]() from None
