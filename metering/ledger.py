"""Posting transfers to the double-entry ledger.

``post`` writes one immutable transfer and its legs in the caller's transaction:

1. ``INSERT … ON CONFLICT DO NOTHING`` of the transfer row, whose id is the idempotency key.
   Nothing inserted means it was posted before: a no-op, and ``post`` returns ``False``.
2. For each leg, in account-id order (one lock order for every writer, so PostgreSQL never
   deadlocks two transfers on the same accounts): a conditional
   ``UPDATE ledger_accounts SET balance_fen = balance_fen + :d WHERE id = :a AND (NOT no_negative
   OR balance_fen + :d >= 0)``.  No row updated means the account would go below zero:
   :class:`Overdrawn` is raised and the caller's transaction (or savepoint) rolls back.
3. The entries.

Callers that want to continue after an overdraft open a savepoint (``session.begin_nested()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts
from metering.ids import AccountId, TransferId
from store.models import Entry, LedgerAccount, Transfer


class Overdrawn(Exception):
    def __init__(self, account: str) -> None:
        super().__init__(f"{account} would go below zero")
        self.account = account


@dataclass(frozen=True, slots=True)
class Leg:
    account: AccountId
    amount_fen: int


@dataclass(frozen=True, slots=True)
class TransferSpec:
    id: TransferId
    kind: str
    legs: tuple[Leg, ...]
    session_id: str | None = None
    minute: int | None = None
    memo: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.legs) < 2:
            raise ValueError("a transfer has at least two legs")
        if any(not isinstance(leg.amount_fen, int) or leg.amount_fen == 0 for leg in self.legs):
            raise ValueError("every leg moves a non-zero whole number of fen")
        if sum(leg.amount_fen for leg in self.legs) != 0:
            raise ValueError(f"transfer {self.id} does not balance")


def legs(*pairs: tuple[AccountId, int]) -> tuple[Leg, ...]:
    """Legs from (account, amount) pairs, merging repeats and dropping zeros."""
    merged: dict[AccountId, int] = {}
    for account, amount in pairs:
        merged[account] = merged.get(account, 0) + amount
    return tuple(Leg(a, v) for a, v in merged.items() if v != 0)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class Ledger:
    """Posts transfers.  Remembers which accounts exist to skip their creation next time."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    async def ensure_accounts(self, session: AsyncSession, ids: Iterable[str]) -> None:
        missing = sorted(set(ids) - self._known)
        if not missing:
            return
        rows = [
            {
                "id": a,
                "kind": accounts.kind_of(a),
                "user_id": accounts.owner_of(a),
                "no_negative": accounts.no_negative(a),
                "balance_fen": 0,
            }
            for a in missing
        ]
        await session.execute(_insert(session)(LedgerAccount).values(rows).on_conflict_do_nothing())
        self._known.update(missing)

    def forget(self) -> None:
        self._known.clear()

    @staticmethod
    async def _apply_leg(session: AsyncSession, leg: Leg) -> bool:
        result = await session.execute(
            update(LedgerAccount)
            .where(
                LedgerAccount.id == leg.account,
                (LedgerAccount.no_negative.is_(False))
                | (LedgerAccount.balance_fen + leg.amount_fen >= 0),
            )
            .values(balance_fen=LedgerAccount.balance_fen + leg.amount_fen)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def post(self, session: AsyncSession, spec: TransferSpec, now: datetime) -> bool:
        """Post ``spec``; ``False`` if a transfer with its id exists (idempotent retry)."""
        await self.ensure_accounts(session, (leg.account for leg in spec.legs))
        created = await session.execute(
            _insert(session)(Transfer)
            .values(
                id=spec.id,
                kind=spec.kind,
                session_id=spec.session_id,
                minute=spec.minute,
                created_at=now,
                memo=dict(spec.memo),
            )
            .on_conflict_do_nothing()
            .returning(Transfer.id)
        )
        if created.scalar_one_or_none() is None:
            return False
        for leg in sorted(spec.legs, key=lambda leg_: leg_.account):
            if not await self._apply_leg(session, leg):
                # Not necessarily an overdraft: the cache may name an account whose creating
                # transaction rolled back, or (PostgreSQL) one another transaction created and
                # had not committed when our UPDATE looked.  Create-or-wait, then try once more;
                # INSERT … ON CONFLICT waits for a concurrent inserter to finish.
                self._known.discard(leg.account)
                await self.ensure_accounts(session, [leg.account])
                if not await self._apply_leg(session, leg):
                    raise Overdrawn(leg.account)
        await session.execute(
            insert(Entry),
            [
                {"transfer_id": spec.id, "account_id": leg.account, "amount_fen": leg.amount_fen}
                for leg in spec.legs
            ],
        )
        return True


async def balance(session: AsyncSession, account: str) -> int:
    value = (
        await session.execute(select(LedgerAccount.balance_fen).where(LedgerAccount.id == account))
    ).scalar_one_or_none()
    return int(value or 0)


async def balances(session: AsyncSession, ids: Iterable[str]) -> dict[str, int]:
    wanted = list(ids)
    rows = (
        await session.execute(
            select(LedgerAccount.id, LedgerAccount.balance_fen).where(LedgerAccount.id.in_(wanted))
        )
    ).all()
    found = {r[0]: int(r[1]) for r in rows}
    return {a: found.get(a, 0) for a in wanted}
