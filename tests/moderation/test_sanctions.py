"""Sanctions through the API, end to end: a ban or suspension ends the user's open call (billed
to that moment), disconnects their sockets and refuses their logins with what, why and a way to
appeal; a mute stops their chat; a warning is only told; repeat offences escalate; a confirmed
report imposes one tied to its case; admins lift them (audit-logged); earnings can be frozen."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import select

from metering.check import check_ledger
from metering.keys import WALLETS
from store.models.audit import AdminAction
from tests.harness import bearer, last_code, send_code
from tests.harness.rig import Person, Rig
from tests.signaling.test_revocation import gone


async def sanction(rig: Rig, admin: Person, who: Person, **body: Any) -> Any:
    resp = await rig.http.post(
        f"/api/admin/users/{who.user_id}/sanctions",
        json={"reason": "在聊天中索要联系方式", **body},
        headers=bearer(admin.token),
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def try_login(rig: Rig, who: Person) -> tuple[int, Any]:
    rig.clock.advance(61)  # past the SMS resend interval
    await send_code(rig.http, who.phone)
    code = last_code(rig.outbox, who.phone)
    resp = await rig.http.post(
        "/api/auth/login", json={"phone": who.phone, "code": code, "client": "cli"}
    )
    return resp.status, await resp.json()


async def test_a_ban_ends_the_call_disconnects_and_refuses_logins(rig: Rig) -> None:
    admin = await rig.person("admin")
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call(fund_fen=10_000)
    rig.clock.advance(90)  # into the second minute
    since = asyncio.get_running_loop().time()
    banned = await sanction(rig, admin, comp, kind="ban")
    assert banned["kind"] == "ban" and banned["ends_at"] is None and banned["in_force"]
    await gone(comp_sock, "sanctioned", since)
    ended = await cust_sock.wait(
        "call:update", lambda d: d["call_id"] == call_id and d["status"] == "ended"
    )
    assert ended["end_reason"] == "moderation"
    # billed to that moment: two minutes started, nothing after
    b = await rig.app[WALLETS].balance(cust.user_id)
    assert (b.wallet_fen, b.held_fen) == (10_000 - 200, 0)
    assert (await check_ledger(rig.db)).ok
    # the old token is dead, a new login is refused with what, why and an appeal token
    assert (await rig.http.get("/api/me", headers=bearer(comp.token))).status == 401
    status, body = await try_login(rig, comp)
    assert status == 403 and body["error"]["code"] == "account_banned", body
    details = body["error"]["details"]
    assert details["sanction"]["reason"] == "在聊天中索要联系方式"
    assert details["sanction"]["kind"] == "ban" and not details["sanction"]["appealed"]
    token = details["appeal_token"]
    resp = await rig.http.post(
        "/api/sanctions/appeal", json={"token": token, "text": "我没有索要联系方式，请复核"}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["appeal_text"] == "我没有索要联系方式，请复核"
    resp = await rig.http.post("/api/sanctions/appeal", json={"token": token, "text": "再申诉"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "sanction_appeal_exists"
    resp = await rig.http.post(
        "/api/sanctions/appeal", json={"token": token[:-2] + "xx", "text": "伪造"}
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_appeal_token"
    # lifted: the companion may log in again; the lift is in the audit log
    resp = await rig.http.post(
        f"/api/admin/sanctions/{banned['id']}/lift",
        json={"note": "申诉成立"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200 and (await resp.json())["lifted_by"] == admin.user_id
    status, body = await try_login(rig, comp)
    assert status == 200, body
    async with rig.db.reading() as s:
        actions = (
            await s.scalars(
                select(AdminAction.action).where(AdminAction.subject_id == comp.user_id)
            )
        ).all()
    assert sorted(actions) == ["sanction.impose", "sanction.lift"]


async def test_a_suspension_ends_in_time_and_a_mute_stops_chat_only(rig: Rig) -> None:
    admin = await rig.person("admin")
    cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call(fund_fen=10_000)
    muted = await sanction(rig, admin, cust, kind="mute", hours=2)
    assert muted["kind"] == "mute" and muted["in_force"]
    ack = await cust_sock.call(
        "chat:send", {"call_id": call_id, "client_id": "muted-0001", "text": "你好"}
    )
    assert ack["error"]["code"] == "chat_muted" and ack["error"]["details"]["until"], ack
    assert not comp_sock.seen("chat:message")
    # the other side still talks; the call goes on
    await comp_sock.ok("chat:send", {"call_id": call_id, "client_id": "comp-0001", "text": "在"})
    # the user sees what and why
    mine = await (await rig.http.get("/api/me/sanctions", headers=bearer(cust.token))).json()
    assert [(s["kind"], s["in_force"]) for s in mine["sanctions"]] == [("mute", True)]
    assert mine["sanctions"][0]["reason"] == "在聊天中索要联系方式"
    assert "decided_by" not in mine["sanctions"][0]  # the moderator is not named to them
    resp = await rig.http.post(
        f"/api/admin/sanctions/{muted['id']}/lift",
        json={"note": "误判"},
        headers=bearer(admin.token),
    )
    assert resp.status == 200
    await cust_sock.ok("chat:send", {"call_id": call_id, "client_id": "after-0001", "text": "好"})

    other = await rig.person()
    suspended = await sanction(rig, admin, other, kind="suspend", hours=1)
    status, body = await try_login(rig, other)
    assert status == 403 and body["error"]["code"] == "account_suspended"
    told = body["error"]["details"]["sanction"]["ends_at"]
    assert datetime.fromisoformat(told) == datetime.fromisoformat(suspended["ends_at"])
    rig.clock.advance(3601)
    status, body = await try_login(rig, other)
    assert status == 200, body


async def test_warnings_escalate_and_each_is_appealed_once(rig: Rig) -> None:
    admin = await rig.person("admin")
    cust = await rig.person()
    first = await sanction(rig, admin, cust, kind="warn")
    rig.clock.advance(60)
    second = await sanction(rig, admin, cust, kind="warn")
    rig.clock.advance(60)
    third = await sanction(rig, admin, cust, kind="warn")
    assert [first["kind"], second["kind"], third["kind"]] == ["warn", "warn", "mute"]
    assert third["escalated"] and third["requested_kind"] == "warn"
    path = f"/api/me/sanctions/{first['id']}/appeal"
    resp = await rig.http.post(path, json={"text": "我不同意"}, headers=bearer(cust.token))
    assert resp.status == 200, await resp.text()
    resp = await rig.http.post(path, json={"text": "再次"}, headers=bearer(cust.token))
    assert resp.status == 409
    # someone else's sanction is not theirs to appeal (nor to learn of)
    stranger = await rig.person()
    resp = await rig.http.post(
        f"/api/me/sanctions/{second['id']}/appeal",
        json={"text": "x"},
        headers=bearer(stranger.token),
    )
    assert resp.status == 404
    history = await (
        await rig.http.get(
            f"/api/admin/users/{cust.user_id}/sanctions", headers=bearer(admin.token)
        )
    ).json()
    assert [s["kind"] for s in history["sanctions"]] == ["mute", "warn", "warn"]


async def test_refusals(rig: Rig) -> None:
    admin = await rig.person("admin")
    other_admin = await rig.person("admin")
    cust = await rig.person()
    path = f"/api/admin/users/{other_admin.user_id}/sanctions"
    resp = await rig.http.post(
        path, json={"kind": "ban", "reason": "x"}, headers=bearer(admin.token)
    )
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "cannot_sanction"
    for body in (
        {"kind": "ban", "reason": "x", "hours": 3},  # a ban has no duration
        {"kind": "warn", "reason": "x", "hours": 3},
        {"kind": "mute", "reason": "x", "hours": 24 * 31},
    ):
        resp = await rig.http.post(
            f"/api/admin/users/{cust.user_id}/sanctions", json=body, headers=bearer(admin.token)
        )
        assert resp.status == 400, (body, await resp.text())
    for body in ({"kind": "jail", "reason": "x"}, {"kind": "mute", "reason": ""}, {"kind": "ban"}):
        resp = await rig.http.post(
            f"/api/admin/users/{cust.user_id}/sanctions", json=body, headers=bearer(admin.token)
        )
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_input"
    resp = await rig.http.post(
        "/api/admin/users/u_nobody/sanctions",
        json={"kind": "warn", "reason": "x"},
        headers=bearer(admin.token),
    )
    assert resp.status == 404
    resp = await rig.http.post(
        f"/api/admin/users/{admin.user_id}/sanctions",
        json={"kind": "warn", "reason": "x"},
        headers=bearer(cust.token),
    )
    assert resp.status == 403
    resp = await rig.http.post(
        "/api/admin/sanctions/sanc_nothing/lift", json={"note": "x"}, headers=bearer(admin.token)
    )
    assert resp.status == 404


async def test_a_confirmed_report_imposes_a_sanction_tied_to_its_case(rig: Rig) -> None:
    admin = await rig.person("admin")
    cust, _cust_sock, comp, _comp_sock, call_id = await rig.active_call(fund_fen=10_000)
    resp = await rig.http.post(
        "/api/reports",
        json={"user_id": comp.user_id, "reason": "contact_request", "call_id": call_id},
        headers=bearer(cust.token),
    )
    assert resp.status == 201, await resp.text()
    report_id = (await resp.json())["id"]
    decide = f"/api/admin/reports/{report_id}/decision"
    resp = await rig.http.post(
        decide,
        json={"status": "dismissed", "note": "x", "sanction": {"kind": "warn"}},
        headers=bearer(admin.token),
    )
    assert resp.status == 400  # only a confirmed report sanctions
    resp = await rig.http.post(
        decide,
        json={"status": "resolved", "note": "确认索要微信", "sanction": {"kind": "mute"}},
        headers=bearer(admin.token),
    )
    assert resp.status == 200, await resp.text()
    history = await (
        await rig.http.get(
            f"/api/admin/users/{comp.user_id}/sanctions", headers=bearer(admin.token)
        )
    ).json()
    [imposed] = history["sanctions"]
    assert (imposed["kind"], imposed["case_id"], imposed["reason"]) == (
        "mute",
        report_id,
        "确认索要微信",
    )
    # deciding again is refused, so the case never sanctions twice
    resp = await rig.http.post(
        decide,
        json={"status": "resolved", "note": "again", "sanction": {"kind": "mute"}},
        headers=bearer(admin.token),
    )
    assert resp.status >= 400
    history = await (
        await rig.http.get(
            f"/api/admin/users/{comp.user_id}/sanctions", headers=bearer(admin.token)
        )
    ).json()
    assert len(history["sanctions"]) == 1


async def test_frozen_earnings_cannot_be_withdrawn_until_lifted(rig: Rig) -> None:
    admin = await rig.person("admin")
    comp = await rig.person("companion")
    resp = await rig.http.put(
        "/api/me/payout-account",
        json={"method": "alipay", "account": "13800000000"},
        headers=bearer(comp.token),
    )
    assert resp.status in (200, 201), await resp.text()
    frozen = await sanction(rig, admin, comp, kind="mute", hours=24, freeze_earnings=True)
    withdraw = {"amount_fen": 1000}
    resp = await rig.http.post("/api/me/withdrawals", json=withdraw, headers=bearer(comp.token))
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "earnings_frozen"
    await rig.http.post(
        f"/api/admin/sanctions/{frozen['id']}/lift",
        json={"note": "ok"},
        headers=bearer(admin.token),
    )
    resp = await rig.http.post("/api/me/withdrawals", json=withdraw, headers=bearer(comp.token))
    # no longer frozen: refused only for what there is to withdraw
    assert (await resp.json())["error"]["code"] == "insufficient_earnings"
