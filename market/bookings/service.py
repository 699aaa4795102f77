"""Bookings: a companion's calendar, booking a slot with a hold, confirm, decline, cancel, and
the lists a customer and a companion's studio show.

Every change is one transaction under the booking's row lock (``SELECT … FOR UPDATE``; SQLite
has one writer), with its money (``bookings.money``) in the same transaction; both parties are
told (``booking:updated``) after the commit.  Booking locks the customer's user row, then the
companion's calendar row, so neither two bookings of one slot nor two of one customer can both
pass their checks.  Someone else's booking is ``booking_not_found``: its existence does not leak.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.cursor import CursorCodec
from market.bookings import calendar, money
from market.bookings.calendar import CHINA, WeeklyRange
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
    OverlapsYourBooking,
    SlotUnavailable,
    TooManyBookings,
)
from market.bookings.rules import OPEN, PENDING, Party, Policy, Status, cancel_terms
from market.bookings.views import BookingOut, booking_out
from metering.errors import RatesNotSet
from metering.ledger import Ledger
from metering.tariff import Level, Mode, Rates, commission_bp
from moderation.blocks import blocked_between
from store import Database
from store.models import CompanionRate, User
from store.models.bookings import Booking, BookingCalendar

log = structlog.get_logger(__name__)

MAX_PAGE = 50
_BOOKING_ID_CHARS = 24


class Emitter(Protocol):
    """Where events to clients go (``signaling.server.SocketEmitter``)."""

    async def to_user(self, user_id: str, event: str, data: dict[str, Any]) -> None: ...


def new_booking_id() -> str:
    return "bkg_" + secrets.token_hex(_BOOKING_ID_CHARS // 2)


class BookingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ledger: Ledger,
        policy: Policy,
        emitter: Emitter,
        cursors: CursorCodec,
    ) -> None:
        self.db = db
        self._cursors = cursors
        self.clock = clock
        self.ledger = ledger
        self.policy = policy
        self._emit = emitter

    # -- the calendar ---------------------------------------------------------------------------

    async def set_availability(
        self, user_id: str, role: str, items: Iterable[tuple[int, str, str]]
    ) -> list[WeeklyRange]:
        """Replace the companion's weekly ranges.  Existing bookings stay as they are."""
        if role != "companion":
            raise CompanionsOnly()
        ranges = calendar.weekly_ranges(items)
        now = self.clock.now()
        async with self.db.writing() as s:
            row = await s.get(BookingCalendar, user_id, with_for_update=True)
            if row is None:
                row = BookingCalendar(companion_id=user_id, ranges=[], updated_at=now)
                s.add(row)
            row.ranges = [r.to_json() for r in ranges]
            row.updated_at = now
        return ranges

    async def availability(self, companion_id: str) -> list[WeeklyRange]:
        async with self.db.reading() as s:
            return await self._ranges(s, companion_id)

    @staticmethod
    async def _ranges(s: AsyncSession, companion_id: str) -> list[WeeklyRange]:
        raw = await s.scalar(
            select(BookingCalendar.ranges).where(BookingCalendar.companion_id == companion_id)
        )
        return [WeeklyRange.from_json(r) for r in raw or []]

    async def free_slots(
        self, companion_id: str, viewer: str | None, first_day: date | None, days: int
    ) -> list[tuple[date, list[datetime]]]:
        """Each local day from ``first_day`` (today in China by default) with its free slot
        starts: inside the ranges, not taken by an open booking, at least the lead time and at
        most the horizon ahead.  Hidden (``companion_not_found``) across a block."""
        now = self.clock.now()
        first = first_day or now.astimezone(CHINA).date()
        window = (
            calendar.local_start(first, 0),
            calendar.local_start(first + timedelta(days=days), 0),
        )
        async with self.db.reading() as s:
            await self._companion(s, companion_id, viewer)
            ranges = await self._ranges(s, companion_id)
            busy = await self._busy(s, Booking.companion_id == companion_id, window)
        earliest, latest = self.policy.earliest(now), self.policy.latest(now)
        return [
            (day, calendar.day_slots(ranges, day, busy, earliest, latest))
            for day in (first + timedelta(days=n) for n in range(days))
        ]

    @staticmethod
    async def _companion(s: AsyncSession, companion_id: str, viewer: str | None) -> User:
        companion = await s.get(User, companion_id)
        if companion is None or companion.role != "companion":
            raise CompanionNotFound()
        if (
            viewer is not None
            and viewer != companion_id
            and await s.scalar(select(blocked_between(viewer, companion_id)))
        ):
            raise CompanionNotFound()
        return companion

    @staticmethod
    async def _busy(
        s: AsyncSession, whose: Any, window: tuple[datetime, datetime]
    ) -> list[calendar.Interval]:
        rows = (
            await s.execute(
                select(Booking.starts_at, Booking.ends_at).where(
                    whose,
                    Booking.status.in_([x.value for x in OPEN]),
                    Booking.starts_at < window[1],
                    Booking.ends_at > window[0],
                )
            )
        ).all()
        return [(r[0], r[1]) for r in rows]

    # -- booking --------------------------------------------------------------------------------

    async def book(
        self,
        customer_id: str,
        role: str,
        companion_id: str,
        mode: Mode,
        starts_at: datetime,
        duration_min: int,
        request_id: str,
    ) -> BookingOut:
        """Book a slot: the rate is fixed now and the hold leaves the wallet, or nothing is
        written.  A resend with the same ``request_id`` returns the same booking."""
        if role != "customer":
            raise CustomersOnly()
        if companion_id == customer_id:
            raise CannotBookSelf()
        now = self.clock.now()
        try:
            async with self.db.writing() as s:
                # The customer's row: one booking of theirs at a time (limits, overlaps).
                await s.get(User, customer_id, with_for_update=True)
                existing = await self._by_request(s, customer_id, request_id)
                if existing is not None:
                    return await self.out(s, existing)
                row = await self._new(
                    s, customer_id, companion_id, mode, starts_at, duration_min, request_id
                )
                s.add(row)
                await s.flush()
                await money.take_hold(s, self.ledger, row, now)
                out = await self.out(s, row)
        except IntegrityError:
            async with self.db.reading() as s:
                again = await self._by_request(s, customer_id, request_id)
                if again is None:
                    raise
                return await self.out(s, again)
        log.info(
            "booking_requested",
            booking_id=out.id,
            user_id=customer_id,
            hold_fen=out.hold_fen,
            rate_fen_per_min=out.rate_fen_per_min,
        )
        await self.tell(out)
        return out

    async def _new(
        self,
        s: AsyncSession,
        customer_id: str,
        companion_id: str,
        mode: Mode,
        starts_at: datetime,
        duration_min: int,
        request_id: str,
    ) -> Booking:
        now = self.clock.now()
        await self._companion(s, companion_id, None)
        if await s.scalar(select(blocked_between(customer_id, companion_id))):
            raise Blocked()
        rates = await s.get(CompanionRate, companion_id)
        if rates is None:
            raise RatesNotSet()
        rate = Rates(
            rates.text_fen_per_min, rates.voice_fen_per_min, rates.video_fen_per_min
        ).for_mode(mode)
        # The companion's calendar row: one booking of theirs at a time (no double booking).
        cal = await s.get(BookingCalendar, companion_id, with_for_update=True)
        ranges = [WeeklyRange.from_json(r) for r in cal.ranges] if cal is not None else []
        wanted = (starts_at, starts_at + timedelta(minutes=duration_min))
        why = calendar.refusal(
            ranges,
            starts_at,
            duration_min,
            await self._busy(s, Booking.companion_id == companion_id, wanted),
            self.policy.earliest(now),
            self.policy.latest(now),
        )
        if why is not None:
            raise SlotUnavailable(f"this slot cannot be booked ({why})", reason=why)
        if await self._busy(s, Booking.customer_id == customer_id, wanted):
            raise OverlapsYourBooking()
        pending = await s.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.customer_id == customer_id,
                Booking.status.in_([x.value for x in PENDING]),
            )
        )
        if (pending or 0) >= self.policy.max_open:
            raise TooManyBookings(
                f"at most {self.policy.max_open} open bookings", limit=self.policy.max_open
            )
        return Booking(
            id=new_booking_id(),
            request_id=request_id,
            customer_id=customer_id,
            companion_id=companion_id,
            mode=mode.value,
            starts_at=wanted[0],
            ends_at=wanted[1],
            duration_min=duration_min,
            rate_fen_per_min=rate,
            commission_bp=commission_bp(Level(rates.level)),
            hold_fen=self.policy.hold_fen(rate, duration_min),
            status=Status.REQUESTED.value,
            created_at=now,
            updated_at=now,
            reason="",
            outcome="",
            fee_fen=0,
            released_fen=0,
        )

    @staticmethod
    async def _by_request(s: AsyncSession, customer_id: str, request_id: str) -> Booking | None:
        row: Booking | None = await s.scalar(
            select(Booking).where(
                Booking.customer_id == customer_id, Booking.request_id == request_id
            )
        )
        return row

    # -- the companion's answer, cancellations ---------------------------------------------------

    async def confirm(self, user_id: str, booking_id: str) -> BookingOut:
        """The companion confirms a requested booking before its confirmation deadline; later,
        it expires now (the hold goes back) and ``booking_expired`` is the answer."""
        now = self.clock.now()
        expired = False
        async with self.db.writing() as s:
            row = await self.locked(s, booking_id, companion_id=user_id)
            if row.status == Status.CONFIRMED:
                return await self.out(s, row)
            if row.status != Status.REQUESTED:
                raise BookingClosed()
            if now >= self.policy.confirm_by(row.starts_at):
                await self.close(s, row, Status.EXPIRED, 0, "unconfirmed")
                expired = True
            else:
                row.status = Status.CONFIRMED.value
                row.confirmed_at = row.updated_at = now
            out = await self.out(s, row)
        await self.tell(out)
        if expired:
            raise BookingExpired()
        return out

    async def decline(self, user_id: str, booking_id: str, reason: str) -> BookingOut:
        async with self.db.writing() as s:
            row = await self.locked(s, booking_id, companion_id=user_id)
            if row.status == Status.DECLINED:
                return await self.out(s, row)
            if row.status == Status.CONFIRMED:
                raise BookingConfirmed()
            if row.status != Status.REQUESTED:
                raise BookingClosed()
            await self.close(s, row, Status.DECLINED, 0, "declined", reason=reason)
            out = await self.out(s, row)
        await self.tell(out)
        return out

    async def cancel(self, user_id: str, booking_id: str, reason: str) -> BookingOut:
        """Either party cancels before the slot (``bookings.rules.cancel_terms``)."""
        now = self.clock.now()
        async with self.db.writing() as s:
            row = await self.locked(s, booking_id, party_id=user_id)
            if row.status == Status.CANCELLED:
                return await self.out(s, row)
            by = Party.CUSTOMER if user_id == row.customer_id else Party.COMPANION
            terms = cancel_terms(
                Status(row.status), by, row.starts_at, now, row.hold_fen, self.policy
            )
            await self.close(
                s, row, Status.CANCELLED, terms.fee_fen, terms.outcome, by=by, reason=reason
            )
            out = await self.out(s, row)
        log.info("booking_cancelled", booking_id=booking_id, by=by.value, fee_fen=terms.fee_fen)
        await self.tell(out)
        return out

    async def cancel_between(self, a: str, b: str) -> None:
        """A block between two users cancels their bookings not yet at the slot, free.  The
        outcome says ``unavailable``, not why: the blocked side is not told of the block."""
        async with self.db.reading() as s:
            ids = (
                await s.scalars(
                    select(Booking.id).where(
                        or_(
                            and_(Booking.customer_id == a, Booking.companion_id == b),
                            and_(Booking.customer_id == b, Booking.companion_id == a),
                        ),
                        Booking.status.in_([x.value for x in PENDING]),
                    )
                )
            ).all()
        for booking_id in ids:
            async with self.db.writing() as s:
                row = await s.get(Booking, booking_id, with_for_update=True)
                if row is None or row.status not in PENDING:
                    continue
                await self.close(s, row, Status.CANCELLED, 0, "unavailable", by=Party.SYSTEM)
                out = await self.out(s, row)
            await self.tell(out)

    async def close(
        self,
        s: AsyncSession,
        row: Booking,
        status: Status,
        fee_fen: int,
        outcome: str,
        *,
        by: Party | None = None,
        reason: str = "",
    ) -> None:
        """End a booking whose hold is still held: the fee to the companion, the rest back."""
        now = self.clock.now()
        await money.settle_hold(s, self.ledger, row, fee_fen, now)
        self.finish(row, status, outcome, by=by, reason=reason)

    def finish(
        self,
        row: Booking,
        status: Status,
        outcome: str,
        *,
        by: Party | None = None,
        reason: str = "",
    ) -> None:
        now = self.clock.now()
        row.status = status.value
        row.outcome = outcome[:32]
        row.cancelled_by = by.value if by is not None else None
        row.reason = reason.strip()[:200]
        row.ended_at = row.updated_at = now

    async def locked(
        self,
        s: AsyncSession,
        booking_id: str,
        *,
        companion_id: str | None = None,
        party_id: str | None = None,
    ) -> Booking:
        """The booking, row-locked, if the caller is its companion (or, with ``party_id``,
        either party); else :class:`BookingNotFound`."""
        row = await s.get(Booking, booking_id, with_for_update=True)
        if row is None:
            raise BookingNotFound()
        if companion_id is not None and row.companion_id != companion_id:
            raise BookingNotFound()
        if party_id is not None and party_id not in (row.customer_id, row.companion_id):
            raise BookingNotFound()
        return row

    # -- reading --------------------------------------------------------------------------------

    async def get(self, user_id: str, booking_id: str) -> BookingOut:
        async with self.db.reading() as s:
            row = await s.get(Booking, booking_id)
            if row is None or user_id not in (row.customer_id, row.companion_id):
                raise BookingNotFound()
            return await self.out(s, row)

    async def mine(
        self,
        user_id: str,
        role: Party,
        statuses: Sequence[Status],
        *,
        newest_first: bool,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[BookingOut], str | None]:
        """The caller's bookings as customer or companion with one of ``statuses``, by slot
        time (soonest first, or with ``newest_first`` latest first), in keyset pages."""
        column = Booking.customer_id if role is Party.CUSTOMER else Booking.companion_id
        stmt = select(Booking).where(
            column == user_id, Booking.status.in_([x.value for x in statuses])
        )
        # the list a cursor belongs to: whose, and which way it runs
        kind = f"bookings.{role.value}.{'desc' if newest_first else 'asc'}"
        if cursor is not None:
            at, after_id = self._cursors.decode_keyset(kind, cursor)
            if newest_first:
                stmt = stmt.where(
                    or_(
                        Booking.starts_at < at, and_(Booking.starts_at == at, Booking.id < after_id)
                    )
                )
            else:
                stmt = stmt.where(
                    or_(
                        Booking.starts_at > at, and_(Booking.starts_at == at, Booking.id > after_id)
                    )
                )
        order = (
            (Booking.starts_at.desc(), Booking.id.desc())
            if newest_first
            else (Booking.starts_at, Booking.id)
        )
        limit = max(1, min(limit, MAX_PAGE))
        async with self.db.reading() as s:
            rows = list((await s.scalars(stmt.order_by(*order).limit(limit + 1))).all())
            more = len(rows) > limit
            rows = rows[:limit]
            names = await self._names(s, {u for r in rows for u in (r.customer_id, r.companion_id)})
        out = [booking_out(r, names, self.policy) for r in rows]
        last = rows[-1] if more and rows else None
        next_cursor = self._cursors.encode_keyset(kind, last.starts_at, last.id) if last else None
        return out, next_cursor

    # -- views and events -----------------------------------------------------------------------

    async def out(self, s: AsyncSession, row: Booking) -> BookingOut:
        names = await self._names(s, {row.customer_id, row.companion_id})
        return booking_out(row, names, self.policy)

    @staticmethod
    async def _names(s: AsyncSession, ids: set[str]) -> dict[str, str]:
        if not ids:
            return {}
        rows = (await s.execute(select(User.id, User.nickname).where(User.id.in_(ids)))).all()
        return {str(r[0]): str(r[1]) for r in rows}

    async def tell(self, out: BookingOut, event: str = "booking:updated") -> None:
        """Both parties' devices (after the commit; a lost event is repaired by the lists)."""
        payload = out.model_dump(mode="json")
        for user_id in (out.customer.id, out.companion.id):
            try:
                await self._emit.to_user(user_id, event, payload)
            except Exception:
                log.exception("booking_event_failed", booking_id=out.id, event=event)
