"""A booking's money, posted to the metering ledger inside the caller's transaction.

Transfers (their ids are the idempotency keys):

- ``booking-hold:{id}`` (kind ``booking_hold``): wallet → ``booking_hold:{id}``; counts against
  the customer's monthly budget cap like a session's held minutes.
- ``booking-release:{id}`` (``booking_release``): what the customer gets back → wallet (and off
  the budget).
- ``booking-fee:{id}`` (``booking_fee``): a late-cancellation or no-show fee → the companion's
  ``earn_pending`` and the platform's revenue, split by the commission fixed at booking, as a
  session's minute is.
- ``booking-settle:{id}`` (``booking_settle``): after the earnings hold, the companion's part of
  the fee becomes available, as session earnings do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts
from metering.commission import split
from metering.errors import BudgetExceeded, InsufficientFunds
from metering.holds import budget_month, commit_budget
from metering.ids import AccountId, TransferId
from metering.ledger import Ledger, Overdrawn, TransferSpec, balance, legs
from store.models import BudgetMonth
from store.models.bookings import Booking


def _id(kind: str, booking_id: str) -> TransferId:
    return TransferId(f"booking-{kind}:{booking_id}")


async def take_hold(s: AsyncSession, ledger: Ledger, row: Booking, now: datetime) -> None:
    """Move the hold out of the wallet, or raise (the caller's transaction then rolls back)."""
    month = budget_month(now)
    if not await commit_budget(s, row.customer_id, month, row.hold_fen):
        raise BudgetExceeded()
    try:
        await ledger.post(
            s,
            TransferSpec(
                _id("hold", row.id),
                "booking_hold",
                legs(
                    (accounts.wallet(row.customer_id), -row.hold_fen),
                    (accounts.booking_hold(row.id), row.hold_fen),
                ),
                memo={"booking_id": row.id},
            ),
            now,
        )
    except Overdrawn:
        raise InsufficientFunds("your balance does not cover the booking's hold") from None
    row.budget_month = month


async def settle_hold(
    s: AsyncSession, ledger: Ledger, row: Booking, fee_fen: int, now: datetime
) -> None:
    """Pay ``fee_fen`` of the hold to the companion and release the rest to the wallet."""
    assert 0 <= fee_fen <= row.hold_fen
    rest = row.hold_fen - fee_fen
    # The budget row before any account: every writer's lock order (``commit_budget``).
    await _budget(s, row, -rest)
    if fee_fen:
        await _pay_fee(s, ledger, row, accounts.booking_hold(row.id), fee_fen, now)
    if rest:
        await ledger.post(
            s,
            TransferSpec(
                _id("release", row.id),
                "booking_release",
                legs(
                    (accounts.booking_hold(row.id), -rest),
                    (accounts.wallet(row.customer_id), rest),
                ),
                memo={"booking_id": row.id},
            ),
            now,
        )
    row.fee_fen = fee_fen
    row.released_fen = rest


async def fee_from_wallet(
    s: AsyncSession, ledger: Ledger, row: Booking, fee_fen: int, now: datetime
) -> int:
    """A fee owed after the hold went back (the customer cancelled the ring at the slot): taken
    from the wallet, as much of it as the wallet holds.  Returns what was taken."""
    fee = min(fee_fen, await balance(s, accounts.wallet(row.customer_id)))
    if fee <= 0:
        return 0
    try:
        async with s.begin_nested():
            # Released at the slot, spent now: it counts again (the cap allowed it when
            # booked).  The budget row before the wallet: every writer's lock order.
            await _budget(s, row, fee)
            await _pay_fee(s, ledger, row, accounts.wallet(row.customer_id), fee, now)
    except Overdrawn:
        return 0  # spent meanwhile (another transaction): the companion goes without
    row.fee_fen = fee
    return fee


async def _pay_fee(
    s: AsyncSession, ledger: Ledger, row: Booking, source: str, fee_fen: int, now: datetime
) -> None:
    part = split(fee_fen, row.commission_bp)
    await ledger.post(
        s,
        TransferSpec(
            _id("fee", row.id),
            "booking_fee",
            legs(
                (AccountId(source), -fee_fen),
                (accounts.earn_pending(row.companion_id), part.companion_fen),
                (accounts.PLATFORM_REVENUE, part.platform_fen),
            ),
            memo={"booking_id": row.id},
        ),
        now,
    )


async def settle_fee(s: AsyncSession, ledger: Ledger, row: Booking, now: datetime) -> None:
    """Make the companion's part of the fee available (after the earnings hold)."""
    share = split(row.fee_fen, row.commission_bp).companion_fen
    amount = min(share, await balance(s, accounts.earn_pending(row.companion_id)))
    if amount > 0:
        await ledger.post(
            s,
            TransferSpec(
                _id("settle", row.id),
                "booking_settle",
                legs(
                    (accounts.earn_pending(row.companion_id), -amount),
                    (accounts.earn_available(row.companion_id), amount),
                ),
                memo={"booking_id": row.id},
            ),
            now,
        )
    row.fee_settled_at = now


async def _budget(s: AsyncSession, row: Booking, delta_fen: int) -> None:
    if row.budget_month and delta_fen:
        await s.execute(
            update(BudgetMonth)
            .where(BudgetMonth.user_id == row.customer_id, BudgetMonth.month == row.budget_month)
            .values(committed_fen=BudgetMonth.committed_fen + delta_fen)
        )
