"""Review findings on refunds of one session from several sources (the fair service, an appeal,
an admin): together never more than the session charged, and each side gives back exactly what
it received of the session."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kernel.clock import FakeClock
from metering import accounts
from metering.check import check_ledger
from metering.figures import session_net
from signaling.keys import FAIR
from store.models import MeteredSession
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, make_rig

__all__ = ["make_rig"]
from tests.market.appeals.helpers import appeal, json_of

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]

CHARGED = 400  # 181 s of text at 100 fen/min: 4 minutes


@pytest.fixture
async def rig(make_rig: RigFactory, clock: FakeClock) -> AsyncIterator[Rig]:
    async with make_rig(clock, fair_enabled=True) as rig:
        yield rig


async def unanswered_session(rig: Rig) -> tuple[Person, Person, str]:
    """A 4-minute text session the companion never answered, judged by nobody yet (the fair
    service is switched off while it ends, on again after)."""
    fair = rig.app[FAIR]
    rule = fair.rule
    fair.rule = dataclasses.replace(rule, enabled=False)
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text", fund_fen=10_000)
    await cust_sock.ok("chat:send", {"call_id": call_id, "client_id": "m-000001", "text": "在吗"})
    rig.clock.advance(181)
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    await cust_sock.sio.disconnect()
    await comp_sock.sio.disconnect()
    fair.rule = rule
    return cust, comp, call_id


async def money_of_session(rig: Rig, sid: str, comp: Person) -> dict[str, int]:
    async with rig.db.reading() as s:
        row = await s.get(MeteredSession, sid)
        assert row is not None
        return {
            "charged": row.charged_fen,
            "refunded": row.refunded_fen,
            "companion": await session_net(s, sid, accounts.earn_pending(comp.user_id))
            + await session_net(s, sid, accounts.earn_available(comp.user_id)),
            "platform": await session_net(s, sid, accounts.PLATFORM_REVENUE),
            "wallet": await session_net(s, sid, accounts.wallet(row.customer_id))
            + await session_net(s, sid, accounts.promo(row.customer_id)),
        }


async def test_fair_appeal_and_admin_refunds_at_once_never_exceed_the_charge(rig: Rig) -> None:
    cust, comp, sid = await unanswered_session(rig)
    made = await json_of(await appeal(rig, cust, sid), 201)
    admin = await rig.person("admin")

    async def admin_refund() -> Any:
        return await rig.http.post(
            f"/api/admin/sessions/{sid}/refunds",
            json={"amount_fen": CHARGED - 1, "key": "review1", "reason": "客服补偿"},
            headers=bearer(admin.token),
        )

    async def appeal_refund() -> Any:
        return await rig.http.post(
            f"/api/admin/appeals/{made['id']}/decision",
            json={"outcome": "full", "reason": "属实"},
            headers=bearer(admin.token),
        )

    await asyncio.gather(rig.app[FAIR].assess(sid), admin_refund(), appeal_refund())
    money = await money_of_session(rig, sid, comp)
    assert money["refunded"] <= money["charged"] == CHARGED, money
    assert money["wallet"] == -(CHARGED - money["refunded"]), money
    report = await check_ledger(rig.db)
    assert report.ok, report.to_json()


async def test_two_partial_refunds_of_a_whole_session_take_back_exactly_each_share(
    rig: Rig,
) -> None:
    """Each refund reverses ``floor(amount × platform share)`` from the platform and the rest
    from the companion, independently: 399 then 1 fen of a 400-fen session takes 119 + 0 from
    the platform (it received 120) and 280 + 1 from the companion (they received 280).  The
    companion pays 1 fen out of other earnings, or the last refund is refused
    (refund_uncovered) when they have none; the platform keeps 1 fen of a session it refunded
    whole.  Fair + appeal + admin refunds of one session make such splits ordinary."""
    _cust, comp, sid = await unanswered_session(rig)
    admin = await rig.person("admin")
    for key, amount in (("first", CHARGED - 1), ("second", 1)):
        resp = await rig.http.post(
            f"/api/admin/sessions/{sid}/refunds",
            json={"amount_fen": amount, "key": key, "reason": "客服补偿"},
            headers=bearer(admin.token),
        )
        assert resp.status == 200, (key, await resp.text())
    money = await money_of_session(rig, sid, comp)
    assert money == {
        "charged": CHARGED,
        "refunded": CHARGED,
        "companion": 0,
        "platform": 0,
        "wallet": 0,
    }, money
