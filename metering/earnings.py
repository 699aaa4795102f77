"""A companion's earnings as figures: what is withdrawable now, what is pending and when each
part becomes withdrawable, what is on its way out, and what was earned today / this week / this
month (China time; the net of the earning lines of the statement that began in the period,
refunds included).  Read inside the caller's transaction; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts, statement
from metering.ledger import balances
from metering.periods import periods
from store.models import Entry, MeteredSession, Transfer
from store.models.bookings import Booking

#: release dates listed at most (the soonest)
MAX_RELEASES = 20


@dataclass(frozen=True, slots=True)
class Release:
    #: when it becomes withdrawable; ``None``: its session is still running (72 h after it ends)
    at: datetime | None
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Balances:
    available_fen: int
    pending_fen: int
    paying_fen: int


async def balances_of(s: AsyncSession, user_id: str) -> Balances:
    ids = [
        accounts.earn_available(user_id),
        accounts.earn_pending(user_id),
        accounts.payout_pending(user_id),
    ]
    b = await balances(s, ids)
    return Balances(b[ids[0]], b[ids[1]], b[ids[2]])


async def releases(s: AsyncSession, user_id: str, hold_s: int) -> list[Release]:
    """The pending earnings by the moment each part becomes withdrawable, soonest first
    (running sessions last).  Each session's or booking fee's pending part is released
    ``hold_s`` after it ended."""
    pending = accounts.earn_pending(user_id)
    booking_id = Transfer.memo["booking_id"].as_string()
    key = func.coalesce(Transfer.session_id, booking_id)
    rows = (
        await s.execute(
            select(key.label("k"), func.sum(Entry.amount_fen).label("fen"))
            .join(Transfer, Transfer.id == Entry.transfer_id)
            .where(Entry.account_id == pending)
            .group_by(key)
            .having(func.sum(Entry.amount_fen) > 0)
        )
    ).all()
    amounts = {r.k: int(r.fen) for r in rows if r.k is not None}
    ends: dict[str, datetime | None] = {}
    if amounts:
        for sid, ended in (
            await s.execute(
                select(MeteredSession.id, MeteredSession.ended_at).where(
                    MeteredSession.id.in_(list(amounts))
                )
            )
        ).all():
            ends[sid] = ended
        for bid, ended in (
            await s.execute(
                select(Booking.id, Booking.ended_at).where(Booking.id.in_(list(amounts)))
            )
        ).all():
            ends[bid] = ended
    by_at: dict[datetime | None, int] = {}
    for k, fen in amounts.items():
        ended = ends.get(k)
        at = ended + timedelta(seconds=hold_s) if ended is not None else None
        by_at[at] = by_at.get(at, 0) + fen
    dated = sorted((at, fen) for at, fen in by_at.items() if at is not None)
    out = [Release(at, fen) for at, fen in dated[:MAX_RELEASES]]
    if None in by_at:
        out.append(Release(None, by_at[None]))
    return out


@dataclass(frozen=True, slots=True)
class Earned:
    today_fen: int
    week_fen: int
    month_fen: int


async def earned(s: AsyncSession, user_id: str, now: datetime) -> Earned:
    p = periods(now)
    scope = statement.companion_scope(user_id)
    end = now + timedelta(days=1)

    async def since(start: datetime) -> int:
        return await statement.net_between(s, scope, statement.EARNING_KINDS, start, end)

    return Earned(
        today_fen=await since(p.day_start),
        week_fen=await since(p.week_start),
        month_fen=await since(p.month_start),
    )
