"""A session's and a customer's figures as the store holds them, read inside the caller's
transaction (nothing locked, nothing written): the package minutes a session can draw on, what
this month has committed against the budget cap, the minutes held ahead, and what a session's
transfers have added to (or taken from) one account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts, holds
from store.models import BudgetMonth, Entry, Hold, MeteredSession, MinuteGrant, Transfer


async def package_minutes(s: AsyncSession, row: MeteredSession, now: datetime) -> int:
    """Minutes left in the customer's unexpired grants this session can use (its mode; the
    platform's or this companion's)."""
    value = (
        await s.execute(
            select(
                func.coalesce(
                    func.sum(
                        MinuteGrant.minutes_total
                        - MinuteGrant.minutes_used
                        - MinuteGrant.minutes_held
                    ),
                    0,
                )
            ).where(
                MinuteGrant.user_id == row.customer_id,
                MinuteGrant.mode == row.mode,
                MinuteGrant.expires_at > now,
                MinuteGrant.expired_at.is_(None),
                (MinuteGrant.companion_id.is_(None))
                | (MinuteGrant.companion_id == row.companion_id),
            )
        )
    ).scalar_one()
    return int(value)


async def committed(s: AsyncSession, user_id: str, now: datetime) -> int:
    """What the month of ``now`` has committed against ``user_id``'s budget cap."""
    value = (
        await s.execute(
            select(BudgetMonth.committed_fen).where(
                BudgetMonth.user_id == user_id,
                BudgetMonth.month == holds.budget_month(now),
            )
        )
    ).scalar_one_or_none()
    return int(value or 0)


async def held_ahead(s: AsyncSession, session_id: str) -> int:
    """Minutes of the session reserved and not yet captured or released."""
    value = (
        await s.execute(
            select(func.count())
            .select_from(Hold)
            .where(Hold.session_id == session_id, Hold.status == "pending")
        )
    ).scalar_one()
    return int(value)


async def session_net(s: AsyncSession, session_id: str, account: str) -> int:
    """What the session's transfers have added to (or, negative, taken from) ``account``."""
    value = (
        await s.execute(
            select(func.coalesce(func.sum(Entry.amount_fen), 0))
            .join(Transfer, Transfer.id == Entry.transfer_id)
            .where(Transfer.session_id == session_id, Entry.account_id == account)
        )
    ).scalar_one()
    return int(value)


async def sessions_earned(s: AsyncSession, companions: dict[str, str]) -> dict[str, int]:
    """What each session (``{session_id: companion_id}``) has earned its companion so far,
    pending and available together: the batch's version of ``session_net`` on the two earning
    accounts, in one query.  A session's transfers touch only its own companion's accounts."""
    if not companions:
        return {}
    ids = {accounts.earn_pending(c) for c in companions.values()}
    ids |= {accounts.earn_available(c) for c in companions.values()}
    rows = await s.execute(
        select(Transfer.session_id, func.coalesce(func.sum(Entry.amount_fen), 0))
        .join(Transfer, Transfer.id == Entry.transfer_id)
        .where(Transfer.session_id.in_(sorted(companions)), Entry.account_id.in_(sorted(ids)))
        .group_by(Transfer.session_id)
    )
    earned = {str(sid): int(total) for sid, total in rows.all()}
    return {sid: earned.get(sid, 0) for sid in companions}
