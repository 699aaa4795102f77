"""A person exports their data and deletes their account: refused while a session is open or
money is left; afterwards nothing identifies them, their logins are dead, the ledger still
balances, and the phone number can sign up afresh."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from media.evidence import AudioPacket, Snapshot
from metering.check import check_ledger
from store.models import Message, User
from store.models.evidence import CallEvidence
from tests.harness import bearer, login_cli
from tests.harness.rig import Rig

pytestmark = pytest.mark.both_databases  # the database's behaviour matters here


async def test_export_then_delete(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("text", fund_fen=100)
    await cust_sock.ok("chat:send", {"call_id": call_id, "client_id": "c0000001", "text": "晚安"})
    await comp_sock.ok("chat:send", {"call_id": call_id, "client_id": "p0000001", "text": "好梦"})
    h = bearer(cust.token)

    busy = await rig.http.delete("/api/me", headers=h)
    assert (await busy.json())["error"]["code"] == "account_busy"  # the session is open
    rig.clock.advance(30)  # half a minute talked: the first minute is charged
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    for _ in range(100):  # the session's final billing runs just after the hang-up's answer
        wallet = await (await rig.http.get("/api/wallet", headers=h)).json()
        if wallet["held_fen"] == 0 and wallet["wallet_fen"] == 0:
            break
        await asyncio.sleep(0.05)

    export = await (await rig.http.get("/api/me/export", headers=h)).json()
    assert export["profile"]["phone"] == cust.phone
    assert [s["id"] for s in export["sessions"]] == [call_id]
    assert [m["text"] for m in export["messages"]] == ["晚安"]  # what they sent, not the peer's
    kinds = {line["kind"] for line in export["money"]}
    assert "topup" in kinds or any(line["amount_fen"] == 100 for line in export["money"])

    earner = await rig.http.delete("/api/me", headers=bearer(comp.token))
    body = await earner.json()
    assert body["error"]["code"] == "balance_not_empty"  # earnings to withdraw first
    assert "earn_pending" in body["error"]["details"]["balances"]

    resp = await rig.http.delete("/api/me", headers=h)
    assert resp.status == 200, await resp.text()
    assert (await rig.http.get("/api/me", headers=h)).status == 401  # every login is dead
    async with rig.db.reading() as s:
        user = await s.get(User, cust.user_id)
        assert user is not None and user.phone != cust.phone and user.role == "deleted"
        assert user.nickname == "已注销用户" and user.tags == []
        mine = select(func.count()).select_from(Message).where(Message.sender_id == cust.user_id)
        assert await s.scalar(mine) == 0
        theirs = select(func.count()).select_from(Message).where(Message.sender_id == comp.user_id)
        assert await s.scalar(theirs) == 1
    assert (await check_ledger(rig.db)).ok  # the books keep every entry
    rig.clock.advance(61)  # the SMS resend interval
    again = await login_cli(rig.http, rig.outbox, cust.phone)  # the number is free again
    me = await (await rig.http.get("/api/me", headers=bearer(again))).json()
    assert me["id"] != cust.user_id


async def test_money_left_in_the_wallet_refuses_deletion(rig: Rig) -> None:
    cust = await rig.person(fund_fen=5000)
    resp = await rig.http.delete("/api/me", headers=bearer(cust.token))
    body = await resp.json()
    assert body["error"]["code"] == "balance_not_empty"
    assert body["error"]["details"]["balances"] == {"wallet": 5000}
    assert (await rig.http.get("/api/me", headers=bearer(cust.token))).status == 200


async def test_deleting_an_account_deletes_its_media_in_call_evidence(rig: Rig) -> None:
    """The privacy rules: a deleted person's media kept as evidence goes with their messages;
    the other participant's stays with the report."""
    cust, cust_sock, comp, _comp_sock, call_id = await rig.active_call("voice")
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    resp = await rig.http.post(
        "/api/reports",
        json={"user_id": comp.user_id, "reason": "harassment", "call_id": call_id},
        headers=bearer(cust.token),
    )
    report_id = (await resp.json())["id"]
    store = rig.signaling.media.evidence
    windows = [
        Snapshot(who, 2.0, (AudioPacket(1.0, 0, b"\x78" + bytes(40)),), ())
        for who in (cust.user_id, comp.user_id)
    ]
    assert await store.keep(report_id, call_id, windows) == "kept"
    resp = await rig.http.delete("/api/me", headers=bearer(comp.token))
    assert resp.status in (200, 204), await resp.text()
    async with rig.db.reading() as s:
        left = (await s.scalars(select(CallEvidence.subject_id))).all()
    assert left == [cust.user_id]
