"""Bookings over time: expiry of unconfirmed bookings, reminders, the call at the slot, the end
of that call, and the settlement of fees.

Every process runs :meth:`BookingScheduler.run_once` every ``booking_sweep_interval_s``; each
booking is acted on by exactly one of them: expiry, the slot and the end of its call take the
booking's row lock and check its status in the same transaction (``confirmed`` → ``starting``
is the claim at the slot), a reminder is a conditional ``UPDATE … WHERE reminded_at IS NULL``.
A process that dies after claiming a slot leaves it ``starting``; after ``STALE_CLAIM_S`` another
takes it over and redoes what is missing: the release is keyed, the call request is keyed by the
booking (``booking:{id}``, a key no client can send), linking checks the status.

At the slot, in order: a customer already in a call with this companion has that call linked;
a companion not online (offline, or busy elsewhere) is a no-show (everything back to the
customer); a customer in another call or with no device connected is a no-show (the no-show fee
to the companion, the rest back); else the hold goes back to the wallet, the call is placed on
the customer's behalf at the booked rate (the companion's devices ring with ``call:incoming``)
and the customer is sent ``booking:due {booking_id, call_id}`` so their client opens the call.
The call's end (``signaling.events.CallEnded``, or this sweep for an end it missed) ends the booking
(``bookings.rules.outcome_of_call``): connected → ``completed``; the companion declined or let
it ring out → their no-show; the customer cancelled the ring → a late cancellation, its fee
taken from the wallet the hold went back to (as much as is there).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy import select, update

from accounts.ids import AuthSessionId, UserId
from accounts.roles import Role
from accounts.service import Principal
from kernel.errors import DomainError
from market.bookings import money
from market.bookings.errors import CustomersOnly
from market.bookings.rules import FINAL, Party, Status, outcome_of_call, share_fen
from market.bookings.service import BookingService
from metering.meters import MeterKind
from metering.tariff import Mode
from signaling.calls import CallService
from signaling.errors import CompanionBusy, CompanionOffline
from signaling.presence import ONLINE
from store.models import Call as CallRow
from store.models import User
from store.models.bookings import Booking

log = structlog.get_logger(__name__)

#: a claim at the slot this old is taken over (its process died mid-way)
STALE_CLAIM_S = 120
#: acting this long after the slot began (every process was down), no call is placed
LATE_START_S = 600
#: bookings of each kind handled per pass
BATCH = 100


def request_key(booking_id: str) -> str:
    """The call request's idempotency key: ``:`` is outside what clients may send."""
    return f"booking:{booking_id}"


@dataclass(frozen=True, slots=True)
class _Slot:
    id: str
    customer_id: str
    companion_id: str
    mode: Mode
    rate_fen_per_min: int
    hold_fen: int
    released: bool


class BookingScheduler:
    def __init__(
        self, bookings: BookingService, calls: CallService, *, interval_s: float = 5.0
    ) -> None:
        self._bookings = bookings
        self._db = bookings.db
        self._clock = bookings.clock
        self._policy = bookings.policy
        self._calls = calls
        self._presence = calls.presence
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    # -- one pass ---------------------------------------------------------------------------------

    async def run_once(self) -> dict[str, int]:
        """Everything due now, once; returns how many bookings each step changed."""
        now = self._clock.now()
        p = self._policy
        counts = {
            "expired": await self._each(
                select(Booking.id).where(
                    Booking.status == Status.REQUESTED,
                    Booking.starts_at <= now + timedelta(seconds=p.confirm_before_s),
                ),
                self.expire,
            ),
            "reminded": await self._each(
                select(Booking.id).where(
                    Booking.status == Status.CONFIRMED,
                    Booking.reminded_at.is_(None),
                    Booking.starts_at <= now + timedelta(seconds=p.reminder_before_s),
                    Booking.starts_at > now,
                ),
                self.remind,
            ),
            "started": 0,
            "ended": await self._each(
                select(Booking.id)
                .join(CallRow, CallRow.id == Booking.call_id)
                .where(Booking.status == Status.IN_CALL, CallRow.status == "ended"),
                self.settle_call,
            ),
            "fees_settled": await self._each(
                select(Booking.id).where(
                    Booking.status.in_([x.value for x in FINAL]),
                    Booking.fee_fen > 0,
                    Booking.fee_settled_at.is_(None),
                    Booking.ended_at <= now - timedelta(seconds=p.earnings_hold_s),
                ),
                self.settle_fee,
            ),
        }
        if not self._calls.draining:  # a draining process places no calls
            stale = now - timedelta(seconds=STALE_CLAIM_S)
            counts["started"] = await self._each(
                select(Booking.id).where(
                    ((Booking.status == Status.CONFIRMED) & (Booking.starts_at <= now))
                    | ((Booking.status == Status.STARTING) & (Booking.claimed_at <= stale))
                ),
                self.start,
            )
        return counts

    async def _each(self, stmt: Any, act: Callable[[str], Awaitable[bool]]) -> int:
        async with self._db.reading() as s:
            ids = (await s.scalars(stmt.order_by(Booking.starts_at).limit(BATCH))).all()
        done = 0
        for booking_id in ids:
            # One booking's failure must not stop the others (nor the next pass).
            try:
                done += bool(await act(booking_id))
            except Exception:
                log.exception("booking_step_failed", booking_id=booking_id, step=act.__name__)
        return done

    # -- steps ------------------------------------------------------------------------------------

    async def expire(self, booking_id: str) -> bool:
        """Not confirmed in time: the hold goes back in full."""
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None or row.status != Status.REQUESTED:
                return False
            if self._clock.now() < self._policy.confirm_by(row.starts_at):
                return False
            await self._bookings.close(s, row, Status.EXPIRED, 0, "unconfirmed")
            out = await self._bookings.out(s, row)
        log.info("booking_expired", booking_id=booking_id)
        await self._bookings.tell(out)
        return True

    async def remind(self, booking_id: str) -> bool:
        """``booking:reminder`` to both parties, once whatever the processes."""
        now = self._clock.now()
        async with self._db.writing() as s:
            claimed = await s.execute(
                update(Booking)
                .where(
                    Booking.id == booking_id,
                    Booking.status == Status.CONFIRMED,
                    Booking.reminded_at.is_(None),
                    Booking.starts_at > now,
                )
                .values(reminded_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            row = await s.get(Booking, booking_id)
            assert row is not None
            out = await self._bookings.out(s, row)
        await self._bookings.tell(out, "booking:reminder")
        return True

    async def start(self, booking_id: str) -> bool:
        """Claim a confirmed booking whose slot has come (or a stale claim) and act on it."""
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None:
                return False
            due = row.status == Status.CONFIRMED and row.starts_at <= now
            stale = row.status == Status.STARTING and (
                row.claimed_at is None or row.claimed_at <= now - timedelta(seconds=STALE_CLAIM_S)
            )
            if not (due or stale):
                return False
            row.status = Status.STARTING.value
            row.claimed_at = row.updated_at = now
            slot = _Slot(
                row.id,
                row.customer_id,
                row.companion_id,
                Mode(row.mode),
                row.rate_fen_per_min,
                row.hold_fen,
                row.released_at is not None,
            )
            starts_at = row.starts_at
        log.info("booking_due", booking_id=booking_id, taken_over=stale)
        try:
            if not slot.released and now - starts_at > timedelta(seconds=LATE_START_S):
                await self._end_held(slot.id, Status.FAILED, "late_start", 0)
            else:
                await self._place(slot)
        except Exception:
            # A transient failure (a deadlock, a lost connection) must not park the booking in
            # ``starting`` until the claim goes stale: hand the claim back so the next pass
            # redoes what is missing (every step is keyed or checks the status).
            await self._unclaim(slot.id, now)
            raise
        return True

    async def _unclaim(self, booking_id: str, claimed_at: Any) -> None:
        with contextlib.suppress(Exception):  # then the stale rule takes it over, as before
            async with self._db.writing() as s:
                await s.execute(
                    update(Booking)
                    .where(
                        Booking.id == booking_id,
                        Booking.status == Status.STARTING,
                        Booking.claimed_at == claimed_at,
                    )
                    .values(claimed_at=claimed_at - timedelta(seconds=STALE_CLAIM_S))
                )

    async def _place(self, b: _Slot) -> None:
        if not b.released:
            current = await self._calls.open_call_of(b.customer_id)
            if current is not None and current["companion"]["id"] == b.companion_id:
                # Already talking with this companion: that call is the slot's.
                if await self._release(b.id):
                    await self._link(b, str(current["call_id"]))
                return
            status = (await self._presence.statuses([b.companion_id]))[b.companion_id]
            if status != ONLINE:
                await self._end_held(b.id, Status.NO_SHOW_COMPANION, status, 0)
                return
            fee_bp = self._policy.no_show_fee_bp
            if current is not None:
                await self._end_held(b.id, Status.NO_SHOW_CUSTOMER, "in_another_call", fee_bp)
                return
            if await self._presence.devices(b.customer_id) == 0:
                await self._end_held(b.id, Status.NO_SHOW_CUSTOMER, "offline", fee_bp)
                return
            if not await self._release(b.id):
                return
        try:
            who = await self._customer(b.customer_id)
            call = await self._calls.request(
                who,
                b.companion_id,
                b.mode,
                request_key(b.id),
                rate_fen_per_min=b.rate_fen_per_min,
                kind=MeterKind.BOOKING,
            )
        except (CompanionOffline, CompanionBusy) as exc:
            await self._end_released(b.id, Status.NO_SHOW_COMPANION, exc.code)
            return
        except DomainError as exc:
            await self._end_released(b.id, Status.FAILED, exc.code)
            return
        await self._link(b, str(call["call_id"]))

    async def _customer(self, user_id: str) -> Principal:
        async with self._db.reading() as s:
            role = await s.scalar(select(User.role).where(User.id == user_id))
        if role != Role.CUSTOMER:
            raise CustomersOnly("the customer's account is no longer a customer's")
        return Principal(UserId(user_id), Role.CUSTOMER, AuthSessionId("booking-scheduler"))

    async def _release(self, booking_id: str) -> bool:
        """The hold back to the wallet, so the call bills from there.  False if the booking
        moved on meanwhile (another process took it over and finished it)."""
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None or row.status != Status.STARTING:
                return False
            if row.released_at is None:
                await money.settle_hold(s, self._bookings.ledger, row, 0, self._clock.now())
                row.released_at = self._clock.now()
        return True

    async def _end_held(self, booking_id: str, status: Status, outcome: str, fee_bp: int) -> None:
        """End at the slot with the hold still held: ``fee_bp`` of it to the companion."""
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None or row.status != Status.STARTING or row.released_at is not None:
                return
            fee = share_fen(row.hold_fen, fee_bp)
            await self._bookings.close(s, row, status, fee, outcome)
            out = await self._bookings.out(s, row)
        log.info("booking_ended", booking_id=booking_id, status=status.value, outcome=outcome)
        await self._bookings.tell(out)

    async def _end_released(self, booking_id: str, status: Status, outcome: str) -> None:
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None or row.status != Status.STARTING:
                return
            self._bookings.finish(row, status, outcome)
            out = await self._bookings.out(s, row)
        log.info("booking_ended", booking_id=booking_id, status=status.value, outcome=outcome)
        await self._bookings.tell(out)

    async def _link(self, b: _Slot, call_id: str) -> None:
        async with self._db.writing() as s:
            row = await s.get(Booking, b.id, with_for_update=True)
            if row is None or row.status != Status.STARTING:
                return
            row.status = Status.IN_CALL.value
            row.call_id = call_id
            row.updated_at = self._clock.now()
            out = await self._bookings.out(s, row)
        log.info("booking_call_placed", booking_id=b.id, call_id=call_id)
        await self._bookings.tell(out)
        try:
            await self._calls.emitter.to_user(
                b.customer_id, "booking:due", {"booking_id": b.id, "call_id": call_id}
            )
        except Exception:
            log.exception("booking_event_failed", booking_id=b.id, event="booking:due")
        await self.settle_call(b.id)  # it may have ended already (declined at once)

    async def settle_call(self, booking_id: str) -> bool:
        """The slot's call has ended: so does the booking (``outcome_of_call``)."""
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None or row.status != Status.IN_CALL or row.call_id is None:
                return False
            call = await s.get(CallRow, row.call_id)
            if call is None or call.status != "ended":
                return False
            status, outcome = outcome_of_call(call.accepted_at is not None, call.end_reason)
            if status is Status.CANCELLED:
                # The customer cancelled the ring at the slot: a late cancellation; the hold
                # went back to the wallet at the slot, so the fee comes from there.
                fee = share_fen(row.hold_fen, self._policy.late_cancel_fee_bp)
                await money.fee_from_wallet(s, self._bookings.ledger, row, fee, self._clock.now())
                self._bookings.finish(row, status, outcome, by=Party.CUSTOMER)
            else:
                self._bookings.finish(row, status, outcome)
            out = await self._bookings.out(s, row)
        log.info("booking_ended", booking_id=booking_id, status=status.value, outcome=outcome)
        await self._bookings.tell(out)
        return True

    async def settle_fee(self, booking_id: str) -> bool:
        async with self._db.writing() as s:
            row = await s.get(Booking, booking_id, with_for_update=True)
            if row is None or row.fee_fen <= 0 or row.fee_settled_at is not None:
                return False
            await money.settle_fee(s, self._bookings.ledger, row, self._clock.now())
        return True

    async def call_ended(self, call_id: str) -> None:
        """``CallEnded``: a booking's call ended (any other call: nothing to do).
        Never raises: the hooks after it must run (the sweep repairs a failure)."""
        try:
            async with self._db.reading() as s:
                booking_id = await s.scalar(
                    select(Booking.id).where(
                        Booking.call_id == call_id, Booking.status == Status.IN_CALL
                    )
                )
            if booking_id is not None:
                await self.settle_call(booking_id)
        except Exception:
            log.exception("booking_call_end_failed", call_id=call_id)

    # -- the app's task ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.run_once()
            except Exception:
                log.exception("booking_sweep_failed")

    async def start_loop(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="booking-sweep")

    async def stop_loop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        """For ``app.cleanup_ctx``: the sweep runs while the app does."""
        await self.start_loop()
        yield
        await self.stop_loop()
