"""Ticks in batches: many sessions' minute charges in one transaction (group commit).

A per-session tick costs ~20 statements; at 10,000 sessions ticking once a minute (167 ticks/s)
that is more than one process can do.  Here the *steady state* of a session — capture minute k
from its cash hold, reserve minute k+1 from promo credit and wallet — is done for a whole batch
with a handful of set-based statements:

1. lock the sessions (``ORDER BY id``), run the pure billing clock on each with the same
   ``Tick``; a session whose actions are exactly ``[CaptureMinute(k), ReserveMinute(k+1)]`` is a
   candidate, one with no actions only records the tick, anything else takes the slow path;
2. load the candidates' holds (must be pending cash holds), their customers' usable grants (a
   package or free minute would fund k+1: slow path), balances and budget rows, locked in id
   order; fund k+1 in Python from those figures, customer by customer (a shortfall: slow path,
   where the clock pauses the session);
3. write: transfers, entries and holds as multi-row inserts, account deltas summed per account
   and applied in account-id order (the lock order of every other writer), budget rows, sessions.

The transfers are the same, with the same idempotency keys, as the per-session path would post
(``capture:{s}:{k}``, ``hold:{s}:{k+1}``), so the two paths can interleave on one session and
each minute is still charged once.  Sessions not handled here go through
``MeteringService.apply`` one by one, after the batch commits.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from metering import accounts, billing_clock
from metering.billing_clock import CaptureMinute, Meter, ReserveMinute
from metering.commission import split
from metering.errors import SessionEnded, SessionNotFound
from metering.figures import sessions_earned
from metering.funding import fund
from metering.holds import budget_month, hold_id
from metering.service import (
    MeteringService,
    Notice,
    SessionView,
    Update,
    live_view,
    to_ms,
)
from metering.tariff import billed_minutes
from store.models import (
    BudgetMonth,
    CustomerSetting,
    Entry,
    Hold,
    LedgerAccount,
    MeteredSession,
    MinuteGrant,
    Transfer,
)

log = structlog.get_logger(__name__)

# Core tables: the set-based statements skip the ORM's per-object bookkeeping.
_SESSIONS = cast(Table, MeteredSession.__table__)
_HOLDS = cast(Table, Hold.__table__)
_ACCOUNTS = cast(Table, LedgerAccount.__table__)
_BUDGET = cast(Table, BudgetMonth.__table__)
_ENTRIES = cast(Table, Entry.__table__)


@dataclass
class _Candidate:
    row: Any  # a Core row of metered_sessions (read-only)
    meter: Meter
    minute: int  # the minute captured now; minute + 1 is reserved
    hold: Any = None
    from_promo: int = 0
    from_wallet: int = 0
    charged_fen: int = 0


@dataclass
class BatchResult:
    #: per session: an ``Update`` or the exception its tick raised
    results: dict[str, Any]
    #: how many sessions the set-based path handled, and how many went one by one
    fast: int = 0
    slow: int = 0


async def tick_batch(service: MeteringService, session_ids: list[str]) -> BatchResult:
    """Tick every session in ``session_ids`` (duplicates tick once)."""
    results: dict[str, Any] = {}
    fast = 0
    slow: list[str] = []
    unique = sorted(set(session_ids))
    db, ledger, clock = service._db, service.ledger, service._clock
    now = clock.now()
    now_ms = to_ms(now)
    month = budget_month(now)
    async with db.writing() as s:
        rows = (
            await s.execute(
                select(_SESSIONS)
                .where(_SESSIONS.c.id.in_(unique))
                .order_by(_SESSIONS.c.id)
                .with_for_update()
            )
        ).all()
        found = {r.id for r in rows}
        for sid in unique:
            if sid not in found:
                results[sid] = SessionNotFound()
        candidates: list[_Candidate] = []
        quiet: list[tuple[Any, Meter]] = []
        for row in rows:
            meter = Meter.from_json(row.meter)
            if meter.status is billing_clock.Status.ENDED:
                results[row.id] = SessionEnded()
                continue
            try:
                after, actions = billing_clock.step(
                    meter, billing_clock.Tick(now_ms), service._clock_policy
                )
            except billing_clock.MeterError:
                slow.append(row.id)
                continue
            k = meter.captured + 1
            if not actions:
                quiet.append((row, after))
            elif (
                actions == [CaptureMinute(k), ReserveMinute(k + 1)]
                and billed_minutes(billing_clock.connected_ms(after, after.now_ms)) == k
            ):
                # Exactly one minute due (a tick late by more than a minute owes several).
                candidates.append(_Candidate(row, after, k, charged_fen=row.charged_fen))
            else:
                slow.append(row.id)

        figures = _Figures({}, {}, {})
        if candidates or quiet:
            candidates, figures = await _fund(
                s, candidates, month, now, slow, [r.customer_id for r, _ in quiet]
            )
        if candidates:
            await _write(s, ledger, candidates, month, now, now_ms, figures)
        fast = len(candidates)
        changes = [
            {
                "sid": c.row.id,
                "meter": c.meter.to_json(),
                "charged": c.charged_fen,
                "billed": c.meter.captured,
                "hb": now,
            }
            for c in candidates
        ] + [
            {
                "sid": row.id,
                "meter": after.to_json(),
                "charged": row.charged_fen,
                "billed": row.billed_minutes,
                "hb": now,
            }
            for row, after in quiet
        ]
        if changes:
            await s.execute(
                update(_SESSIONS)
                .where(_SESSIONS.c.id == bindparam("sid"))
                .values(
                    meter=bindparam("meter"),
                    charged_fen=bindparam("charged"),
                    billed_minutes=bindparam("billed"),
                    heartbeat_at=bindparam("hb"),
                ),
                changes,
            )
        by_id = {r.id: r for r in rows}
        # the companion's side of the meter: what the session has earned them so far
        figures.earned = await sessions_earned(
            s, {c["sid"]: by_id[c["sid"]].companion_id for c in changes}
        )
        views = _views(changes, by_id, figures)
        for c in candidates:
            view = views[c.row.id]
            notices = (Notice("low_balance", now_ms),) if view.low_balance else ()
            results[c.row.id] = Update(
                view, notices, billing_clock.next_tick_at_ms(c.meter, service._clock_policy)
            )
        for row, after in quiet:
            results[row.id] = Update(
                views[row.id], (), billing_clock.next_tick_at_ms(after, service._clock_policy)
            )
    for sid in slow:
        try:
            results[sid] = await service.apply(sid, billing_clock.Tick(to_ms(clock.now())))
        except Exception as exc:  # reported to the waiting caller
            results[sid] = exc
    return BatchResult(results, fast, len(slow))


@dataclass
class _Figures:
    """Balances, caps and committed spend read under lock, updated as minutes are funded."""

    balance: dict[str, int]
    caps: dict[str, Any]
    committed: dict[str, int]
    had_budget_row: frozenset[str] = frozenset()
    #: each changed session's earnings for its companion so far (read after the writes)
    earned: dict[str, int] = field(default_factory=dict)


async def _fund(
    s: Any,
    candidates: list[_Candidate],
    month: str,
    now: Any,
    slow: list[str],
    also: list[str],
) -> tuple[list[_Candidate], _Figures]:
    """Keep the candidates whose minute k is a pending cash hold and whose minute k+1 the
    promo balance and wallet cover within the budget cap; send the others to the slow path.
    ``also``: more customers whose figures the caller needs (for live views)."""
    holds = {
        h.id: h
        for h in (
            await s.execute(
                select(_HOLDS).where(
                    _HOLDS.c.id.in_([hold_id(c.row.id, c.minute) for c in candidates])
                )
            )
        ).all()
    }
    customers = sorted({c.row.customer_id for c in candidates} | set(also))
    granted = {
        (g.user_id, g.mode, g.companion_id)
        for g in (
            await s.execute(
                select(MinuteGrant).where(
                    MinuteGrant.user_id.in_(customers),
                    MinuteGrant.expires_at > now,
                    MinuteGrant.expired_at.is_(None),
                    MinuteGrant.minutes_held + MinuteGrant.minutes_used < MinuteGrant.minutes_total,
                )
            )
        ).scalars()
    }
    # Lock order, the same as every other writer's: budget rows, then every account this batch
    # may touch, in account-id order, in one statement (PostgreSQL would otherwise deadlock
    # with a package purchase or a refund taking the same rows in another order).
    committed = {
        r[0]: int(r[1])
        for r in (
            await s.execute(
                select(BudgetMonth.user_id, BudgetMonth.committed_fen)
                .where(BudgetMonth.user_id.in_(customers), BudgetMonth.month == month)
                .order_by(BudgetMonth.user_id)
                .with_for_update()
            )
        ).all()
    }
    money_ids = {accounts.wallet(c) for c in customers} | {accounts.promo(c) for c in customers}
    touched = (
        money_ids
        | {accounts.held(c.row.customer_id) for c in candidates}
        | {accounts.earn_pending(c.row.companion_id) for c in candidates}
        | ({accounts.PLATFORM_REVENUE} if candidates else set())
    )
    balance = {
        r[0]: int(r[1])
        for r in (
            await s.execute(
                select(LedgerAccount.id, LedgerAccount.balance_fen)
                .where(LedgerAccount.id.in_(sorted(touched)))
                .order_by(LedgerAccount.id)
                .with_for_update()
            )
        ).all()
        if r[0] in money_ids
    }
    caps = {
        r[0]: r[1]
        for r in (
            await s.execute(
                select(CustomerSetting.user_id, CustomerSetting.monthly_cap_fen).where(
                    CustomerSetting.user_id.in_(customers)
                )
            )
        ).all()
    }
    had_row = set(committed)
    kept = []
    for c in candidates:
        row, cust = c.row, c.row.customer_id
        hold = holds.get(hold_id(row.id, c.minute))
        if (
            hold is None
            or hold.status != "pending"
            or hold.grant_id is not None
            or (cust, row.mode, None) in granted
            or (cust, row.mode, row.companion_id) in granted
        ):
            slow.append(row.id)
            continue
        price = row.rate_fen_per_min
        promo = balance.get(accounts.promo(cust), 0)
        wallet = balance.get(accounts.wallet(cust), 0)
        funding = fund(
            price,
            promo_fen=promo,
            wallet_fen=wallet,
            spent_fen=committed.get(cust, 0),
            cap_fen=caps.get(cust),
        )
        if not funding.ok:
            slow.append(row.id)  # the slow path reserves, fails, and pauses as it should
            continue
        a, b = funding.from_promo, funding.from_wallet
        balance[accounts.promo(cust)] = promo - a
        balance[accounts.wallet(cust)] = wallet - b
        committed[cust] = committed.get(cust, 0) + b
        c.hold, c.from_promo, c.from_wallet = hold, a, b
        kept.append(c)
    return kept, _Figures(balance, caps, committed, frozenset(had_row))


async def _write(
    s: Any,
    ledger: Any,
    candidates: list[_Candidate],
    month: str,
    now: Any,
    now_ms: int,
    figures: _Figures,
) -> None:
    dialect_insert = (
        postgresql.insert if s.get_bind().dialect.name == "postgresql" else (sqlite.insert)
    )
    transfers: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    deltas: dict[str, int] = {}
    new_holds: list[dict[str, Any]] = []
    budget: dict[str, int] = {}

    def leg(transfer_id: str, account: str, amount: int) -> None:
        if amount:
            entries.append(
                {"transfer_id": transfer_id, "account_id": account, "amount_fen": amount}
            )
            deltas[account] = deltas.get(account, 0) + amount

    for c in candidates:
        row, hold, k = c.row, c.hold, c.minute
        assert hold is not None
        cust, comp = row.customer_id, row.companion_id
        cap_id = f"capture:{row.id}:{k}"
        part = split(hold.amount_fen, row.commission_bp)
        transfers.append(
            {
                "id": cap_id,
                "kind": "capture",
                "session_id": row.id,
                "minute": k,
                "created_at": now,
                "memo": {},
            }
        )
        leg(cap_id, accounts.held(cust), -hold.amount_fen)
        leg(cap_id, accounts.earn_pending(comp), part.companion_fen)
        leg(cap_id, accounts.PLATFORM_REVENUE, part.platform_fen)
        price = c.from_promo + c.from_wallet
        hid = hold_id(row.id, k + 1)
        transfers.append(
            {
                "id": hid,
                "kind": "hold",
                "session_id": row.id,
                "minute": k + 1,
                "created_at": now,
                "memo": {},
            }
        )
        leg(hid, accounts.promo(cust), -c.from_promo)
        leg(hid, accounts.wallet(cust), -c.from_wallet)
        leg(hid, accounts.held(cust), price)
        sources = [
            [a, v]
            for a, v in (
                (accounts.promo(cust), c.from_promo),
                (accounts.wallet(cust), c.from_wallet),
            )
            if v
        ]
        new_holds.append(
            {
                "id": hid,
                "session_id": row.id,
                "minute": k + 1,
                "status": "pending",
                "sources": sources,
                "grant_id": None,
                "amount_fen": price,
                "budget_month": month if c.from_wallet else None,
                "created_at": now,
            }
        )
        if c.from_wallet:
            budget[cust] = budget.get(cust, 0) + c.from_wallet

    await ledger.ensure_accounts(s, deltas.keys())
    inserted = (
        (
            await s.execute(
                dialect_insert(Transfer)
                .values(transfers)
                .on_conflict_do_nothing()
                .returning(Transfer.id)
            )
        )
        .scalars()
        .all()
    )
    if len(inserted) != len(transfers):
        # Someone posted one of these already: the state we read is stale.  Abort the batch.
        raise RuntimeError("batch transfer conflict")
    await s.execute(insert(_ENTRIES), entries)
    # In account-id order: one lock order for every writer (executemany keeps list order).
    await s.execute(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.id == bindparam("aid"))
        .values(balance_fen=_ACCOUNTS.c.balance_fen + bindparam("delta")),
        [{"aid": a, "delta": deltas[a]} for a in sorted(deltas) if deltas[a]],
    )
    await s.execute(
        update(_HOLDS)
        .where(
            _HOLDS.c.id.in_([c.hold.id for c in candidates if c.hold]), _HOLDS.c.status == "pending"
        )
        .values(status="captured")
    )
    await s.execute(insert(_HOLDS), new_holds)
    if budget:
        missing = [u for u in budget if u not in figures.had_budget_row]
        if missing:
            await s.execute(
                dialect_insert(BudgetMonth)
                .values([{"user_id": u, "month": month, "committed_fen": 0} for u in missing])
                .on_conflict_do_nothing()
            )
        await s.execute(
            update(_BUDGET)
            .where(_BUDGET.c.user_id == bindparam("uid"), _BUDGET.c.month == month)
            .values(committed_fen=_BUDGET.c.committed_fen + bindparam("delta")),
            [{"uid": u, "delta": budget[u]} for u in sorted(budget)],
        )
    for c in candidates:
        after, actions = billing_clock.step(
            c.meter, billing_clock.ReserveSucceeded(c.minute + 1, now_ms)
        )
        assert not actions, actions
        c.meter = after
        c.charged_fen += c.hold.amount_fen if c.hold else 0


def _views(
    changes: list[dict[str, Any]], rows: dict[str, Any], figures: _Figures
) -> dict[str, SessionView]:
    """Live views from the figures read under lock and updated as minutes were funded
    (no package minutes: sessions with grants took the slow path)."""
    views = {}
    for change in changes:
        r = rows[change["sid"]]
        cust = r.customer_id
        meter = change["meter"]
        views[r.id] = live_view(
            r,
            billed_minutes=change["billed"],
            charged_fen=change["charged"],
            money_fen=figures.balance.get(accounts.wallet(cust), 0)
            + figures.balance.get(accounts.promo(cust), 0),
            package_minutes=0,
            cap_fen=figures.caps.get(cust),
            committed_fen=figures.committed.get(cust, 0),
            # a running session's pending holds are the minutes reserved but not captured
            held_ahead=max(0, int(meter["reserved"]) - int(meter["captured"])),
            # the batch funds cash minutes only: each held minute holds the rate
            held_fen=max(0, int(meter["reserved"]) - int(meter["captured"])) * r.rate_fen_per_min,
            earned_fen=figures.earned.get(r.id, 0),
        )
    return views


class TickBatcher:
    """Queues ticks and runs them in batches: whatever is queued when the worker is free goes
    into the next transaction, so batches grow with load (group commit)."""

    def __init__(
        self, service: MeteringService, *, max_batch: int = 200, max_queue: int = 100_000
    ) -> None:
        self._service = service
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[Update]]] = asyncio.Queue(max_queue)
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="tick-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(RuntimeError("metering stopped"))

    async def tick(self, session_id: str) -> Update:
        fut: asyncio.Future[Update] = asyncio.get_running_loop().create_future()
        await self._queue.put((session_id, fut))
        return await fut

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            sids = [sid for sid, _ in batch]
            try:
                results = (await tick_batch(self._service, sids)).results
            except Exception:
                log.exception("tick_batch_failed", size=len(batch))
                results = {}
                for sid in set(sids):  # the per-session path, one by one
                    try:
                        results[sid] = await self._service.tick(sid)
                    except Exception as exc:
                        results[sid] = exc
            for sid, fut in batch:
                if fut.done():
                    continue
                outcome = results.get(sid, RuntimeError("no result"))
                if isinstance(outcome, BaseException):
                    fut.set_exception(outcome)
                else:
                    fut.set_result(outcome)
