"""After a session: refunds as reversing entries, and settling the companion's earnings once the
hold period has passed (``earn_pending → earn_available``).  Each function runs inside the
service's transaction, on a session row the service has locked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts
from metering.commission import split
from metering.errors import RefundTooLarge, RefundUncovered, SessionNotEnded
from metering.figures import session_net
from metering.ids import TransferId
from metering.ledger import Ledger, Overdrawn, TransferSpec, balances, legs
from store.models import MeteredSession, Transfer


async def refund(
    s: AsyncSession,
    ledger: Ledger,
    row: MeteredSession,
    amount_fen: int,
    *,
    key: str,
    reason: str,
    now: datetime,
) -> bool:
    """Post the refund of ``amount_fen`` of an ended session; False if ``key`` was already
    refunded (nothing written).

    The companion's share and the platform's commission are reversed in proportion to what
    they received; the money goes back to the wallet and promo balance in proportion to how
    it was paid."""
    transfer_id = TransferId(f"refund:{row.id}:{key}")
    if await s.get(Transfer, transfer_id) is not None:
        return False
    if row.status != "ended":
        raise SessionNotEnded()
    refundable = row.charged_fen - row.refunded_fen
    if amount_fen > refundable:
        raise RefundTooLarge(refundable_fen=refundable)
    # Every cash minute of a session has the same price and split, so the per-minute
    # split is the proportion in which platform and companion received the money.
    # Cumulative, so that partial refunds add up to exactly each share: the platform gives back
    # floor(refunded so far × its share) less what it already gave back (rounding each refund
    # on its own took 119 + 0 of a 120-fen commission back for refunds of 399 and 1 fen).
    per_minute = split(row.rate_fen_per_min, row.commission_bp)

    def platform_of(refunded_fen: int) -> int:
        return refunded_fen * per_minute.platform_fen // row.rate_fen_per_min

    platform_part = platform_of(row.refunded_fen + amount_fen) - platform_of(row.refunded_fen)
    companion_part = amount_fen - platform_part
    # Promo credit this session still holds: spent minus already refunded.
    promo_net = -await session_net(s, row.id, accounts.promo(row.customer_id))
    promo_part = amount_fen * promo_net // max(1, refundable)
    wallet_part = amount_fen - promo_part
    pending = (await balances(s, [accounts.earn_pending(row.companion_id)]))[
        accounts.earn_pending(row.companion_id)
    ]
    from_pending = min(companion_part, pending)
    from_available = companion_part - from_pending
    try:
        async with s.begin_nested():
            await ledger.post(
                s,
                TransferSpec(
                    transfer_id,
                    "refund",
                    legs(
                        (accounts.earn_pending(row.companion_id), -from_pending),
                        (accounts.earn_available(row.companion_id), -from_available),
                        (accounts.PLATFORM_REVENUE, -platform_part),
                        (accounts.wallet(row.customer_id), wallet_part),
                        (accounts.promo(row.customer_id), promo_part),
                    ),
                    session_id=row.id,
                    memo={"reason": reason[:200]},
                ),
                now,
            )
    except Overdrawn as exc:
        raise RefundUncovered() from exc
    row.refunded_fen += amount_fen
    return True


async def due(s: AsyncSession, cutoff: datetime, limit: int) -> list[str]:
    """Sessions ended at or before ``cutoff`` whose earnings are not settled yet."""
    ids = await s.scalars(
        select(MeteredSession.id)
        .where(
            MeteredSession.status == "ended",
            MeteredSession.settled_at.is_(None),
            MeteredSession.ended_at <= cutoff,
        )
        .limit(limit)
    )
    return list(ids.all())


async def settle(s: AsyncSession, ledger: Ledger, row: MeteredSession, now: datetime) -> None:
    """Make the session's earnings available (what is still pending of them) and mark it
    settled."""
    pending_account = accounts.earn_pending(row.companion_id)
    net = await session_net(s, row.id, pending_account)
    pending = (await balances(s, [pending_account]))[pending_account]
    amount = min(net, pending)
    if amount > 0:
        await ledger.post(
            s,
            TransferSpec(
                TransferId(f"settle:{row.id}"),
                "settle",
                legs(
                    (pending_account, -amount),
                    (accounts.earn_available(row.companion_id), amount),
                ),
                session_id=row.id,
            ),
            now,
        )
    row.settled_at = now
