"""Money in: top-ups (credited once per merchant order), packages, the new-user trial coupon."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from metering import accounts
from metering.errors import (
    BudgetExceeded,
    CouponUsed,
    InsufficientFunds,
    InvalidAmount,
    OfferRefused,
    OrderNotFound,
    PackageNotFound,
    PaymentRejected,
    RatesNotSet,
)
from metering.holds import budget_month, commit_budget
from metering.ids import TransferId
from metering.ledger import Ledger, Overdrawn, TransferSpec, balances, legs
from metering.tariff import BASE_BOUNDS, Level, Mode, Rates
from store import Database
from store.models import CompanionRate, CouponRedemption, MinuteGrant, PackageOffer, PaymentOrder

log = structlog.get_logger(__name__)

MIN_TOPUP_FEN = 100
MAX_TOPUP_FEN = 5_000_000
#: the minutes a companion's package may hold
PACKAGE_MIN_MINUTES = 10
PACKAGE_MAX_MINUTES = 3000


@dataclass(frozen=True, slots=True)
class CatalogPackage:
    code: str
    mode: Mode
    minutes: int
    price_fen: int
    valid_days: int


#: Platform minute packages (e.g. 60 voice minutes for 45.00 CNY), used before wallet money.
PLATFORM_PACKAGES: dict[str, CatalogPackage] = {
    p.code: p
    for p in (
        CatalogPackage("text-120", Mode.TEXT, 120, 6000, 30),
        CatalogPackage("voice-60", Mode.VOICE, 60, 4500, 30),
        CatalogPackage("voice-300", Mode.VOICE, 300, 19900, 90),
        CatalogPackage("video-30", Mode.VIDEO, 30, 4500, 30),
    )
}

COMPANION_PACKAGE_DAYS = {"weekly": 7, "monthly": 30}

#: The new-user trial: free voice minutes, funded by the platform; one per account.
TRIAL_MINUTES = 3
TRIAL_MODE = Mode.VOICE
TRIAL_VALID_DAYS = 14
#: The alternative trial: an amount off any session, as promo balance.
TRIAL_AMOUNT_FEN = 1000


@dataclass(frozen=True, slots=True)
class Balance:
    wallet_fen: int
    promo_fen: int
    held_fen: int


class Wallets:
    def __init__(self, db: Database, clock: Clock, ledger: Ledger) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger

    async def balance(self, user_id: str) -> Balance:
        async with self._db.reading() as s:
            b = await balances(
                s, [accounts.wallet(user_id), accounts.promo(user_id), accounts.held(user_id)]
            )
        return Balance(
            b[accounts.wallet(user_id)], b[accounts.promo(user_id)], b[accounts.held(user_id)]
        )

    # -- top-ups --------------------------------------------------------------------------------

    async def create_order(
        self, order_id: str, user_id: str, provider: str, amount_fen: int
    ) -> PaymentOrder:
        if not isinstance(amount_fen, int) or not (MIN_TOPUP_FEN <= amount_fen <= MAX_TOPUP_FEN):
            raise InvalidAmount(
                f"a top-up is {MIN_TOPUP_FEN}..{MAX_TOPUP_FEN} fen",
                min_fen=MIN_TOPUP_FEN,
                max_fen=MAX_TOPUP_FEN,
            )
        order = PaymentOrder(
            id=order_id,
            user_id=user_id,
            provider=provider,
            amount_fen=amount_fen,
            status="created",
            created_at=self._clock.now(),
        )
        async with self._db.writing() as s:
            s.add(order)
        return order

    async def order(self, order_id: str) -> PaymentOrder:
        async with self._db.reading() as s:
            order = await s.get(PaymentOrder, order_id)
        if order is None:
            raise OrderNotFound()
        return order

    async def credit_paid_order(
        self, order_id: str, *, provider: str, amount_fen: int, trade_no: str
    ) -> tuple[PaymentOrder, bool]:
        """Credit a verified payment once.  Returns the order and whether this call credited it.

        The amount and provider must match the order exactly; a mismatch credits nothing.
        """
        now = self._clock.now()
        async with self._db.writing() as s:
            order = await s.get(PaymentOrder, order_id, with_for_update=True)
            if order is None:
                raise OrderNotFound()
            if order.provider != provider or order.amount_fen != amount_fen:
                log.warning(
                    "payment_mismatch",
                    order_id=order_id,
                    provider=provider,
                    expected_fen=order.amount_fen,
                    notified_fen=amount_fen,
                )
                raise PaymentRejected("the notification does not match the order")
            credited = await self._ledger.post(
                s,
                TransferSpec(
                    TransferId(f"topup:{order_id}"),
                    "topup",
                    legs(
                        (accounts.clearing(provider), -amount_fen),
                        (accounts.wallet(order.user_id), amount_fen),
                    ),
                    memo={"trade_no": trade_no[:64]},
                ),
                now,
            )
            if credited:
                order.status, order.paid_at, order.provider_trade_no = "paid", now, trade_no[:64]
        if credited:
            log.info("topup_credited", order_id=order_id, amount_fen=amount_fen)
        return order, credited

    # -- packages and coupons -------------------------------------------------------------------

    async def buy_package(self, user_id: str, code: str, grant_id: str) -> MinuteGrant:
        offer = PLATFORM_PACKAGES.get(code)
        if offer is None:
            raise PackageNotFound()
        now = self._clock.now()
        grant = MinuteGrant(
            id=grant_id,
            user_id=user_id,
            kind="platform_package",
            mode=offer.mode.value,
            minutes_total=offer.minutes,
            price_fen=offer.price_fen,
            expires_at=now + timedelta(days=offer.valid_days),
            created_at=now,
        )
        async with self._db.writing() as s:
            existing = await s.get(MinuteGrant, grant_id)
            if existing is not None:  # a retry of the same purchase
                return existing
            await self._sell(s, grant, {"code": code}, now)
        return grant

    # -- packages companions sell -----------------------------------------------------------------

    async def create_offer(
        self, companion_id: str, *, kind: str, mode: Mode, minutes: int, price_fen: int
    ) -> PackageOffer:
        """A senior or gold companion offers ``minutes`` of ``mode`` for a week or a month.

        The price may not exceed paying per minute at the companion's own rate, nor fall below
        the platform's minimum rate for the mode.
        """
        if kind not in COMPANION_PACKAGE_DAYS:
            raise InvalidAmount("a companion package is weekly or monthly")
        if not (PACKAGE_MIN_MINUTES <= minutes <= PACKAGE_MAX_MINUTES):
            raise InvalidAmount(
                f"a companion package is {PACKAGE_MIN_MINUTES}-{PACKAGE_MAX_MINUTES} minutes"
            )
        async with self._db.writing() as s:
            rates = await s.get(CompanionRate, companion_id)
            if rates is None:
                raise RatesNotSet()
            if rates.level not in (Level.SENIOR.value, Level.GOLD.value):
                raise OfferRefused("level_too_low", "senior and gold companions sell packages")
            rate = Rates(
                rates.text_fen_per_min, rates.voice_fen_per_min, rates.video_fen_per_min
            ).for_mode(mode)
            floor = BASE_BOUNDS[mode].min_fen * minutes
            if not (floor <= price_fen <= rate * minutes):
                raise OfferRefused(
                    "offer_price_out_of_bounds",
                    f"price must be {floor}..{rate * minutes} fen for {minutes} minutes",
                )
            offer = PackageOffer(
                id=f"po_{secrets.token_hex(8)}",
                companion_id=companion_id,
                kind=kind,
                mode=mode.value,
                minutes=minutes,
                price_fen=price_fen,
                active=True,
                created_at=self._clock.now(),
            )
            s.add(offer)
        return offer

    async def offers(self, companion_id: str) -> list[PackageOffer]:
        async with self._db.reading() as s:
            rows = await s.execute(
                select(PackageOffer).where(
                    PackageOffer.companion_id == companion_id, PackageOffer.active.is_(True)
                )
            )
            return list(rows.scalars())

    async def buy_offer(self, user_id: str, offer_id: str, grant_id: str) -> MinuteGrant:
        now = self._clock.now()
        async with self._db.writing() as s:
            offer = await s.get(PackageOffer, offer_id)
            if offer is None or not offer.active:
                raise PackageNotFound()
            if offer.companion_id == user_id:
                raise OfferRefused("own_offer", "companions cannot buy their own packages")
            grant = MinuteGrant(
                id=grant_id,
                user_id=user_id,
                kind="companion_package",
                mode=offer.mode,
                companion_id=offer.companion_id,
                minutes_total=offer.minutes,
                price_fen=offer.price_fen,
                created_at=now,
                expires_at=now + timedelta(days=COMPANION_PACKAGE_DAYS[offer.kind]),
            )
            await self._sell(s, grant, {"offer": offer_id}, now)
        return grant

    async def _sell(
        self, s: AsyncSession, grant: MinuteGrant, memo: dict[str, str], now: datetime
    ) -> None:
        """Charge a package to the buyer's wallet inside ``s``: within the monthly budget,
        never below zero, keyed by the grant."""
        if not await commit_budget(s, grant.user_id, budget_month(now), grant.price_fen):
            raise BudgetExceeded()
        s.add(grant)
        await s.flush()
        try:
            await self._ledger.post(
                s,
                TransferSpec(
                    TransferId(f"package:{grant.id}"),
                    "package",
                    legs(
                        (accounts.wallet(grant.user_id), -grant.price_fen),
                        (accounts.package(grant.id), grant.price_fen),
                    ),
                    memo=memo,
                ),
                now,
            )
        except Overdrawn as exc:
            raise InsufficientFunds() from exc

    async def redeem_trial(self, user_id: str, kind: str) -> str:
        """The one new-user trial coupon: ``minutes`` (free voice minutes) or ``amount``.

        One per account whatever the kind, safe under concurrent redemption: both kinds write
        the same idempotency key, so only one transaction can commit it.
        """
        if kind not in ("minutes", "amount"):
            raise InvalidAmount("the trial is 'minutes' or 'amount'")
        now = self._clock.now()
        async with self._db.writing() as s:
            insert = (
                postgresql.insert if s.get_bind().dialect.name == "postgresql" else (sqlite.insert)
            )
            claimed = await s.execute(
                insert(CouponRedemption)
                .values(user_id=user_id, coupon="trial", kind=kind, redeemed_at=now)
                .on_conflict_do_nothing()
                .returning(CouponRedemption.user_id)
            )
            if claimed.scalar_one_or_none() is None:
                raise CouponUsed()
            if kind == "minutes":
                s.add(
                    MinuteGrant(
                        id=f"g_trial_{user_id}",
                        user_id=user_id,
                        kind="coupon",
                        mode=TRIAL_MODE.value,
                        minutes_total=TRIAL_MINUTES,
                        price_fen=0,
                        expires_at=now + timedelta(days=TRIAL_VALID_DAYS),
                        created_at=now,
                    )
                )
            else:
                await self._ledger.post(
                    s,
                    TransferSpec(
                        TransferId(f"coupon:trial:{user_id}"),
                        "coupon",
                        legs(
                            (accounts.PROMO_EXPENSE, -TRIAL_AMOUNT_FEN),
                            (accounts.promo(user_id), TRIAL_AMOUNT_FEN),
                        ),
                    ),
                    now,
                )
        log.info("trial_redeemed", user_id=user_id, kind=kind)
        return kind

    async def grants(self, user_id: str) -> list[MinuteGrant]:
        async with self._db.reading() as s:
            rows = await s.execute(
                select(MinuteGrant)
                .where(MinuteGrant.user_id == user_id)
                .order_by(MinuteGrant.created_at)
            )
            return list(rows.scalars())
