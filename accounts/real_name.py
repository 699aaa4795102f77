"""Real-name verification: the provider checks a name against an ID number; the result is kept
sealed (``peiliao.crypto``), masked for display, with only the 18th birthday in clear.

Customers verify before their first payment, companions before applying; minors can neither
pay nor become companions.  Attempts are capped per day (each one costs a provider call and
could be used to probe whose ID a number is); one ID number verifies at most one account.

``SandboxProvider`` answers as the real service would for well-formed input: it checks the
GB 11643 check character and birth date and the name's form.  A real provider (Aliyun's or
Tencent's ID two-element check) implements the same ``verify``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts import idcard
from kernel.clock import Clock
from kernel.crypto import Sealer
from kernel.errors import CodedError
from store import Database
from store.models import RealName, RealNameAttempt


@dataclass(frozen=True, slots=True)
class ProviderResult:
    match: bool
    reason: str  # ok | id_invalid | name_invalid | mismatch
    ref: str


class RealNameProvider(Protocol):
    name: str

    async def verify(self, name: str, id_number: str) -> ProviderResult: ...


class SandboxProvider:
    name = "sandbox"

    async def verify(self, name: str, id_number: str) -> ProviderResult:
        ref = "sbx_" + secrets.token_hex(8)
        if not idcard.valid(id_number):
            return ProviderResult(False, "id_invalid", ref)
        if not idcard.valid_name(name):
            return ProviderResult(False, "name_invalid", ref)
        return ProviderResult(True, "ok", ref)


@dataclass(frozen=True, slots=True)
class RealNameView:
    verified: bool
    name_masked: str | None = None
    id_number_masked: str | None = None
    adult: bool | None = None


class RealNameService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        sealer: Sealer,
        provider: RealNameProvider,
        secret: str,
        attempts_per_day: int = 5,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer
        self._provider = provider
        self._secret = secret.encode()
        self._attempts = attempts_per_day

    def _hash(self, id_number: str) -> str:
        return hmac.new(self._secret, b"id:" + id_number.encode(), hashlib.sha256).hexdigest()

    async def view(self, user_id: str) -> RealNameView:
        async with self._db.reading() as s:
            row = await s.get(RealName, user_id)
        if row is None:
            return RealNameView(False)
        return RealNameView(
            True, row.name_masked, row.id_number_masked, self._clock.now().date() >= row.adult_from
        )

    async def verify(self, user_id: str, name: str, id_number: str) -> RealNameView:
        name, id_number = name.strip(), idcard.normalize(id_number)
        now = self._clock.now()
        async with self._db.reading() as s:
            if await s.get(RealName, user_id) is not None:
                raise CodedError("already_verified", "your real name is verified already")
            tried = await s.scalar(
                select(func.count())
                .select_from(RealNameAttempt)
                .where(
                    RealNameAttempt.user_id == user_id,
                    RealNameAttempt.at > now - timedelta(days=1),
                )
            )
            if (tried or 0) >= self._attempts:
                raise CodedError("too_many_attempts", "too many attempts today: try again tomorrow")
            taken = await s.scalar(
                select(RealName.user_id).where(RealName.id_number_hash == self._hash(id_number))
            )
        if taken is not None:
            await self._attempt(user_id, ok=False)
            raise CodedError("id_in_use", "this ID number verifies another account already")
        result = await self._provider.verify(name, id_number)
        await self._attempt(user_id, ok=result.match)
        if not result.match:
            raise CodedError(
                "real_name_mismatch",
                {
                    "id_invalid": "the ID number is not valid",
                    "name_invalid": "the name is not a valid name",
                }.get(result.reason, "the name does not match the ID number"),
                reason=result.reason,
            )
        context = f"real_name:{user_id}"
        row = RealName(
            user_id=user_id,
            name_sealed=self._sealer.seal(name, context + ":name"),
            id_number_sealed=self._sealer.seal(id_number, context + ":id"),
            id_number_hash=self._hash(id_number),
            name_masked=idcard.mask_name(name),
            id_number_masked=idcard.mask(id_number),
            adult_from=idcard.adult_from(id_number),
            provider=self._provider.name,
            provider_ref=result.ref,
            verified_at=now,
        )
        try:
            async with self._db.writing() as s:
                s.add(row)
        except IntegrityError:
            # Checked above, but another request verified this account or this ID meanwhile.
            async with self._db.reading() as s:
                mine = await s.get(RealName, user_id)
            if mine is not None:
                raise CodedError("already_verified", "your real name is verified already") from None
            raise CodedError(
                "id_in_use", "this ID number verifies another account already"
            ) from None
        return RealNameView(
            True, row.name_masked, row.id_number_masked, now.date() >= row.adult_from
        )

    async def _attempt(self, user_id: str, *, ok: bool) -> None:
        async with self._db.writing() as s:
            s.add(RealNameAttempt(user_id=user_id, ok=ok, at=self._clock.now()))

    async def require_adult(self, user_id: str, doing: str) -> None:
        """Refuse ``doing`` ("paying", "applying to be a companion") without a verified adult
        real name."""
        v = await self.view(user_id)
        if not v.verified:
            raise CodedError(
                "real_name_required",
                f"verify your real name before {doing} (PUT /api/me/real-name)",
            )
        if not v.adult:
            raise CodedError("minor_not_allowed", f"under-18s are not allowed {doing}")

    async def reveal(self, user_id: str) -> tuple[str, str] | None:
        """The clear name and ID number, for the provider or a court order; never for display."""
        async with self._db.reading() as s:
            row = await s.get(RealName, user_id)
        if row is None:
            return None
        context = f"real_name:{user_id}"
        return (
            self._sealer.open(row.name_sealed, context + ":name"),
            self._sealer.open(row.id_number_sealed, context + ":id"),
        )
