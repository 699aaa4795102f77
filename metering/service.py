"""Metering use cases: the shell around the billing clock and the ledger.

Each operation is one database transaction (``Database.writing()``): it locks the session row,
runs the pure billing clock, performs the money actions it asks for and saves the new state.
A crash before commit leaves nothing; a retry after commit finds every transfer already posted
(their ids are idempotency keys) and the state already advanced.

The charge path: :meth:`MeteringService.apply` → ``billing_clock.step`` → ``holds`` →
``commission.split`` → ``ledger.post``.  What happens after a session (refunds, settling
earnings) posts through ``settlement``; the figures of the live view are read by ``figures``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from metering import accounts, billing_clock, figures, holds, meters, settlement
from metering.billing_clock import Meter, MeterError, Policy
from metering.errors import (
    BudgetExceeded,
    InsufficientFunds,
    InvalidAmount,
    InvalidRates,
    RatesNotSet,
    SessionEnded,
    SessionExists,
    SessionNotFound,
)
from metering.ledger import Ledger, balances
from metering.meters import MeterKind
from metering.tariff import Level, Mode, RateError, Rates, commission_bp, validate_rates
from store import Database
from store.db import is_transient, upsert
from store.models import CompanionRate, CustomerSetting, MeteredSession

log = structlog.get_logger(__name__)
#: how many times an open that lost a PostgreSQL deadlock is run (idempotent on its id)
_OPEN_ATTEMPTS = 3

LOW_BALANCE_MINUTES = 3
MAX_AMOUNT_FEN = 10_000_000  # 100,000 CNY: no single movement is larger


@dataclass(frozen=True, slots=True)
class MeteringPolicy:
    resume_grace_s: int = 60
    earnings_hold_s: int = 72 * 3600
    heartbeat_timeout_s: int = 120


@dataclass(frozen=True, slots=True)
class SessionView:
    """What a customer sees live: spend so far, the rate, the balance, the minutes left."""

    session_id: str
    status: str
    mode: str
    rate_fen_per_min: int
    billed_minutes: int
    charged_fen: int
    refunded_fen: int
    balance_fen: int
    package_minutes: int
    minutes_left: int
    low_balance: bool
    end_reason: str | None
    #: the companion's share of the session so far (after commission and refunds): the
    #: companion's live earnings; never shown to the customer
    earned_fen: int = 0
    #: money (wallet and promo credit) held for minutes not served yet: out of ``balance_fen``
    #: until the minute is captured (spent) or released (back in the balance)
    held_fen: int = 0

    def for_customer(self) -> dict[str, Any]:
        """The live spend a customer's devices are sent (a call's or a voice-room seat's)."""
        return {
            "status": self.status,
            "rate_fen_per_min": self.rate_fen_per_min,
            "billed_minutes": self.billed_minutes,
            "charged_fen": self.charged_fen,
            "balance_fen": self.balance_fen,
            "held_fen": self.held_fen,
            "package_minutes": self.package_minutes,
            "minutes_left": self.minutes_left,
            "low_balance": self.low_balance,
        }


@dataclass(frozen=True, slots=True)
class Notice:
    """Something both sides must be told: ``paused``, ``resumed``, ``ended``, ``low_balance``."""

    kind: str
    at_ms: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Update:
    view: SessionView
    notices: tuple[Notice, ...] = field(default=())
    next_tick_at_ms: int | None = None


def live_view(
    row: Any,
    *,
    billed_minutes: int,
    charged_fen: int,
    money_fen: int,
    package_minutes: int,
    cap_fen: int | None,
    committed_fen: int,
    held_ahead: int,
    earned_fen: int = 0,
    held_fen: int = 0,
) -> SessionView:
    """The customer's live view of a session from its figures (pure): minutes left are the
    minutes already held, the package minutes and what money buys within the monthly cap."""
    affordable = money_fen // row.rate_fen_per_min
    if cap_fen is not None:
        affordable = min(affordable, max(0, cap_fen - committed_fen) // row.rate_fen_per_min)
    minutes_left = affordable + package_minutes + held_ahead
    return SessionView(
        session_id=row.id,
        status=row.status,
        mode=row.mode,
        rate_fen_per_min=row.rate_fen_per_min,
        billed_minutes=billed_minutes,
        charged_fen=charged_fen,
        refunded_fen=row.refunded_fen,
        balance_fen=money_fen,
        package_minutes=package_minutes,
        minutes_left=minutes_left,
        low_balance=minutes_left < LOW_BALANCE_MINUTES,
        end_reason=row.end_reason,
        earned_fen=earned_fen,
        held_fen=held_fen,
    )


def to_ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class MeteringService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: MeteringPolicy | None = None,
        *,
        owner: str = "local",
    ) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy or MeteringPolicy()
        self._clock_policy = Policy(resume_grace_ms=self.policy.resume_grace_s * 1000)
        self.ledger = Ledger()
        self.owner = owner
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def _session_lock(self, session_id: str) -> AsyncIterator[None]:
        # In-process: one event of a session at a time (the row lock does it across processes).
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not lock._waiters:
                self._locks.pop(session_id, None)

    # -- rates ----------------------------------------------------------------------------------

    async def set_rates(
        self,
        companion_id: str,
        rates: Rates,
        *,
        level: Level = Level.NEWCOMER,
        specialist: bool = False,
    ) -> CompanionRate:
        try:
            validate_rates(rates, level, specialist)
        except RateError as exc:
            raise InvalidRates(exc.code, str(exc)) from exc
        now = self._clock.now()
        values = {
            "user_id": companion_id,
            "level": level.value,
            "specialist": specialist,
            "text_fen_per_min": rates.text_fen_per_min,
            "voice_fen_per_min": rates.voice_fen_per_min,
            "video_fen_per_min": rates.video_fen_per_min,
            "updated_at": now,
        }
        async with self._db.writing() as s:
            await upsert(s, CompanionRate, values)
        row = CompanionRate(**values)
        return row

    async def rates_of(self, companion_id: str) -> CompanionRate:
        async with self._db.reading() as s:
            row = await s.get(CompanionRate, companion_id)
        if row is None:
            raise RatesNotSet()
        return row

    # -- sessions -------------------------------------------------------------------------------

    async def open_session(
        self,
        session_id: str,
        customer_id: str,
        companion_id: str,
        mode: Mode,
        *,
        rate_fen_per_min: int | None = None,
        kind: MeterKind = MeterKind.CALL,
    ) -> SessionView:
        """Fix the rate and reserve minute 1, or refuse (nothing written).  Idempotent.

        The rate is the companion's current price for ``mode`` unless the server fixed another
        one earlier (``rate_fen_per_min``: a booking's price, a group room's price); the
        commission is always the companion's level's.  The session becomes the customer's one
        open meter (``kind`` says what it bills): :class:`MeterBusy` if they have one open."""
        if rate_fen_per_min is not None and not (0 < rate_fen_per_min <= MAX_AMOUNT_FEN):
            raise InvalidAmount()
        # Two opens of one customer racing on PostgreSQL (a booking's call and an ad-hoc one)
        # can deadlock on the rows both create; the loser's unit of work is run again (it is
        # idempotent on the session id) and then meets the winner's meter: MeterBusy.
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return await self._open_session(
                    session_id, customer_id, companion_id, mode, rate_fen_per_min, kind
                )
            except DBAPIError as exc:
                if not is_transient(exc) or attempt == _OPEN_ATTEMPTS - 1:
                    raise
                log.info("session_open_retried", session_id=session_id, attempt=attempt + 1)
        raise AssertionError("unreachable")

    async def _open_session(
        self,
        session_id: str,
        customer_id: str,
        companion_id: str,
        mode: Mode,
        rate_fen_per_min: int | None,
        kind: MeterKind,
    ) -> SessionView:
        now = self._clock.now()
        async with self._session_lock(session_id), self._db.writing() as s:
            existing = await s.get(MeteredSession, session_id)
            if existing is not None:
                if (existing.customer_id, existing.companion_id, existing.mode) != (
                    customer_id,
                    companion_id,
                    mode.value,
                ):
                    raise SessionExists()
                return await self._view(s, existing)
            rates = await s.get(CompanionRate, companion_id)
            if rates is None:
                raise RatesNotSet()
            row = MeteredSession(
                id=session_id,
                customer_id=customer_id,
                companion_id=companion_id,
                mode=mode.value,
                rate_fen_per_min=rate_fen_per_min
                or Rates(
                    rates.text_fen_per_min, rates.voice_fen_per_min, rates.video_fen_per_min
                ).for_mode(mode),
                commission_bp=commission_bp(Level(rates.level)),
                status="running",
                meter=Meter(now_ms=to_ms(now)).to_json(),
                charged_fen=0,
                refunded_fen=0,
                billed_minutes=0,
                owner=self.owner,
                heartbeat_at=now,
                created_at=now,
            )
            s.add(row)
            await s.flush()
            # Before any money moves: a customer with an open meter is refused here.
            await meters.take(s, customer_id, session_id, kind, now)
            outcome = await holds.reserve(s, self.ledger, row, 1, now)
            if not outcome.ok:
                raise (
                    BudgetExceeded()
                    if outcome.reason == "budget_exceeded"
                    else (InsufficientFunds())
                )
            view = await self._view(s, row)
        log.info(
            "session_opened",
            session_id=session_id,
            mode=mode.value,
            rate_fen_per_min=row.rate_fen_per_min,
        )
        return view

    async def media_up(self, session_id: str) -> Update:
        return await self.apply(session_id, billing_clock.MediaUp(self._now_ms()))

    async def media_down(self, session_id: str, at_ms: int | None = None) -> Update:
        """Disconnected at ``at_ms`` (default now; earlier for a side whose process died: a
        late mark lands where it belongs, and minutes it un-owes are refunded at the end)."""
        now_ms = self._now_ms()
        if at_ms is None:
            return await self.apply(session_id, billing_clock.MediaDown(now_ms))
        late = billing_clock.MediaDown(min(at_ms, now_ms), not_before_marks=True)
        return await self.apply(session_id, late)

    async def tick(self, session_id: str) -> Update:
        return await self.apply(session_id, billing_clock.Tick(self._now_ms()))

    async def end(self, session_id: str, reason: str, at_ms: int | None = None) -> Update:
        """End and settle as of ``at_ms`` (default now; the last heartbeat of a process that
        died while it ran the session)."""
        now_ms = self._now_ms()
        at = now_ms if at_ms is None else min(at_ms, now_ms)
        return await self.apply(session_id, billing_clock.Ended(at, reason))

    async def funds_added(self, session_id: str) -> Update:
        return await self.apply(session_id, billing_clock.FundsAdded(self._now_ms()))

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())

    async def apply(self, session_id: str, event: billing_clock.Event) -> Update:
        """Feed one edge fact to the session's billing clock and carry out what it decides."""
        async with self._session_lock(session_id), self._db.writing() as s:
            row = await s.get(MeteredSession, session_id, with_for_update=True)
            if row is None:
                raise SessionNotFound()
            notices = await self._run(s, row, event)
            meter = Meter.from_json(row.meter)
            view = await self._view(s, row)
        # Warn after a capture leaves fewer than LOW_BALANCE_MINUTES affordable minutes.
        captured = any(n.kind == "minute_captured" for n in notices)
        notices = [n for n in notices if n.kind != "minute_captured"]
        if captured and view.status == "running" and view.low_balance:
            notices.append(Notice("low_balance", self._now_ms()))
        return Update(
            view, tuple(notices), billing_clock.next_tick_at_ms(meter, self._clock_policy)
        )

    async def _run(
        self, s: AsyncSession, row: MeteredSession, first: billing_clock.Event
    ) -> list[Notice]:
        meter = Meter.from_json(row.meter)
        queue: list[billing_clock.Event] = [first]
        notices: list[Notice] = []
        now = self._clock.now()
        captured_any = False
        closed_minutes: int | None = None
        while queue:
            event = queue.pop(0)
            try:
                meter, actions = billing_clock.step(meter, event, self._clock_policy)
            except MeterError as exc:
                if exc.code == "session_ended":
                    raise SessionEnded() from exc
                raise
            for action in actions:
                match action:
                    case billing_clock.CaptureMinute(minute=k):
                        row.charged_fen += await holds.capture(s, self.ledger, row, k, now)
                        captured_any = True
                    case billing_clock.ReserveMinute(minute=k):
                        outcome = await holds.reserve(s, self.ledger, row, k, now)
                        at = to_ms(now)
                        queue.append(
                            billing_clock.ReserveSucceeded(k, at)
                            if outcome.ok
                            else billing_clock.ReserveFailed(k, at)
                        )
                    case billing_clock.ReleaseMinute(minute=k):
                        await holds.release(s, self.ledger, row, k, now)
                    case billing_clock.RefundMinute(minute=k):
                        row.charged_fen -= await holds.refund_minute(s, self.ledger, row, k, now)
                    case billing_clock.PauseSession(at_ms=t):
                        notices.append(Notice("paused", t, "insufficient_funds"))
                    case billing_clock.ResumeSession(at_ms=t):
                        notices.append(Notice("resumed", t))
                    case billing_clock.CloseSession(at_ms=t, reason=reason, billed_minutes=n):
                        row.ended_at = from_ms(t)
                        row.end_reason = reason
                        closed_minutes = n
                        notices.append(Notice("ended", t, reason))
        row.meter = meter.to_json()
        row.status = meter.status.value
        row.billed_minutes = meter.captured if closed_minutes is None else closed_minutes
        row.heartbeat_at = now
        if captured_any:
            notices.append(Notice("minute_captured", to_ms(now)))
        if row.status == "ended":
            # Every way a session ends comes through here: the customer's meter is free again,
            # in the transaction that settles it.
            await meters.free(s, row.id)
            log.info(
                "session_closed",
                session_id=row.id,
                billed_minutes=row.billed_minutes,
                charged_fen=row.charged_fen,
                reason=row.end_reason,
            )
        return notices

    async def next_tick_at(self, session_id: str) -> int | None:
        """When the session's billing clock next needs a tick (None: not until an edge event);
        :class:`SessionEnded` once it has ended.  A read: no lock, nothing written."""
        async with self._db.reading() as s:
            meter_json = await s.scalar(
                select(MeteredSession.meter).where(MeteredSession.id == session_id)
            )
        if meter_json is None:
            raise SessionNotFound()
        meter = Meter.from_json(meter_json)
        if meter.status is billing_clock.Status.ENDED:
            raise SessionEnded()
        return billing_clock.next_tick_at_ms(meter, self._clock_policy)

    async def view(self, session_id: str) -> SessionView:
        async with self._db.reading() as s:
            row = await s.get(MeteredSession, session_id)
            if row is None:
                raise SessionNotFound()
            return await self._view(s, row)

    async def _view(self, s: AsyncSession, row: MeteredSession) -> SessionView:
        now = self._clock.now()
        cust, comp = row.customer_id, row.companion_id
        bal = await balances(s, [accounts.wallet(cust), accounts.promo(cust), accounts.held(cust)])
        cap = await holds.monthly_cap(s, cust)
        return live_view(
            row,
            billed_minutes=row.billed_minutes,
            charged_fen=row.charged_fen,
            money_fen=bal[accounts.wallet(cust)] + bal[accounts.promo(cust)],
            package_minutes=await figures.package_minutes(s, row, now),
            cap_fen=cap,
            committed_fen=0 if cap is None else await figures.committed(s, cust, now),
            held_ahead=await figures.held_ahead(s, row.id),
            earned_fen=await figures.session_net(s, row.id, accounts.earn_pending(comp))
            + await figures.session_net(s, row.id, accounts.earn_available(comp)),
            # one open meter per customer: their held money is this session's
            held_fen=bal[accounts.held(cust)],
        )

    async def budget(self, user_id: str) -> tuple[int | None, int]:
        """The customer's monthly cap (``None``: no cap) and what this month has committed."""
        async with self._db.reading() as s:
            cap = await holds.monthly_cap(s, user_id)
            return cap, await figures.committed(s, user_id, self._clock.now())

    # -- refunds --------------------------------------------------------------------------------

    async def refund_session(
        self, session_id: str, amount_fen: int, *, key: str, reason: str = ""
    ) -> SessionView:
        """Refund part or all of what a session charged, as reversing entries.

        The companion's share and the platform's commission are reversed in proportion to what
        they received; the money goes back to the wallet and promo balance in proportion to how
        it was paid.  ``key`` makes the refund idempotent (an appeal id, an admin action id).
        """
        if not isinstance(amount_fen, int) or not (0 < amount_fen <= MAX_AMOUNT_FEN):
            raise InvalidAmount()
        now = self._clock.now()
        async with self._session_lock(session_id), self._db.writing() as s:
            row = await s.get(MeteredSession, session_id, with_for_update=True)
            if row is None:
                raise SessionNotFound()
            posted = await settlement.refund(
                s, self.ledger, row, amount_fen, key=key, reason=reason, now=now
            )
            view = await self._view(s, row)
        if posted:
            log.info("session_refunded", session_id=session_id, amount_fen=amount_fen)
        return view

    # -- budget ---------------------------------------------------------------------------------

    async def set_monthly_cap(self, user_id: str, cap_fen: int | None) -> None:
        if cap_fen is not None and not (0 <= cap_fen <= MAX_AMOUNT_FEN):
            raise InvalidAmount()
        async with self._db.writing() as s:
            await upsert(s, CustomerSetting, {"user_id": user_id, "monthly_cap_fen": cap_fen})

    # -- settlement -----------------------------------------------------------------------------

    async def settle_earnings(self, limit: int = 500) -> int:
        """Make earnings of sessions ended more than the hold period ago available."""
        now = self._clock.now()
        cutoff = now - timedelta(seconds=self.policy.earnings_hold_s)
        async with self._db.reading() as s:
            ids = await settlement.due(s, cutoff, limit)
        for sid in ids:
            async with self._session_lock(sid), self._db.writing() as s:
                row = await s.get(MeteredSession, sid, with_for_update=True)
                assert row is not None
                if row.settled_at is None:
                    await settlement.settle(s, self.ledger, row, now)
        return len(ids)

    # -- crash safety ---------------------------------------------------------------------------

    async def settle_orphans(self, limit: int = 500) -> list[str]:
        """End sessions whose owning process stopped heartbeating: captured up to the last
        served minute (the state saved with the last heartbeat), the rest released."""
        now = self._clock.now()
        stale = now - timedelta(seconds=self.policy.heartbeat_timeout_s)
        async with self._db.reading() as s:
            rows = (
                await s.execute(
                    select(MeteredSession.id, MeteredSession.heartbeat_at)
                    .where(
                        MeteredSession.status.in_(("running", "paused")),
                        MeteredSession.heartbeat_at < stale,
                    )
                    .limit(limit)
                )
            ).all()
        ended = []
        for sid, heartbeat_at in rows:
            try:
                await self.apply(sid, billing_clock.Ended(to_ms(heartbeat_at), "server_lost"))
                ended.append(sid)
            except SessionEnded:
                continue
        if ended:
            log.warning("orphaned_sessions_settled", count=len(ended))
        return ended

    async def heartbeat(self, session_ids: list[str]) -> None:
        """Record that this process still runs these sessions (and they are connected until
        now: the shell's tick does the billing; this only keeps them from being orphaned)."""
        if not session_ids:
            return
        async with self._db.writing() as s:
            await s.execute(
                update(MeteredSession)
                .where(
                    MeteredSession.id.in_(session_ids),
                    MeteredSession.status != "ended",
                )
                .values(heartbeat_at=self._clock.now())
            )
