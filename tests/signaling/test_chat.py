"""Text chat: ordering, every device, idempotent resends, history paging, receipts, typing,
limits; reconnects that resume and catch up; billing that pauses while a side is away."""

from __future__ import annotations

import asyncio

import pytest

from kernel.clock import FakeClock, ScaledClock
from metering.check import check_ledger
from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory, request_id


def msg(call_id: str, n: int, text: str | None = None) -> dict[str, str]:
    return {"call_id": call_id, "client_id": f"msg-{n:06d}", "text": text or f"message {n}"}


@pytest.mark.both_databases
async def test_messages_are_ordered_and_reach_every_device(rig: Rig) -> None:
    cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call()
    cust_tablet = await rig.connect(cust, "tablet")
    acks = await asyncio.gather(
        *(cust_sock.ok("chat:send", msg(call_id, n)) for n in range(5)),
        *(comp_sock.ok("chat:send", msg(call_id, n)) for n in range(5, 10)),
    )
    seqs = sorted(a["message"]["seq"] for a in acks)
    assert seqs == list(range(1, 11))  # gap-free, each once
    for sock in (cust_sock, cust_tablet, comp_sock):
        await sock.wait("chat:message", lambda d: d["seq"] == 10)
        got = [d["seq"] for d in sock.seen("chat:message")]
        assert sorted(got) == list(range(1, 11))
    history = await cust_sock.ok("chat:history", {"call_id": call_id})
    assert [m["seq"] for m in history["messages"]] == list(range(1, 11))
    assert history["last_seq"] == 10


@pytest.mark.both_databases
async def test_a_resent_message_is_stored_and_delivered_once(rig: Rig) -> None:
    _, cust_sock, _, comp_sock, call_id = await rig.active_call()
    first, second = await asyncio.gather(
        cust_sock.ok("chat:send", msg(call_id, 1)), cust_sock.ok("chat:send", msg(call_id, 1))
    )
    assert first["message"] == second["message"]
    await cust_sock.ok("chat:send", msg(call_id, 2))
    await comp_sock.wait("chat:message", lambda d: d["seq"] == 2)
    assert [d["seq"] for d in comp_sock.seen("chat:message")] == [1, 2]


@pytest.mark.both_databases
async def test_history_pages_both_ways(make_rig: RigFactory, clock: FakeClock) -> None:
    async with make_rig(clock, chat_messages_burst=100) as rig:
        await history_pages(rig)


async def history_pages(rig: Rig) -> None:
    _, cust_sock, _, _, call_id = await rig.active_call()
    for n in range(25):
        await cust_sock.ok("chat:send", msg(call_id, n))
    latest = await cust_sock.ok("chat:history", {"call_id": call_id, "limit": 10})
    assert [m["seq"] for m in latest["messages"]] == list(range(16, 26))
    older = await cust_sock.ok("chat:history", {"call_id": call_id, "before_seq": 16, "limit": 10})
    assert [m["seq"] for m in older["messages"]] == list(range(6, 16))
    after = await cust_sock.ok("chat:history", {"call_id": call_id, "after_seq": 20})
    assert [m["seq"] for m in after["messages"]] == list(range(21, 26))


async def test_receipts_only_move_forward(rig: Rig) -> None:
    _, cust_sock, _, comp_sock, call_id = await rig.active_call()
    for n in range(3):
        await cust_sock.ok("chat:send", msg(call_id, n))
    await comp_sock.ok("chat:delivered", {"call_id": call_id, "seq": 3})
    r = await comp_sock.ok("chat:read", {"call_id": call_id, "seq": 2})
    assert r["receipts"]["companion"] == {"delivered": 3, "read": 2}
    r = await comp_sock.ok("chat:read", {"call_id": call_id, "seq": 1})  # backwards: ignored
    assert r["receipts"]["companion"] == {"delivered": 3, "read": 2}
    r = await comp_sock.ok("chat:read", {"call_id": call_id, "seq": 99})  # capped at last_seq
    assert r["receipts"]["companion"] == {"delivered": 3, "read": 3}
    await cust_sock.wait("chat:receipt", lambda d: d["receipts"]["companion"]["read"] == 3)


async def test_typing_reaches_the_other_side_only(rig: Rig) -> None:
    cust, cust_sock, _, comp_sock, call_id = await rig.active_call()
    await cust_sock.ok("chat:typing", {"call_id": call_id})
    typing = await comp_sock.wait("chat:typing")
    assert typing == {"call_id": call_id, "user_id": cust.user_id}
    assert not cust_sock.seen("chat:typing")


async def test_message_limits(rig: Rig) -> None:
    _, cust_sock, _, comp_sock, call_id = await rig.active_call()
    ack = await cust_sock.call("chat:send", msg(call_id, 1, "字" * 2001))
    assert ack["error"]["code"] == "invalid_input"
    ok = await cust_sock.ok("chat:send", msg(call_id, 2, "字" * 2000))
    assert len(ok["message"]["text"]) == 2000
    # The rate limit: a burst of 10, then refusals; nothing refused is stored.
    acks = [await cust_sock.call("chat:send", msg(call_id, n)) for n in range(100, 120)]
    refused = [a for a in acks if not a["ok"]]
    assert refused and all(a["error"]["code"] == "rate_limited" for a in refused)
    history = await comp_sock.ok("chat:history", {"call_id": call_id, "limit": 100})
    assert len(history["messages"]) == 1 + sum(a["ok"] for a in acks)


async def test_no_messages_before_accept_or_after_the_end(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    ack = await cust_sock.ok(
        "call:request", {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()}
    )
    call_id = ack["call"]["call_id"]
    assert (await cust_sock.call("chat:send", msg(call_id, 1)))["error"][
        "code"
    ] == "call_not_active"
    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    assert (await comp_sock.call("chat:send", msg(call_id, 2)))["error"][
        "code"
    ] == "call_not_active"
    # the history stays readable to both
    assert (await comp_sock.ok("chat:history", {"call_id": call_id}))["messages"] == []


async def test_reconnect_resumes_the_session_and_catches_up(rig: Rig) -> None:
    cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call()
    await cust_sock.ok("chat:send", msg(call_id, 1))
    await cust_sock.sio.disconnect()
    away = await comp_sock.wait("call:update", lambda d: d["away"]["customer"])
    assert away["status"] == "active"
    rig.clock.advance(20)
    for n in (2, 3):  # sent while the customer is away
        await comp_sock.ok("chat:send", msg(call_id, n))
    again = await rig.connect(cust, "customer again")
    hello = await again.wait("session:hello")
    assert hello["call"]["call_id"] == call_id and hello["call"]["status"] == "active"
    # the page times the call from the server's start, on the server's clock (20 s in)
    assert hello["server_ms"] - hello["call"]["accepted_ms"] == 20_000
    # and the spend so far at once, as the customer sees it
    meter = await again.wait("session:meter")
    assert meter["call_id"] == call_id and meter["billed_minutes"] == 1
    assert meter["charged_fen"] == 100 and "balance_fen" in meter
    await comp_sock.wait("call:update", lambda d: not d["away"]["customer"])
    missed = await again.ok("chat:history", {"call_id": call_id, "after_seq": 1})
    assert [m["seq"] for m in missed["messages"]] == [2, 3]
    rig.clock.advance(20)
    await again.ok("call:hangup", {"call_id": call_id})
    # 40 s of the session, 20 s of it away: 20 s connected is one minute
    w = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert (w["wallet_fen"], w["held_fen"]) == (10_000 - 100, 0)


async def test_away_past_the_time_out_ends_and_settles(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call()
    rig.clock.advance(70)  # 70 s connected: 2 minutes
    await comp_sock.sio.disconnect()
    await cust_sock.wait("call:update", lambda d: d["away"]["companion"])
    rig.clock.advance(120)
    ended = await cust_sock.wait("call:update", lambda d: d["status"] == "ended")
    assert ended["end_reason"] == "away"
    w = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
    assert (w["wallet_fen"], w["held_fen"]) == (10_000 - 200, 0)
    assert (await check_ledger(rig.db)).ok
    # The companion's meter shows what they earned (2 × 100 fen less a newcomer's 30 %); the
    # customer's never shows it.
    meter = f"/api/sessions/{call_id}/meter"
    mine = await (await rig.http.get(meter, headers=bearer(comp.token))).json()
    assert (mine["charged_fen"], mine["earned_fen"], mine["balance_fen"]) == (200, 140, 0)
    theirs = await (await rig.http.get(meter, headers=bearer(cust.token))).json()
    assert (theirs["charged_fen"], theirs["earned_fen"]) == (200, 0)


async def test_running_out_of_money_pauses_then_ends(make_rig: RigFactory) -> None:
    """At 60× speed: 2 minutes of money, the session pauses at minute 3 and ends after the
    grace; both sides are told, and the customer pays exactly 2 minutes."""
    clock = ScaledClock(anchor_epoch_s=1_800_000_000, speed=60)
    async with make_rig(clock, resume_grace_s=30, ring_timeout_s=3600) as rig:
        cust, cust_sock, _comp, comp_sock, _call_id = await rig.active_call(fund_fen=200)
        meter = await cust_sock.wait("session:meter", timeout=10)
        assert meter["rate_fen_per_min"] == 100
        for sock in (cust_sock, comp_sock):
            await sock.wait("session:notice", lambda d: d["kind"] == "paused", timeout=20)
        ended = await cust_sock.wait("call:update", lambda d: d["status"] == "ended", timeout=20)
        assert ended["end_reason"] == "funds"
        assert "balance_fen" not in str(comp_sock.seen("session:meter"))  # private to the customer
        earned = [m["earned_fen"] for m in comp_sock.seen("session:meter")]
        assert earned == sorted(earned) and earned[-1] == 140  # 2 minutes less 30 %, live
        w = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
        assert (w["wallet_fen"], w["held_fen"]) == (0, 0)
        assert (await check_ledger(rig.db)).ok


async def test_a_side_whose_devices_vanished_is_marked_away(rig: Rig) -> None:
    """The process holding the customer's sockets died: no disconnect reached the owner, but
    the devices are gone from presence; the owner's periodic check marks the customer away."""
    cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call()
    await rig.signaling.presence.device_down(cust.user_id, cust_sock.sid)  # expired, silently
    await rig.signaling.calls.keep_claims()
    away = await comp_sock.wait("call:update", lambda d: d["away"]["customer"])
    assert away["call_id"] == call_id and away["status"] == "active"


async def test_a_top_up_while_paused_resumes_the_session(make_rig: RigFactory) -> None:
    """At 60× speed: the money runs out, the session pauses; the customer tops up through the
    payment flow within the grace, and it resumes (both sides told) instead of ending."""
    clock = ScaledClock(anchor_epoch_s=1_800_000_000, speed=60)
    async with make_rig(clock, resume_grace_s=600, ring_timeout_s=3600) as rig:
        cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call(fund_fen=200)
        for sock in (cust_sock, comp_sock):
            await sock.wait("session:notice", lambda d: d["kind"] == "paused", timeout=20)
        await rig.fund(cust.token, 1000)
        for sock in (cust_sock, comp_sock):
            await sock.wait("session:notice", lambda d: d["kind"] == "resumed", timeout=10)
        call = (await cust_sock.ok("call:get", {"call_id": call_id}))["call"]
        assert call["status"] == "active"
        await cust_sock.ok("call:hangup", {"call_id": call_id})
        assert (await check_ledger(rig.db)).ok
