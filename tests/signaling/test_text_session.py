"""A text session end to end over real sockets: request, ring, accept, chat, hang up, billing."""

from __future__ import annotations

from metering.check import check_ledger
from tests.harness import bearer
from tests.harness.rig import Rig, request_id


async def test_text_session_from_request_to_settlement(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust, "customer")
    hello = await cust_sock.wait("session:hello")
    assert hello["user_id"] == cust.user_id and hello["call"] is None

    ack = await cust_sock.ok(
        "call:request",
        {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
    )
    call = ack["call"]
    assert call["status"] == "ringing" and call["rate_fen_per_min"] == 100
    call_id = call["call_id"]
    incoming = await comp_sock.wait("call:incoming")
    assert incoming["call_id"] == call_id
    assert "phone" not in str(incoming)

    ack = await comp_sock.ok("call:accept", {"call_id": call_id})
    assert ack["call"]["status"] == "active"
    await cust_sock.wait("call:update", lambda d: d["status"] == "active")

    sent = await cust_sock.ok(
        "chat:send", {"call_id": call_id, "client_id": "m-000001", "text": "你好"}
    )
    assert sent["message"]["seq"] == 1
    got = await comp_sock.wait("chat:message", lambda d: d["seq"] == 1)
    assert got["text"] == "你好" and got["sender_id"] == cust.user_id
    await comp_sock.ok("chat:read", {"call_id": call_id, "seq": 1})
    receipt = await cust_sock.wait("chat:receipt")
    assert receipt["receipts"]["companion"] == {"delivered": 1, "read": 1}

    rig.clock.advance(61)  # 61 s connected: 2 minutes
    ack = await cust_sock.ok("call:hangup", {"call_id": call_id})
    assert ack["call"]["status"] == "ended" and ack["call"]["end_reason"] == "hangup"
    await comp_sock.wait("call:update", lambda d: d["status"] == "ended")

    wallet = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert wallet["wallet_fen"] == 1000 - 200
    assert wallet["held_fen"] == 0
    assert (await check_ledger(rig.db)).ok
