"""Metering fixtures: the service and wallets on the parametrized database, users, money."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from kernel.clock import FakeClock
from metering.check import check_ledger
from metering.service import MeteringService
from metering.tariff import Level, Rates
from metering.wallet import Wallets
from store import Database
from store.models import User
from tests.harness.rig import make_rig, rig


@dataclass
class Money:
    db: Database
    clock: FakeClock
    metering: MeteringService
    wallets: Wallets

    async def user(self, role: str = "customer") -> str:
        uid = f"u_{secrets.token_hex(6)}"
        now = self.clock.now()
        async with self.db.writing() as s:
            s.add(
                User(
                    id=uid,
                    phone=f"1{secrets.randbelow(10**10):010d}"[:11],
                    role=role,
                    nickname="t",
                    tags=[],
                    avatar_version=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        return uid

    async def companion(
        self, text: int = 100, voice: int = 300, video: int = 600, level: Level = Level.NEWCOMER
    ) -> str:
        uid = await self.user("companion")
        await self.metering.set_rates(uid, Rates(text, voice, video), level=level)
        return uid

    async def fund(self, user_id: str, fen: int) -> None:
        order_id = f"o_{secrets.token_hex(6)}"
        await self.wallets.create_order(order_id, user_id, "sandbox", fen)
        await self.wallets.credit_paid_order(
            order_id, provider="sandbox", amount_fen=fen, trade_no="t"
        )

    async def check(self) -> None:
        report = await check_ledger(self.db)
        assert report.ok, report.to_json()


@pytest.fixture
def money(db: Database, clock: FakeClock) -> Money:
    ms = MeteringService(db, clock)
    return Money(db, clock, ms, Wallets(db, clock, ms.ledger))


__all__ = ["make_rig", "rig"]  # the whole app on a loopback server (tests/signaling)
