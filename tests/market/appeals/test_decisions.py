"""An admin decides an appeal: the money exactly (refunds through the ledger, in proportion),
a decision is final, a resend is not a second refund, a refused refund leaves the appeal open,
the audit line, the admin queue with the session's figures and chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from metering import accounts
from metering.keys import METERING
from metering.ledger import balances
from store.models import Message
from store.models.appeals import Appeal
from tests.harness import bearer
from tests.harness.rig import Person, Rig
from tests.market.appeals.helpers import appeal, ended_session, error_code, json_of, ledger_ok

pytestmark = pytest.mark.timeout(90)

# A text minute is 100 fen; a newcomer companion keeps 70 %, the platform 30 %.
CHARGED = 400  # 181 s: 4 minutes


async def books(rig: Rig, cust: Person, comp: Person) -> dict[str, int]:
    async with rig.db.reading() as s:
        b = await balances(
            s,
            [
                accounts.wallet(cust.user_id),
                accounts.earn_pending(comp.user_id),
                accounts.earn_available(comp.user_id),
                accounts.PLATFORM_REVENUE,
            ],
        )
    return {
        "wallet": b[accounts.wallet(cust.user_id)],
        "pending": b[accounts.earn_pending(comp.user_id)],
        "available": b[accounts.earn_available(comp.user_id)],
        "platform": b[accounts.PLATFORM_REVENUE],
    }


async def decide(rig: Rig, admin: Person, appeal_id: str, **body: Any) -> Any:
    return await rig.http.post(
        f"/api/admin/appeals/{appeal_id}/decision", json=body, headers=bearer(admin.token)
    )


async def audit_of(rig: Rig, admin: Person, appeal_id: str) -> list[dict[str, Any]]:
    resp = await rig.http.get(
        f"/api/admin/audit?subject_type=appeal&subject_id={appeal_id}",
        headers=bearer(admin.token),
    )
    entries: list[dict[str, Any]] = (await json_of(resp, 200))["entries"]
    return entries


async def opened(rig: Rig, **kw: Any) -> tuple[Person, Person, str, str, Person]:
    cust, comp, sid = await ended_session(rig, **kw)
    made = await json_of(await appeal(rig, cust, sid), 201)
    return cust, comp, sid, made["id"], await rig.person("admin")


@pytest.mark.both_databases
async def test_a_partial_refund_splits_back_in_proportion(rig: Rig) -> None:
    cust, comp, sid, aid, admin = await opened(rig)
    before = await books(rig, cust, comp)
    assert before["wallet"] == 10_000 - CHARGED and before["pending"] == 280

    resp = await decide(rig, admin, aid, outcome="partial", amount_fen=150, reason="部分属实")
    decided = await json_of(resp, 200)
    assert (decided["status"], decided["outcome"], decided["refund_fen"]) == (
        "decided",
        "partial",
        150,
    )
    assert decided["decided_by"] == admin.user_id and decided["decision_reason"] == "部分属实"
    assert decided["session"]["refunded_fen"] == 150
    after = await books(rig, cust, comp)
    assert after["wallet"] - before["wallet"] == 150
    assert before["pending"] - after["pending"] == 105  # 70 % of 150
    assert before["platform"] - after["platform"] == 45  # 30 % of 150
    assert after["available"] == before["available"] == 0

    # both parties see the decision and its reason; no admin identity
    for who in (cust, comp):
        seen = await json_of(
            await rig.http.get(f"/api/appeals/{aid}", headers=bearer(who.token)), 200
        )
        assert (seen["outcome"], seen["refund_fen"], seen["decision_reason"]) == (
            "partial",
            150,
            "部分属实",
        )
        assert "decided_by" not in seen
    (entry,) = await audit_of(rig, admin, aid)
    assert (entry["action"], entry["admin_id"]) == ("appeal.decide", admin.user_id)
    assert entry["detail"] == {
        "session_id": sid,
        "outcome": "partial",
        "refund_fen": 150,
        "reason": "部分属实",
    }
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_a_full_refund_returns_everything_refundable(rig: Rig) -> None:
    cust, comp, sid, aid, admin = await opened(rig)
    # an admin refunded part of the session directly before the appeal was decided
    resp = await rig.http.post(
        f"/api/admin/sessions/{sid}/refunds",
        json={"amount_fen": 100, "key": "early"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200, await resp.text()
    before = await books(rig, cust, comp)
    decided = await json_of(await decide(rig, admin, aid, outcome="full", reason="属实"), 200)
    assert (decided["outcome"], decided["refund_fen"]) == ("full", CHARGED - 100)
    assert decided["session"]["refunded_fen"] == CHARGED
    after = await books(rig, cust, comp)
    assert after["wallet"] == 10_000  # every fen back
    assert before["pending"] - after["pending"] == 210
    assert before["platform"] - after["platform"] == 90
    wallet = await json_of(await rig.http.get("/api/wallet", headers=bearer(cust.token)), 200)
    assert wallet["wallet_fen"] == 10_000
    await ledger_ok(rig)


async def test_a_rejection_moves_no_money(rig: Rig) -> None:
    cust, comp, _sid, aid, admin = await opened(rig)
    before = await books(rig, cust, comp)
    resp = await decide(rig, admin, aid, outcome="reject", reason="聊天记录显示服务正常")
    decided = await json_of(resp, 200)
    assert (decided["outcome"], decided["refund_fen"]) == ("reject", 0)
    assert await books(rig, cust, comp) == before
    assert len(await audit_of(rig, admin, aid)) == 1
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_a_decision_is_final_and_a_resend_refunds_once(rig: Rig) -> None:
    cust, comp, _sid, aid, admin = await opened(rig)
    first = await json_of(
        await decide(rig, admin, aid, outcome="partial", amount_fen=120, reason="部分"), 200
    )
    money = await books(rig, cust, comp)
    other_admin = await rig.person("admin")
    for who in (admin, other_admin):  # the same decision sent again: the same answer
        resp = await decide(rig, who, aid, outcome="partial", amount_fen=120, reason="部分")
        again = await json_of(resp, 200)
        assert (again["decided_at"], again["decided_by"]) == (
            first["decided_at"],
            admin.user_id,
        )
    assert await books(rig, cust, comp) == money
    for body in (
        {"outcome": "full", "reason": "改判"},
        {"outcome": "reject", "reason": "改判"},
        {"outcome": "partial", "amount_fen": 121, "reason": "改判"},
    ):
        assert await error_code(await decide(rig, admin, aid, **body), 409) == "appeal_decided"
    assert await books(rig, cust, comp) == money
    assert len(await audit_of(rig, admin, aid)) == 1
    await ledger_ok(rig)


async def test_the_amounts_a_decision_may_name(rig: Rig) -> None:
    _cust, _comp, _sid, aid, admin = await opened(rig)
    for body, status, code in (
        ({"outcome": "partial", "reason": "r"}, 400, "invalid_decision"),
        ({"outcome": "full", "amount_fen": 10, "reason": "r"}, 400, "invalid_decision"),
        ({"outcome": "reject", "amount_fen": 10, "reason": "r"}, 400, "invalid_decision"),
        (
            {"outcome": "partial", "amount_fen": CHARGED, "reason": "r"},
            400,
            "invalid_refund_amount",
        ),
        ({"outcome": "partial", "amount_fen": 0, "reason": "r"}, 400, "invalid_input"),
        ({"outcome": "partial", "amount_fen": "5", "reason": "r"}, 400, "invalid_input"),
        ({"outcome": "refund", "reason": "r"}, 400, "invalid_input"),
        ({"outcome": "reject", "reason": ""}, 400, "invalid_input"),
        ({"outcome": "reject", "reason": "x" * 501}, 400, "invalid_input"),
        ({"outcome": "reject", "reason": "   "}, 400, "invalid_text"),
    ):
        assert await error_code(await decide(rig, admin, aid, **body), status) == code, body
    ok = await decide(rig, admin, aid, outcome="partial", amount_fen=CHARGED - 1, reason="r")
    assert (await json_of(ok, 200))["refund_fen"] == CHARGED - 1
    await ledger_ok(rig)


async def test_a_full_refund_of_nothing_left_is_refused(rig: Rig) -> None:
    _cust, _comp, sid, aid, admin = await opened(rig)
    resp = await rig.http.post(
        f"/api/admin/sessions/{sid}/refunds",
        json={"amount_fen": CHARGED, "key": "all"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200
    assert await error_code(await decide(rig, admin, aid, outcome="full", reason="r"), 409) == (
        "nothing_to_refund"
    )
    await json_of(await decide(rig, admin, aid, outcome="reject", reason="已退款"), 200)


async def test_a_refused_refund_leaves_the_appeal_open(rig: Rig) -> None:
    cust, comp, _sid, aid, admin = await opened(rig)
    # The earnings hold passes, the companion withdraws everything they earned.
    rig.clock.advance(72 * 3600 + 1)
    await rig.app[METERING].settle_earnings()
    ch = bearer(comp.token)
    resp = await rig.http.put(
        "/api/me/payout-account",
        json={"method": "alipay", "account": "comp@example.com"},
        headers=ch,
    )
    assert resp.status == 200, await resp.text()
    resp = await rig.http.post("/api/me/withdrawals", json={"amount_fen": 280}, headers=ch)
    assert (await json_of(resp, 201))["status"] == "paid"
    before = await books(rig, cust, comp)

    resp = await decide(rig, admin, aid, outcome="full", reason="属实")
    assert await error_code(resp, 409) == "refund_uncovered"
    still = await json_of(
        await rig.http.get(f"/api/admin/appeals/{aid}", headers=bearer(admin.token)), 200
    )
    assert (still["status"], still["deciding"], still["outcome"], still["decided_by"]) == (
        "open",
        False,
        None,
        None,
    )
    assert await books(rig, cust, comp) == before
    assert await audit_of(rig, admin, aid) == []
    # another decision is possible: the appeal was never decided
    await json_of(await decide(rig, admin, aid, outcome="reject", reason="已结算"), 200)
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_a_decision_interrupted_after_its_refund_finishes_once(rig: Rig) -> None:
    """A crash between the refund and the record: the appeal is left ``deciding`` with the
    refund posted; sending the same decision again records it without refunding again."""
    cust, comp, sid, aid, admin = await opened(rig)
    async with rig.db.writing() as s:
        await s.execute(
            update(Appeal)
            .where(Appeal.id == aid)
            .values(
                status="deciding",
                outcome="partial",
                refund_fen=200,
                decision_reason="部分",
                decided_by=admin.user_id,
            )
        )
    await rig.app[METERING].refund_session(sid, 200, key=f"appeal-{aid}")
    before = await books(rig, cust, comp)

    seen = await json_of(await rig.http.get(f"/api/appeals/{aid}", headers=bearer(cust.token)), 200)
    assert (seen["status"], seen["outcome"]) == ("open", None)  # not decided yet
    other = await decide(rig, admin, aid, outcome="reject", reason="改判")
    assert await error_code(other, 409) == "appeal_deciding"
    pending = await json_of(
        await rig.http.get(f"/api/admin/appeals/{aid}", headers=bearer(admin.token)), 200
    )
    assert (pending["deciding"], pending["deciding_outcome"], pending["deciding_refund_fen"]) == (
        True,
        "partial",
        200,
    )

    resp = await decide(rig, admin, aid, outcome="partial", amount_fen=200, reason="部分")
    done = await json_of(resp, 200)
    assert (done["status"], done["refund_fen"], done["session"]["refunded_fen"]) == (
        "decided",
        200,
        200,
    )
    assert await books(rig, cust, comp) == before  # refunded once
    assert len(await audit_of(rig, admin, aid)) == 1
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_concurrent_different_decisions_one_wins(rig: Rig) -> None:
    cust, comp, _sid, aid, admin = await opened(rig)
    second = await rig.person("admin")
    before = await books(rig, cust, comp)
    results = await asyncio.gather(
        decide(rig, admin, aid, outcome="full", reason="属实"),
        decide(rig, second, aid, outcome="reject", reason="不属实"),
    )
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 409], statuses
    loser = next(r for r in results if r.status == 409)
    assert (await loser.json())["error"]["code"] in ("appeal_deciding", "appeal_decided")
    winner = await next(r for r in results if r.status == 200).json()
    refunded = (await books(rig, cust, comp))["wallet"] - before["wallet"]
    assert refunded == (CHARGED if winner["outcome"] == "full" else 0)
    await ledger_ok(rig)


@pytest.mark.both_databases
async def test_the_admin_queue_oldest_first_with_figures_and_chat(rig: Rig) -> None:
    cust, comp, sid = await ended_session(rig, chat=("你好", "你好呀", "能认真点吗"))
    first = await json_of(await appeal(rig, cust, sid), 201)
    rig.clock.advance(10)
    cust2, _comp2, sid2, second, admin = await opened(rig, seconds=61)
    ah = bearer(admin.token)

    queue = await json_of(await rig.http.get("/api/admin/appeals", headers=ah), 200)
    assert [a["id"] for a in queue["appeals"]] == [first["id"], second]
    head = queue["appeals"][0]
    assert head["session"]["charged_fen"] == CHARGED and head["session"]["billed_minutes"] == 4
    assert [(t["seq"], t["sender_id"], t["text"]) for t in head["transcript"]] == [
        (1, cust.user_id, "你好"),
        (2, comp.user_id, "你好呀"),
        (3, cust.user_id, "能认真点吗"),
    ]
    assert head["transcript_truncated"] is False and queue["next_cursor"] is None
    page = await json_of(await rig.http.get("/api/admin/appeals?limit=1", headers=ah), 200)
    assert [a["id"] for a in page["appeals"]] == [first["id"]]
    rest = await json_of(
        await rig.http.get(f"/api/admin/appeals?limit=1&cursor={page['next_cursor']}", headers=ah),
        200,
    )
    assert [a["id"] for a in rest["appeals"]] == [second]

    await json_of(await decide(rig, admin, second, outcome="reject", reason="r"), 200)
    still_open = await json_of(await rig.http.get("/api/admin/appeals", headers=ah), 200)
    assert [a["id"] for a in still_open["appeals"]] == [first["id"]]
    decided = await json_of(
        await rig.http.get("/api/admin/appeals?status=decided", headers=ah), 200
    )
    assert [a["id"] for a in decided["appeals"]] == [second]

    for who in (cust, comp, cust2):
        h = bearer(who.token)
        assert (await rig.http.get("/api/admin/appeals", headers=h)).status == 403
        assert (await rig.http.get(f"/api/admin/appeals/{first['id']}", headers=h)).status == 403
        resp = await decide(rig, who, first["id"], outcome="full", reason="r")
        assert resp.status == 403
    assert (await rig.http.get("/api/admin/appeals")).status == 401
    resp = await rig.http.get("/api/admin/appeals/apl_nope", headers=ah)
    assert await error_code(resp, 404) == "appeal_not_found"
    assert await error_code(
        await decide(rig, admin, "apl_nope", outcome="reject", reason="r"), 404
    ) == ("appeal_not_found")
    assert sid2


async def test_the_transcript_is_capped_to_the_last_200_messages(rig: Rig) -> None:
    cust, comp, sid, aid, admin = await opened(rig)
    start = rig.clock.now() - timedelta(hours=1)
    async with rig.db.writing() as s:
        for seq in range(1, 206):
            s.add(
                Message(
                    call_id=sid,
                    seq=seq,
                    sender_id=cust.user_id if seq % 2 else comp.user_id,
                    client_id=f"c{seq:07d}",
                    body=f"第{seq}条",
                    created_at=start + timedelta(seconds=seq),
                )
            )
    got = await json_of(
        await rig.http.get(f"/api/admin/appeals/{aid}", headers=bearer(admin.token)), 200
    )
    assert len(got["transcript"]) == 200 and got["transcript_truncated"] is True
    assert [t["seq"] for t in got["transcript"]] == list(range(6, 206))
