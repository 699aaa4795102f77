"""Companion withdrawals: a bound payout account, requests, admin review above a limit, payout.

Money moves as soon as a withdrawal is requested: ``earn_available → payout_pending``, so the
same earnings can never be requested twice.  Small withdrawals are paid at once; larger ones wait
for an admin.  Paying posts ``payout_pending → clearing:payout``; a rejection or a failed payout
posts the reverse, back to ``earn_available``.  Account numbers are encrypted at rest (AES-GCM,
with a key id so keys can rotate) and only ever shown masked.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.standing import EarningsFrozen, restricting
from kernel.clock import Clock
from metering import accounts, earnings
from metering.errors import InvalidAmount, WithdrawalRefused
from metering.ids import TransferId
from metering.ledger import Ledger, Overdrawn, TransferSpec, legs
from store import Database
from store.db import upsert
from store.models import PayoutAccount, Withdrawal

log = structlog.get_logger(__name__)

MIN_WITHDRAWAL_FEN = 100
PAYOUT_METHODS = ("alipay", "wechat", "bank")


class PayoutProvider(Protocol):
    name: str

    async def pay(self, withdrawal_id: str, account: str, amount_fen: int) -> str:
        """Send the money; return the provider's reference, or raise to mark it failed."""
        ...


class SandboxPayouts:
    """Pays nothing: records what it would have sent (dev and tests)."""

    name = "sandbox"

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self.fail_next = False

    async def pay(self, withdrawal_id: str, account: str, amount_fen: int) -> str:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("sandbox payout failure")
        self.sent.append((withdrawal_id, amount_fen))
        return f"PAY{secrets.token_hex(6)}"


class ManualPayouts:
    """Finance pays by hand: every withdrawal waits for an admin, whose approval records that
    the money was sent outside the platform."""

    name = "manual"

    async def pay(self, withdrawal_id: str, account: str, amount_fen: int) -> str:
        return f"manual-{withdrawal_id}"


class Sealer:
    """AES-GCM for values that must be readable again (payout accounts); key id first."""

    def __init__(self, secret_key: str, key_id: str = "k1") -> None:
        self._key_id = key_id
        self._aes = AESGCM(hashlib.sha256(f"payout-accounts:{secret_key}".encode()).digest())

    def seal(self, plain: str) -> str:
        nonce = secrets.token_bytes(12)
        ct = self._aes.encrypt(nonce, plain.encode(), self._key_id.encode())
        return f"{self._key_id}:{base64.b64encode(nonce + ct).decode()}"

    def open(self, sealed: str) -> str:
        key_id, _, blob = sealed.partition(":")
        raw = base64.b64decode(blob)
        return self._aes.decrypt(raw[:12], raw[12:], key_id.encode()).decode()


def mask_account(account: str) -> str:
    tail = account[-4:] if len(account) > 4 else ""
    return f"****{tail}"


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    id: str
    amount_fen: int
    status: str
    reason: str | None
    created_at: datetime | None = None


class Payouts:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ledger: Ledger,
        provider: PayoutProvider,
        sealer: Sealer,
        *,
        review_above_fen: int,
        earnings_hold_s: int = 72 * 3600,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger
        self._provider = provider
        self._sealer = sealer
        self._earnings_hold_s = earnings_hold_s
        # With manual payouts a person sends the money, so a person reviews every withdrawal.
        self._review_above_fen = -1 if provider.name == "manual" else review_above_fen

    async def bind_account(self, user_id: str, method: str, account: str) -> PayoutAccount:
        if method not in PAYOUT_METHODS:
            raise WithdrawalRefused("invalid_payout_method", "alipay, wechat or bank")
        account = account.strip()
        if not (4 <= len(account) <= 64):
            raise WithdrawalRefused("invalid_payout_account", "the account is 4-64 characters")
        now = self._clock.now()
        values = {
            "user_id": user_id,
            "provider": method,
            "account_masked": mask_account(account),
            "account_ref": self._sealer.seal(account),
            "bound_at": now,
        }
        async with self._db.writing() as s:
            await upsert(s, PayoutAccount, values)
        row = PayoutAccount(**values)
        return row

    async def request(self, user_id: str, amount_fen: int) -> WithdrawalView:
        if not isinstance(amount_fen, int) or amount_fen < MIN_WITHDRAWAL_FEN:
            raise InvalidAmount(f"withdraw at least {MIN_WITHDRAWAL_FEN} fen")
        now = self._clock.now()
        wid = f"w_{secrets.token_hex(10)}"
        review = amount_fen > self._review_above_fen
        async with self._db.writing() as s:
            if await s.get(PayoutAccount, user_id) is None:
                raise WithdrawalRefused("no_payout_account", "bind a payout account first")
            frozen = [r for r in await restricting(s, user_id, now) if r.freeze_earnings]
            if frozen:
                # A sanction tied to a case holds the earnings until it ends or is lifted.
                raise EarningsFrozen(max((r.ends_at for r in frozen if r.ends_at), default=None))
            try:
                async with s.begin_nested():
                    await self._ledger.post(
                        s,
                        TransferSpec(
                            TransferId(f"withdraw:{wid}"),
                            "withdraw",
                            legs(
                                (accounts.earn_available(user_id), -amount_fen),
                                (accounts.payout_pending(user_id), amount_fen),
                            ),
                        ),
                        now,
                    )
            except Overdrawn as exc:
                raise await self._refusal(s, user_id, amount_fen) from exc
            s.add(
                Withdrawal(
                    id=wid,
                    user_id=user_id,
                    amount_fen=amount_fen,
                    status="pending_review" if review else "approved",
                    created_at=now,
                )
            )
        log.info("withdrawal_requested", withdrawal_id=wid, amount_fen=amount_fen, review=review)
        if review:
            return WithdrawalView(wid, amount_fen, "pending_review", None, now)
        return await self._pay(wid)

    async def _refusal(self, s: AsyncSession, user_id: str, amount_fen: int) -> WithdrawalRefused:
        """Why ``amount_fen`` cannot be withdrawn, with the figures to say so: the withdrawable
        amount, what is pending and when the next part of it becomes withdrawable."""
        figures = await earnings.balances_of(s, user_id)
        upcoming = await earnings.releases(s, user_id, self._earnings_hold_s)
        dated = [r for r in upcoming if r.at is not None]
        details = {
            "available_fen": figures.available_fen,
            "pending_fen": figures.pending_fen,
            "hold_hours": self._earnings_hold_s // 3600,
            "next_release_at": dated[0].at.isoformat() if dated and dated[0].at else None,
            "next_release_fen": dated[0].amount_fen if dated else 0,
        }
        if amount_fen <= figures.available_fen + figures.pending_fen:
            # The money is there, but part of it is still inside the refund hold.
            return WithdrawalRefused(
                "earnings_on_hold", "part of this is still pending (refund hold)", **details
            )
        return WithdrawalRefused(
            "insufficient_earnings", "more than your available earnings", **details
        )

    async def decide(
        self, withdrawal_id: str, admin_id: str, approve: bool, reason: str
    ) -> WithdrawalView:
        now = self._clock.now()
        async with self._db.writing() as s:
            w = await s.get(Withdrawal, withdrawal_id, with_for_update=True)
            if w is None:
                raise WithdrawalRefused("withdrawal_not_found", "no such withdrawal")
            if w.status != "pending_review":
                raise WithdrawalRefused("withdrawal_decided", f"already {w.status}")
            w.decided_by, w.decided_at, w.reason = admin_id, now, reason[:200]
            if approve:
                w.status = "approved"
            else:
                w.status = "rejected"
                await self._return_funds(s, w, now)
        log.info("withdrawal_decided", withdrawal_id=withdrawal_id, approve=approve)
        if approve:
            return await self._pay(withdrawal_id)
        return WithdrawalView(w.id, w.amount_fen, w.status, w.reason, w.created_at)

    async def _return_funds(self, s: AsyncSession, w: Withdrawal, now: datetime) -> None:
        await self._ledger.post(
            s,
            TransferSpec(
                TransferId(f"withdraw-return:{w.id}"),
                "withdraw_return",
                legs(
                    (accounts.payout_pending(w.user_id), -w.amount_fen),
                    (accounts.earn_available(w.user_id), w.amount_fen),
                ),
            ),
            now,
        )

    async def _pay(self, withdrawal_id: str) -> WithdrawalView:
        async with self._db.reading() as s:
            w = await s.get(Withdrawal, withdrawal_id)
            account = await s.get(PayoutAccount, w.user_id) if w else None
        assert w is not None and account is not None
        try:
            ref = await self._provider.pay(
                w.id, self._sealer.open(account.account_ref), w.amount_fen
            )
        except Exception as exc:
            log.warning("payout_failed", withdrawal_id=w.id, error=type(exc).__name__)
            now = self._clock.now()
            async with self._db.writing() as s:
                row = await s.get(Withdrawal, w.id, with_for_update=True)
                assert row is not None
                if row.status == "approved":
                    row.status, row.reason = "failed", "payout provider refused; funds returned"
                    await self._return_funds(s, row, now)
            return WithdrawalView(
                w.id, w.amount_fen, "failed", "payout provider refused", w.created_at
            )
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Withdrawal, w.id, with_for_update=True)
            assert row is not None
            await self._ledger.post(
                s,
                TransferSpec(
                    TransferId(f"payout:{w.id}"),
                    "payout",
                    legs(
                        (accounts.payout_pending(w.user_id), -w.amount_fen),
                        (accounts.clearing(f"payout_{self._provider.name}"), w.amount_fen),
                    ),
                    memo={"ref": ref},
                ),
                now,
            )
            row.status = "paid"
        log.info("withdrawal_paid", withdrawal_id=w.id, amount_fen=w.amount_fen)
        return WithdrawalView(w.id, w.amount_fen, "paid", None, w.created_at)

    async def account(self, user_id: str) -> PayoutAccount | None:
        """The bound payout account (its number only masked), or ``None``."""
        async with self._db.reading() as s:
            return await s.get(PayoutAccount, user_id)

    async def list(
        self, *, user_id: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[WithdrawalView]:
        stmt = select(Withdrawal).order_by(Withdrawal.created_at.desc()).limit(limit)
        if user_id is not None:
            stmt = stmt.where(Withdrawal.user_id == user_id)
        if status is not None:
            stmt = stmt.where(Withdrawal.status == status)
        async with self._db.reading() as s:
            rows = (await s.execute(stmt)).scalars().all()
        return [WithdrawalView(w.id, w.amount_fen, w.status, w.reason, w.created_at) for w in rows]
