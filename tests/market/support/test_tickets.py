"""Customer-service tickets over HTTP: opening (idempotent, capped, linked to my session or
booking only), the thread and its status (open → answered → open → closed), staff shown as 客服,
the staff queue, the audit lines, the limits, who may do what."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from kernel.clock import FakeClock
from store.models.bookings import Booking
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory

pytestmark = pytest.mark.timeout(90)


async def body_of(resp: Any, status: int) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


async def code_of(resp: Any, status: int) -> str:
    code: str = (await body_of(resp, status))["error"]["code"]
    return code


async def open_ticket(rig: Rig, who: Person, **fields: Any) -> Any:
    body = {
        "category": "payment",
        "subject": "充值没到账",
        "body": "昨天充值了50元，余额没有变化。",
        "request_id": "tkt-" + secrets.token_hex(8),
    } | fields
    return await rig.http.post("/api/tickets", json=body, headers=bearer(who.token))


async def staff(rig: Rig, admin: Person, ticket_id: str, what: str, **body: Any) -> Any:
    path = f"/api/admin/tickets/{ticket_id}/{what}"
    return await rig.http.post(path, json=body or None, headers=bearer(admin.token))


async def test_a_ticket_thread_from_question_to_close(rig: Rig) -> None:
    user = await rig.person()
    admin = await rig.person("admin")
    uh = bearer(user.token)
    made = await body_of(await open_ticket(rig, user, request_id="tkt-first-1"), 201)
    tid = made["id"]
    assert (made["status"], made["message_count"], made["category"]) == ("open", 1, "payment")
    assert [(m["seq"], m["author"], m["body"]) for m in made["messages"]] == [
        (1, "user", "昨天充值了50元，余额没有变化。")
    ]
    again = await body_of(await open_ticket(rig, user, request_id="tkt-first-1"), 201)
    assert again["id"] == tid  # a resend is the same ticket
    mine = await body_of(await rig.http.get("/api/tickets", headers=uh), 200)
    assert [t["id"] for t in mine["tickets"]] == [tid]

    rig.clock.advance(60)
    replied = await body_of(await staff(rig, admin, tid, "messages", body="请提供订单号。"), 200)
    assert replied["status"] == "answered" and replied["waiting_since"] is None
    assert replied["messages"][-1]["author_id"] == admin.user_id  # admins see who

    thread = await body_of(await rig.http.get(f"/api/tickets/{tid}", headers=uh), 200)
    assert thread["status"] == "answered"
    last = thread["messages"][-1]
    assert (last["author"], last["author_name"], last["body"]) == (
        "staff",
        "客服",
        "请提供订单号。",
    )
    assert admin.user_id not in str(thread)  # no admin identity reaches the user

    rig.clock.advance(60)
    resp = await rig.http.post(
        f"/api/tickets/{tid}/messages", json={"body": "订单号 P20260101"}, headers=uh
    )
    back = await body_of(resp, 200)
    assert (back["status"], back["message_count"]) == ("open", 3)
    closed = await body_of(await rig.http.post(f"/api/tickets/{tid}/close", headers=uh), 200)
    assert (closed["status"], closed["closed_by"]) == ("closed", "user")
    resp = await rig.http.post(f"/api/tickets/{tid}/messages", json={"body": "还在吗"}, headers=uh)
    assert await code_of(resp, 409) == "ticket_closed"
    resp = await staff(rig, admin, tid, "messages", body="已处理")
    assert await code_of(resp, 409) == "ticket_closed"
    again_closed = await body_of(await rig.http.post(f"/api/tickets/{tid}/close", headers=uh), 200)
    assert again_closed["closed_at"] == closed["closed_at"]  # closing twice changes nothing


async def test_staff_replies_and_closes_are_audit_logged(rig: Rig) -> None:
    user = await rig.person()
    admin = await rig.person("admin")
    tid = (await body_of(await open_ticket(rig, user), 201))["id"]
    for text in ("第一次回复", "第二次回复"):
        await body_of(await staff(rig, admin, tid, "messages", body=text), 200)
    closed = await body_of(await staff(rig, admin, tid, "close"), 200)
    assert (closed["status"], closed["closed_by"]) == ("closed", "staff")
    await body_of(await staff(rig, admin, tid, "close"), 200)  # again: logged once
    log = await body_of(
        await rig.http.get(
            f"/api/admin/audit?subject_type=ticket&subject_id={tid}",
            headers=bearer(admin.token),
        ),
        200,
    )
    assert [(e["action"], e["admin_id"]) for e in log["entries"]] == [
        ("ticket.close", admin.user_id),
        ("ticket.reply", admin.user_id),
        ("ticket.reply", admin.user_id),
    ]
    assert "第一次回复" not in str(log)  # the log records the act, not the text


@pytest.mark.both_databases
async def test_the_staff_queue_serves_the_longest_wait_first(rig: Rig) -> None:
    a, b = await rig.person(), await rig.person()
    admin = await rig.person("admin")
    ah = bearer(admin.token)
    first = (await body_of(await open_ticket(rig, a), 201))["id"]
    rig.clock.advance(60)
    second = (await body_of(await open_ticket(rig, b), 201))["id"]
    rig.clock.advance(60)
    queue = await body_of(await rig.http.get("/api/admin/tickets", headers=ah), 200)
    assert [t["id"] for t in queue["tickets"]] == [first, second]
    assert queue["tickets"][0]["user_id"] == a.user_id

    await body_of(await staff(rig, admin, first, "messages", body="请稍等"), 200)
    answered = await body_of(
        await rig.http.get("/api/admin/tickets?status=answered", headers=ah), 200
    )
    assert [t["id"] for t in answered["tickets"]] == [first]
    rig.clock.advance(60)
    resp = await rig.http.post(
        f"/api/tickets/{first}/messages", json={"body": "好的"}, headers=bearer(a.token)
    )
    await body_of(resp, 200)
    # the reply waits from now: behind the ticket that has waited longer
    queue = await body_of(await rig.http.get("/api/admin/tickets?status=open", headers=ah), 200)
    assert [t["id"] for t in queue["tickets"]] == [second, first]
    # a second user message does not move it back in the queue
    rig.clock.advance(60)
    await rig.http.post(
        f"/api/tickets/{first}/messages", json={"body": "在吗"}, headers=bearer(a.token)
    )
    queue = await body_of(await rig.http.get("/api/admin/tickets?status=open", headers=ah), 200)
    assert [t["id"] for t in queue["tickets"]] == [second, first]
    await body_of(await staff(rig, admin, second, "close"), 200)
    closed = await body_of(await rig.http.get("/api/admin/tickets?status=closed", headers=ah), 200)
    assert [t["id"] for t in closed["tickets"]] == [second]
    resp = await rig.http.get("/api/admin/tickets?status=pending", headers=ah)
    assert await code_of(resp, 400) == "invalid_input"


async def test_who_may_see_and_touch_a_ticket(rig: Rig) -> None:
    user, stranger = await rig.person(), await rig.person()
    admin = await rig.person("admin")
    tid = (await body_of(await open_ticket(rig, user), 201))["id"]
    sh = bearer(stranger.token)
    assert await code_of(await rig.http.get(f"/api/tickets/{tid}", headers=sh), 404) == (
        "ticket_not_found"
    )
    resp = await rig.http.post(f"/api/tickets/{tid}/messages", json={"body": "hi"}, headers=sh)
    assert await code_of(resp, 404) == "ticket_not_found"
    resp = await rig.http.post(f"/api/tickets/{tid}/close", headers=sh)
    assert await code_of(resp, 404) == "ticket_not_found"
    assert (await body_of(await rig.http.get("/api/tickets", headers=sh), 200))["tickets"] == []
    # an admin reads it (staff still shown as 客服 there), and in full on the admin route
    got = await body_of(await rig.http.get(f"/api/tickets/{tid}", headers=bearer(admin.token)), 200)
    assert got["id"] == tid
    full = await body_of(
        await rig.http.get(f"/api/admin/tickets/{tid}", headers=bearer(admin.token)), 200
    )
    assert full["user_id"] == user.user_id and full["messages"][0]["author_id"] == user.user_id
    for path in ("/api/admin/tickets", f"/api/admin/tickets/{tid}"):
        assert (await rig.http.get(path, headers=bearer(user.token))).status == 403
    for what in ("messages", "close"):
        resp = await rig.http.post(
            f"/api/admin/tickets/{tid}/{what}",
            json={"body": "x"} if what == "messages" else None,
            headers=bearer(user.token),
        )
        assert resp.status == 403
    assert (await rig.http.get("/api/tickets")).status == 401
    resp = await staff(rig, admin, "tkt_nope", "messages", body="x")
    assert await code_of(resp, 404) == "ticket_not_found"


async def test_at_most_five_open_tickets(rig: Rig) -> None:
    user = await rig.person()
    ids = [(await body_of(await open_ticket(rig, user), 201))["id"] for _ in range(5)]
    assert await code_of(await open_ticket(rig, user), 409) == "too_many_open_tickets"
    # an answered ticket is still open; a closed one frees a place
    admin = await rig.person("admin")
    await body_of(await staff(rig, admin, ids[0], "messages", body="收到"), 200)
    assert await code_of(await open_ticket(rig, user), 409) == "too_many_open_tickets"
    await body_of(
        await rig.http.post(f"/api/tickets/{ids[0]}/close", headers=bearer(user.token)), 200
    )
    await body_of(await open_ticket(rig, user), 201)


async def test_a_ticket_holds_at_most_so_many_messages(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock, ticket_max_messages=3) as rig:
        user = await rig.person()
        admin = await rig.person("admin")
        tid = (await body_of(await open_ticket(rig, user), 201))["id"]
        await body_of(await staff(rig, admin, tid, "messages", body="2"), 200)
        resp = await rig.http.post(
            f"/api/tickets/{tid}/messages", json={"body": "3"}, headers=bearer(user.token)
        )
        assert (await body_of(resp, 200))["message_count"] == 3
        resp = await rig.http.post(
            f"/api/tickets/{tid}/messages", json={"body": "4"}, headers=bearer(user.token)
        )
        assert await code_of(resp, 409) == "ticket_full"
        assert await code_of(await staff(rig, admin, tid, "messages", body="4"), 409) == (
            "ticket_full"
        )
        await body_of(await staff(rig, admin, tid, "close"), 200)  # closing is always possible


async def test_the_payload_is_validated_and_cleaned(rig: Rig) -> None:
    user = await rig.person()
    for bad in (
        {"category": "refund"},
        {"subject": ""},
        {"subject": "x" * 81},
        {"body": "x" * 2001},
        {"request_id": "short"},
        {"session_id": "call_../../x"},
        {"extra": True},
    ):
        assert await code_of(await open_ticket(rig, user, **bad), 400) == "invalid_input", bad
    assert await code_of(await open_ticket(rig, user, body=" \n\t "), 400) == "invalid_text"
    # a NUL is refused by the request model itself; other control characters are cleaned
    assert await code_of(await open_ticket(rig, user, body="a\x00b"), 400) == "invalid_input"
    made = await body_of(await open_ticket(rig, user, subject=" 退款 ", body="a\x07b\r\nc "), 201)
    assert (made["subject"], made["messages"][0]["body"]) == ("退款", "ab\nc")
    resp = await rig.http.post(
        f"/api/tickets/{made['id']}/messages", json={"body": "x" * 2001}, headers=bearer(user.token)
    )
    assert await code_of(resp, 400) == "invalid_input"


async def test_a_ticket_links_only_my_own_session(rig: Rig) -> None:
    cust, cust_sock, comp, _ps, call_id = await rig.active_call("text")
    rig.clock.advance(30)
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    for who in (cust, comp):  # either party of the session
        made = await body_of(
            await open_ticket(rig, who, category="session", session_id=call_id), 201
        )
        assert made["session_id"] == call_id
    stranger = await rig.person()
    resp = await open_ticket(rig, stranger, session_id=call_id)
    assert await code_of(resp, 404) == "session_not_found"
    resp = await open_ticket(rig, cust, session_id="call_" + "0" * 32)
    assert await code_of(resp, 404) == "session_not_found"
    resp = await open_ticket(rig, cust, session_id=call_id, booking_id="bk_1")
    assert await code_of(resp, 400) == "invalid_ticket"


async def test_a_ticket_links_only_my_own_booking(rig: Rig) -> None:
    cust, comp, stranger = await rig.person(), await rig.person("companion"), await rig.person()
    now = rig.clock.now()
    booking_id = "bk_" + secrets.token_hex(8)
    async with rig.db.writing() as s:
        s.add(
            Booking(
                id=booking_id,
                customer_id=cust.user_id,
                companion_id=comp.user_id,
                request_id="req-booking-1",
                mode="voice",
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, minutes=30),
                duration_min=30,
                rate_fen_per_min=300,
                commission_bp=3000,
                hold_fen=9000,
                status="confirmed",
                created_at=now,
                updated_at=now,
            )
        )
    for who in (cust, comp):
        made = await body_of(
            await open_ticket(rig, who, category="booking", booking_id=booking_id), 201
        )
        assert made["booking_id"] == booking_id
    resp = await open_ticket(rig, stranger, booking_id=booking_id)
    assert await code_of(resp, 404) == "booking_not_found"
    resp = await open_ticket(rig, cust, booking_id="bk_nope")
    assert await code_of(resp, 404) == "booking_not_found"


async def test_closed_tickets_still_count_against_the_day(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock, ticket_max_per_day=3) as rig:
        user = await rig.person()
        for _ in range(3):
            tid = (await body_of(await open_ticket(rig, user), 201))["id"]
            resp = await rig.http.post(f"/api/tickets/{tid}/close", headers=bearer(user.token))
            await body_of(resp, 200)
        assert await code_of(await open_ticket(rig, user), 429) == "too_many_tickets_today"
        rig.clock.advance(24 * 3600)
        await body_of(await open_ticket(rig, user), 201)
