"""One minute's money: reserve it before it is served, capture it when served, release it when
not, refund it when over-captured.  All run inside the caller's transaction.

Funding order for a minute: a prepaid grant for the mode (package minutes or free minutes from a
coupon; the one expiring first), else the promo balance, then the wallet for the rest
(``funding.fund``, the rule the batch path applies too).  The cash (wallet) part counts against
the customer's monthly budget cap from the moment it is held.

Earnings are as if the customer paid the companion's rate whenever the platform funds the minute
(coupons, platform packages): the platform's revenue and expense accounts carry the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts
from metering.commission import split
from metering.funding import fund, within_cap
from metering.ids import AccountId, TransferId
from metering.ledger import Ledger, Overdrawn, TransferSpec, balance, balances, legs
from store.models import BudgetMonth, CustomerSetting, Entry, Hold, MeteredSession, MinuteGrant

CHINA = ZoneInfo("Asia/Shanghai")


def budget_month(now: datetime) -> str:
    """The calendar month (China time) a charge counts against: ``YYYY-MM``."""
    return now.astimezone(CHINA).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class ReserveOutcome:
    ok: bool
    reason: str = ""  # insufficient_funds | budget_exceeded


def hold_id(session_id: str, minute: int) -> TransferId:
    return TransferId(f"hold:{session_id}:{minute}")


async def monthly_cap(s: AsyncSession, user_id: str) -> int | None:
    setting = await s.get(CustomerSetting, user_id)
    return None if setting is None else setting.monthly_cap_fen


async def commit_budget(s: AsyncSession, user_id: str, month: str, amount_fen: int) -> bool:
    """Add ``amount_fen`` to the month's committed spend if the cap allows
    (``funding.within_cap``), decided under the budget row's lock.

    Lock order, for every writer of a customer's money: the budget row first, then the ledger
    accounts (``Ledger.post`` takes those in account-id order).  A writer that posts to the
    wallet and then touches the budget row deadlocks on PostgreSQL against one that does the
    reverse (a booking's slot against the customer's own call request did)."""
    cap = await monthly_cap(s, user_id)
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    await s.execute(
        insert(BudgetMonth)
        .values(user_id=user_id, month=month, committed_fen=0)
        .on_conflict_do_nothing()
    )
    where = (BudgetMonth.user_id == user_id, BudgetMonth.month == month)
    if cap is not None and amount_fen > 0:
        spent = await s.scalar(select(BudgetMonth.committed_fen).where(*where).with_for_update())
        if not within_cap(int(spent or 0), amount_fen, cap):
            return False
    await s.execute(
        update(BudgetMonth)
        .where(*where)
        .values(committed_fen=BudgetMonth.committed_fen + amount_fen)
    )
    return True


async def committed_spend(s: AsyncSession, user_id: str, month: str) -> int:
    """The month's committed cash spend (no row yet: nothing)."""
    spent = await s.scalar(
        select(BudgetMonth.committed_fen).where(
            BudgetMonth.user_id == user_id, BudgetMonth.month == month
        )
    )
    return int(spent or 0)


async def _grant_for(s: AsyncSession, row: MeteredSession, now: datetime) -> MinuteGrant | None:
    stmt = (
        select(MinuteGrant)
        .where(
            MinuteGrant.user_id == row.customer_id,
            MinuteGrant.mode == row.mode,
            MinuteGrant.expires_at > now,
            MinuteGrant.expired_at.is_(None),
            MinuteGrant.minutes_held + MinuteGrant.minutes_used < MinuteGrant.minutes_total,
            (MinuteGrant.companion_id.is_(None)) | (MinuteGrant.companion_id == row.companion_id),
        )
        .order_by(MinuteGrant.expires_at, MinuteGrant.id)
        .limit(1)
    )
    return (await s.execute(stmt)).scalar_one_or_none()


async def reserve(
    s: AsyncSession, ledger: Ledger, row: MeteredSession, minute: int, now: datetime
) -> ReserveOutcome:
    """Hold minute ``minute`` of ``row``.  Idempotent: a minute held before stays held."""
    if await s.get(Hold, hold_id(row.id, minute)) is not None:
        return ReserveOutcome(True)
    grant = await _grant_for(s, row, now)
    if grant is not None:
        taken = await s.execute(
            update(MinuteGrant)
            .where(
                MinuteGrant.id == grant.id,
                MinuteGrant.minutes_held + MinuteGrant.minutes_used < MinuteGrant.minutes_total,
            )
            .values(minutes_held=MinuteGrant.minutes_held + 1)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            s.add(
                Hold(
                    id=hold_id(row.id, minute),
                    session_id=row.id,
                    minute=minute,
                    grant_id=grant.id,
                    sources=[],
                    amount_fen=0,
                    created_at=now,
                )
            )
            return ReserveOutcome(True)
    price = row.rate_fen_per_min
    cust = row.customer_id
    have = await balances(s, [accounts.promo(cust), accounts.wallet(cust)])
    month = budget_month(now)
    cap = await monthly_cap(s, cust)
    funding = fund(
        price,
        promo_fen=have[accounts.promo(cust)],
        wallet_fen=have[accounts.wallet(cust)],
        spent_fen=await committed_spend(s, cust, month) if cap is not None else 0,
        cap_fen=cap,
    )
    if funding.refused is not None:
        return ReserveOutcome(False, funding.refused)
    from_promo, from_wallet = funding.from_promo, funding.from_wallet
    try:
        async with s.begin_nested():
            if from_wallet and not await commit_budget(s, cust, month, from_wallet):
                raise _BudgetRefused()
            await ledger.post(
                s,
                TransferSpec(
                    hold_id(row.id, minute),
                    "hold",
                    legs(
                        (accounts.promo(cust), -from_promo),
                        (accounts.wallet(cust), -from_wallet),
                        (accounts.held(cust), price),
                    ),
                    session_id=row.id,
                    minute=minute,
                ),
                now,
            )
    except _BudgetRefused:
        return ReserveOutcome(False, "budget_exceeded")
    except Overdrawn:
        return ReserveOutcome(False, "insufficient_funds")
    sources: list[list[Any]] = [
        [a, v]
        for a, v in ((accounts.promo(cust), from_promo), (accounts.wallet(cust), from_wallet))
        if v
    ]
    s.add(
        Hold(
            id=hold_id(row.id, minute),
            session_id=row.id,
            minute=minute,
            sources=sources,
            amount_fen=price,
            budget_month=month if from_wallet else None,
            created_at=now,
        )
    )
    return ReserveOutcome(True)


class _BudgetRefused(Exception):
    pass


async def _pending_hold(s: AsyncSession, session_id: str, minute: int) -> Hold:
    hold = await s.get(Hold, hold_id(session_id, minute), with_for_update=True)
    if hold is None:
        raise AssertionError(f"minute {minute} of {session_id} has no hold")
    return hold


def package_minute_value(grant: MinuteGrant, package_balance_fen: int) -> int:
    """What one minute of a package is worth: an equal share, the last minute takes the rest.

    Refunds put back exactly what their capture took, so the package's balance always equals
    its price minus the values of the minutes used and never goes below zero.
    """
    if grant.minutes_used + 1 >= grant.minutes_total:
        return package_balance_fen
    return min(grant.price_fen // grant.minutes_total, package_balance_fen)


def _capture_legs(
    row: MeteredSession, hold: Hold, grant: MinuteGrant | None, value: int
) -> tuple[Any, ...]:
    cust, comp = row.customer_id, row.companion_id
    if grant is None:
        part = split(hold.amount_fen, row.commission_bp)
        return legs(
            (accounts.held(cust), -hold.amount_fen),
            (accounts.earn_pending(comp), part.companion_fen),
            (accounts.PLATFORM_REVENUE, part.platform_fen),
        )
    if grant.kind == "companion_package":
        part = split(value, row.commission_bp)
        return legs(
            (accounts.package(grant.id), -value),
            (accounts.earn_pending(comp), part.companion_fen),
            (accounts.PLATFORM_REVENUE, part.platform_fen),
        )
    # Platform-funded minute: the companion earns as if the customer paid their rate.
    share = split(row.rate_fen_per_min, row.commission_bp).companion_fen
    expense = accounts.PROMO_EXPENSE if grant.kind == "coupon" else accounts.SUBSIDY_EXPENSE
    return legs(
        (accounts.package(grant.id), -value),
        (accounts.PLATFORM_REVENUE, value),
        (expense, -share),
        (accounts.earn_pending(comp), share),
    )


async def capture(
    s: AsyncSession, ledger: Ledger, row: MeteredSession, minute: int, now: datetime
) -> int:
    """Capture a held minute; returns the cash+promo fen charged (0 for grant minutes)."""
    hold = await _pending_hold(s, row.id, minute)
    if hold.status == "captured":
        return 0
    assert hold.status == "pending", f"capture of a {hold.status} hold"
    grant = None
    if hold.grant_id is not None:
        grant = await s.get(MinuteGrant, hold.grant_id, with_for_update=True)
        assert grant is not None
    value = 0
    if grant is not None:
        value = package_minute_value(grant, await balance(s, accounts.package(grant.id)))
    spec_legs = _capture_legs(row, hold, grant, value)
    if spec_legs:
        await ledger.post(
            s,
            TransferSpec(
                TransferId(f"capture:{row.id}:{minute}"),
                "capture",
                spec_legs,
                session_id=row.id,
                minute=minute,
            ),
            now,
        )
    if grant is not None:
        grant.minutes_held -= 1
        grant.minutes_used += 1
    hold.status = "captured"
    return hold.amount_fen


async def release(
    s: AsyncSession, ledger: Ledger, row: MeteredSession, minute: int, now: datetime
) -> None:
    hold = await _pending_hold(s, row.id, minute)
    if hold.status != "pending":
        return
    if hold.grant_id is not None:
        grant = await s.get(MinuteGrant, hold.grant_id, with_for_update=True)
        assert grant is not None
        grant.minutes_held -= 1
    else:
        # The budget row before the accounts: every writer's lock order (see ``commit_budget``).
        await _uncommit_budget(s, row.customer_id, hold)
        await ledger.post(
            s,
            TransferSpec(
                TransferId(f"release:{row.id}:{minute}"),
                "release",
                legs(
                    (accounts.held(row.customer_id), -hold.amount_fen),
                    *((AccountId(a), v) for a, v in hold.sources),
                ),
                session_id=row.id,
                minute=minute,
            ),
            now,
        )
    hold.status = "released"


async def refund_minute(
    s: AsyncSession, ledger: Ledger, row: MeteredSession, minute: int, now: datetime
) -> int:
    """Reverse a captured minute the final connected time does not owe; returns cash fen."""
    hold = await _pending_hold(s, row.id, minute)
    if hold.status != "captured":
        return 0
    capture_legs = await _legs_of(s, f"capture:{row.id}:{minute}")
    reverse: list[tuple[AccountId, int]] = []
    for account, amount in capture_legs:
        if account == accounts.held(row.customer_id):
            # Back to where the money came from rather than to the (now empty) hold.
            reverse.extend((AccountId(a), v) for a, v in hold.sources)
        else:
            reverse.append((AccountId(account), -amount))
    if hold.grant_id is not None:
        grant = await s.get(MinuteGrant, hold.grant_id, with_for_update=True)
        assert grant is not None
        grant.minutes_used -= 1
    await _uncommit_budget(s, row.customer_id, hold)  # the budget row first: the lock order
    await ledger.post(
        s,
        TransferSpec(
            TransferId(f"refund:{row.id}:minute:{minute}"),
            "refund",
            legs(*reverse),
            session_id=row.id,
            minute=minute,
        ),
        now,
    )
    hold.status = "refunded"
    return hold.amount_fen


async def _legs_of(s: AsyncSession, transfer_id: str) -> list[tuple[str, int]]:
    rows = (
        await s.execute(
            select(Entry.account_id, Entry.amount_fen).where(Entry.transfer_id == transfer_id)
        )
    ).all()
    return [(r[0], int(r[1])) for r in rows]


async def _uncommit_budget(s: AsyncSession, user_id: str, hold: Hold) -> None:
    cash = sum(v for a, v in hold.sources if accounts.kind_of(a) == "wallet")
    if cash and hold.budget_month:
        await s.execute(
            update(BudgetMonth)
            .where(BudgetMonth.user_id == user_id, BudgetMonth.month == hold.budget_month)
            .values(committed_fen=BudgetMonth.committed_fen - cash)
        )
