"""The marketplace end to end, through the HTTP API and Socket.IO as the apps use them: a new
companion applies and an admin approves; a customer finds them by filter, keeps them as a
favourite, books a slot, talks at the slot, reviews the session, appeals, and the admin decides a
partial refund, then asks customer service about it.  Every step is checked where a person would
see it (each side is told over Socket.IO as it happens), and the ledger check passes at the end
(every transfer balanced, every balance equal to its entries)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from metering import accounts
from metering.check import check_ledger
from metering.ledger import balances
from tests.harness import bearer
from tests.harness.rig import Rig, request_id
from tests.market.bookings.helpers import advance_to, slot, sweep
from tests.market.vetting.conftest import FORM, applicant, call, voice

pytestmark = pytest.mark.both_databases  # the database's behaviour matters here

GAMER = FORM | {
    "specialties": ["游戏陪玩", "闲聊"],
    "gender": "male",
    "text_fen_per_min": 120,
    "voice_fen_per_min": 300,
    "video_fen_per_min": 600,
}


async def test_apply_approve_find_favourite_book_talk_review_appeal_refund(rig: Rig) -> None:
    # 1. A new companion applies (real name first), with a voice sample; an admin approves.
    comp = await applicant(rig)
    status, body = await call(rig, "PUT", "/api/me/application", comp, json=GAMER)
    assert status == 200, body
    status, body = await voice(rig, comp)
    assert status == 200, body
    status, body = await call(rig, "POST", "/api/me/application/submit", comp)
    assert (status, body["status"]) == (200, "pending"), body
    applicant_sock = await rig.connect(comp, "applicant")  # told of the decision at once
    admin = await rig.person("admin")
    status, queue = await call(rig, "GET", "/api/admin/applications?status=pending", admin)
    (application,) = [a for a in queue["applications"] if a["user_id"] == comp.user_id]
    status, body = await call(
        rig,
        "POST",
        f"/api/admin/applications/{application['id']}/decision",
        admin,
        json={"approve": True, "reason": "资料齐全"},
    )
    assert (status, body["role"]) == (200, "companion"), body
    decided = await applicant_sock.wait("application:decided")
    assert (decided["application_id"], decided["status"]) == (application["id"], "approved")

    # 2. The companion opens their calendar and goes online.
    week = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
    status, body = await call(rig, "PUT", "/api/me/availability", comp, json={"ranges": week})
    assert status == 200, body
    comp_sock = await rig.connect(comp, "companion")
    await comp_sock.ok("presence:set", {"accepting": True})

    # 3. A customer finds them by filter and keeps them as a favourite.
    cust = await rig.person(fund_fen=20_000)
    status, found = await call(
        rig,
        "GET",
        "/api/companions?specialty=游戏陪玩&gender=male&mode=text&max_fen=150&sort=price",
        cust,
    )
    assert status == 200, found
    (listed,) = [c for c in found["companions"] if c["id"] == comp.user_id]
    assert listed["rates"]["text"] == 120 and "游戏陪玩" in listed["specialties"]
    status, body = await call(rig, "GET", "/api/companions?specialty=心理咨询&gender=male", cust)
    assert comp.user_id not in [c["id"] for c in body["companions"]]
    status, body = await call(rig, "PUT", f"/api/favourites/{comp.user_id}", cust)
    assert status == 200, body
    status, favs = await call(rig, "GET", "/api/favourites", cust)
    assert [c["id"] for c in favs["companions"]] == [comp.user_id]

    # 4. They book a 30-minute text slot three hours ahead: the first 10 minutes are held.
    at = slot(rig, 3)
    day = (at + timedelta(hours=8)).date().isoformat()  # the calendar's day (China time)
    status, free = await call(
        rig, "GET", f"/api/companions/{comp.user_id}/availability?from={day}&days=1", cust
    )
    assert status == 200, free
    status, booking = await call(
        rig,
        "POST",
        "/api/bookings",
        cust,
        json={
            "companion_id": comp.user_id,
            "mode": "text",
            "starts_at": at.isoformat(),
            "duration_min": 30,
            "request_id": "bk-" + secrets.token_hex(6),
        },
    )
    assert status == 201, booking
    assert booking["hold_fen"] == 10 * 120
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert wallet["wallet_fen"] == 20_000 - 1_200
    status, booking = await call(rig, "POST", f"/api/bookings/{booking['id']}/confirm", comp)
    assert (status, booking["status"]) == (200, "confirmed"), booking

    # 5. At the slot the call rings; they talk for 3 minutes at the booked rate.
    cust_sock = await rig.connect(cust, "customer")
    advance_to(rig, at)
    assert (await sweep(rig))["started"] == 1
    due = await cust_sock.wait("booking:due")
    incoming = await comp_sock.wait("call:incoming")
    call_id = due["call_id"]
    assert incoming["call_id"] == call_id and incoming["rate_fen_per_min"] == 120
    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.ok(
        "chat:send", {"call_id": call_id, "client_id": request_id(), "text": "来一局吗"}
    )
    rig.clock.advance(150)  # 2.5 minutes: 3 billed
    ack = await cust_sock.ok("call:hangup", {"call_id": call_id})
    assert ack["call"]["status"] == "ended"
    await cust_sock.wait("booking:updated", lambda d: d["status"] == "completed")
    meter = await (
        await rig.http.get(f"/api/sessions/{call_id}/meter", headers=bearer(cust.token))
    ).json()
    assert (meter["billed_minutes"], meter["charged_fen"]) == (3, 360)
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert wallet["wallet_fen"] == 20_000 - 360  # the hold came back; 3 minutes were paid

    # 6. The customer reviews the session; the companion's rating and orders show it.
    status, review = await call(
        rig,
        "POST",
        f"/api/sessions/{call_id}/review",
        cust,
        json={"stars": 4, "tags": ["有趣"], "text": "技术不错，就是迟到了一会"},
    )
    assert status == 201, review
    told = await comp_sock.wait("review:received")
    assert (told["session_id"], told["stars"]) == (call_id, 4)
    status, page = await call(rig, "GET", f"/api/companions/{comp.user_id}", cust)
    assert (page["rating_count"], page["orders"]) == (1, 1), page

    # 7. They appeal; the companion responds; the admin refunds part of it.
    status, appeal = await call(
        rig,
        "POST",
        f"/api/sessions/{call_id}/appeal",
        cust,
        json={
            "reason": "not_as_described",
            "text": "说好的陪玩，最后一分钟一直没有回应。",
            "request_id": "apl-" + secrets.token_hex(6),
        },
    )
    assert status == 201, appeal
    told = await comp_sock.wait("appeal:updated")
    assert (told["appeal_id"], told["status"]) == (appeal["id"], "open")
    status, body = await call(
        rig,
        "POST",
        f"/api/appeals/{appeal['id']}/response",
        comp,
        json={"text": "网络断了，抱歉"},
    )
    assert status == 200, body
    assert (await cust_sock.wait("appeal:updated"))["appeal_id"] == appeal["id"]
    status, decided = await call(
        rig,
        "POST",
        f"/api/admin/appeals/{appeal['id']}/decision",
        admin,
        json={"outcome": "partial", "amount_fen": 120, "reason": "最后一分钟未提供服务，退一分钟"},
    )
    assert status == 200, decided
    for sock in (cust_sock, comp_sock):
        told = await sock.wait("appeal:updated", lambda d: d["status"] == "decided")
        assert (told["outcome"], told["refund_fen"]) == ("partial", 120)
    status, seen = await call(rig, "GET", f"/api/appeals/{appeal['id']}", cust)
    assert (seen["status"], seen["refund_fen"]) == ("decided", 120), seen
    status, seen = await call(rig, "GET", f"/api/appeals/{appeal['id']}", comp)
    assert seen["decision_reason"] == "最后一分钟未提供服务，退一分钟"

    # 8. The money: the customer paid 360 and got 120 back; the companion keeps their share of
    #    240 (a newcomer: 30 % commission per minute, floor(120 × 0.3) = 36), the platform the rest.
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert wallet["wallet_fen"] == 20_000 - 240
    async with rig.db.reading() as s:
        b = await balances(
            s,
            [
                accounts.earn_pending(comp.user_id),
                accounts.PLATFORM_REVENUE,
                accounts.booking_hold(booking["id"]),
            ],
        )
    assert b[accounts.earn_pending(comp.user_id)] == 240 - 2 * 36
    assert b[accounts.PLATFORM_REVENUE] == 2 * 36
    assert b[accounts.booking_hold(booking["id"])] == 0
    # 9. A question to customer service about the booking; support answers.
    status, ticket = await call(
        rig,
        "POST",
        "/api/tickets",
        cust,
        json={
            "category": "booking",
            "subject": "预约的退款什么时候到账",
            "body": "申诉通过了，想确认一下退款",
            "booking_id": booking["id"],
            "request_id": "tk-" + secrets.token_hex(6),
        },
    )
    assert status == 201, ticket
    status, body = await call(
        rig,
        "POST",
        f"/api/admin/tickets/{ticket['id']}/messages",
        admin,
        json={"body": "退款已原路退回钱包，请查收"},
    )
    assert status == 200, body
    told = await cust_sock.wait("ticket:updated")
    assert (told["ticket_id"], told["status"]) == (ticket["id"], "answered")

    status, log = await call(rig, "GET", "/api/admin/audit", admin)
    actions = {e["action"] for e in log["entries"]}
    assert {"application.approve", "appeal.decide", "ticket.reply"} <= actions
    report = await check_ledger(rig.db)
    assert report.ok, report.to_json()
