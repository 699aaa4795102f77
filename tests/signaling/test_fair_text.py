"""Fair service on text calls over real sockets: an unresponsive companion's customer is refunded
automatically (once, however often the judgement runs), a responsive one's is not, and both
sides see the same figures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from kernel.clock import FakeClock
from metering.check import check_ledger
from signaling.keys import FAIR
from store.models import Transfer
from store.models.audit import AdminAction
from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory

pytestmark = pytest.mark.both_databases


@pytest.fixture
async def rig(make_rig: RigFactory, clock: FakeClock) -> AsyncIterator[Rig]:
    async with make_rig(clock, fair_enabled=True) as rig:
        yield rig


async def wallet_fen(rig: Rig, token: str) -> int:
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(token))).json()
    return int(wallet["wallet_fen"])


async def fairness(rig: Rig, token: str, role: str, session_id: str) -> dict:  # type: ignore[type-arg]
    resp = await rig.http.get(
        "/api/me/fairness",
        params={"role": role, "session_ids": session_id},
        headers=bearer(token),
    )
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_an_unresponsive_companion_refunds_half_of_each_minute_once(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text", fund_fen=1000)
    await cust_sock.ok("chat:send", {"call_id": call_id, "client_id": "m-000001", "text": "在吗"})
    await comp_sock.wait("chat:message", lambda d: d["seq"] == 1)
    rig.clock.advance(200)  # 200 s connected, never answered: 4 minutes billed
    await cust_sock.ok("call:hangup", {"call_id": call_id})

    judged = await cust_sock.wait("session:fair", lambda d: d["call_id"] == call_id)
    assert judged["flagged_minutes"] == 4 and judged["refund_fen"] == 4 * 100 // 2
    assert (await comp_sock.wait("session:fair"))["refund_fen"] == 200
    assert await wallet_fen(rig, cust.token) == 1000 - 400 + 200

    # Judged again (another process, a retry, the sweep): nothing more is paid or logged.
    assert await rig.app[FAIR].assess(call_id) is None
    await rig.app[FAIR].talk_recorded(call_id, {})
    async with rig.db.reading() as s:
        refunds = await s.scalar(
            select(func.count()).where(Transfer.id.like(f"refund:{call_id}:%"))
        )
        audits = await s.scalar(
            select(func.count()).where(
                AdminAction.action == "fair.refund", AdminAction.subject_id == call_id
            )
        )
    assert (refunds, audits) == (1, 1)
    assert await wallet_fen(rig, cust.token) == 800
    assert (await check_ledger(rig.db)).ok

    # Both sides see the same judgement, no names; the history shows the refund.
    mine = await fairness(rig, cust.token, "customer", call_id)
    theirs = await fairness(rig, comp.token, "companion", call_id)
    assert mine["sessions"] == theirs["sessions"]
    (line,) = mine["sessions"]
    assert (line["mode"], line["billed_minutes"], line["reply_count"]) == ("text", 4, 0)
    assert comp.user_id not in str(mine) and cust.user_id not in str(theirs)
    assert theirs["averages"]["refunded_sessions"] == 1
    assert theirs["rule"]["refund_percent"] == 50
    # Not a party: nothing.
    assert (await fairness(rig, cust.token, "companion", call_id))["sessions"] == []
    history = await (
        await rig.http.get("/api/me/sessions?role=customer", headers=bearer(cust.token))
    ).json()
    assert history["sessions"][0]["refunded_fen"] == 200


async def test_a_companion_who_answers_is_not_refunded(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text", fund_fen=1000)
    for i in range(8):
        await cust_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": f"c-{i:06d}", "text": "嗯嗯"}
        )
        rig.clock.advance(10)
        await comp_sock.ok(
            "chat:send", {"call_id": call_id, "client_id": f"k-{i:06d}", "text": "我在听"}
        )
        rig.clock.advance(20)
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    judged = await comp_sock.wait("session:fair", lambda d: d["call_id"] == call_id)
    assert judged["flagged_minutes"] == 0 and judged["refund_fen"] == 0
    assert judged["reply_count"] == 8 and judged["reply_median_ms"] == 10_000
    assert await wallet_fen(rig, cust.token) == 1000 - 400
    studio = await fairness(rig, comp.token, "companion", call_id)
    assert studio["averages"]["reply_median_ms"] == 10_000
    assert (await check_ledger(rig.db)).ok


async def test_bad_fairness_queries_are_refused_clearly(rig: Rig) -> None:
    cust = await rig.person()
    for params in ({"role": "admin"}, {"limit": "0"}, {"session_ids": "a b"}):
        resp = await rig.http.get("/api/me/fairness", params=params, headers=bearer(cust.token))
        assert resp.status == 400, params
        assert (await resp.json())["error"]["code"] == "invalid_input"
    assert (await rig.http.get("/api/me/fairness")).status == 401
