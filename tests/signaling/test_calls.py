"""Calls over real sockets: ringing, accept / decline / cancel / time-out with nothing charged,
devices, the races, one session per companion, refusals that hold nothing."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from metering.check import check_ledger
from tests.harness import bearer
from tests.harness.rig import Person, Rig, Sock, request_id


async def wallet(rig: Rig, who: Person) -> dict[str, int]:
    data: dict[str, int] = await (
        await rig.http.get("/api/wallet", headers=bearer(who.token))
    ).json()
    return data


async def ring(rig: Rig, cust_sock: Sock, comp: Person, mode: str = "text") -> str:
    ack = await cust_sock.ok(
        "call:request", {"companion_id": comp.user_id, "mode": mode, "request_id": request_id()}
    )
    call_id: str = ack["call"]["call_id"]
    return call_id


async def assert_nothing_held(rig: Rig, who: Person, fen: int) -> None:
    w = await wallet(rig, who)
    assert (w["wallet_fen"], w["held_fen"]) == (fen, 0)
    assert (await check_ledger(rig.db)).ok


async def test_connect_refused_without_a_valid_token(rig: Rig) -> None:
    for auth in (None, {"token": "nope"}, {"token": 5}, "garbage"):
        sock = Sock("anon")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sock.sio.connect(rig.url, auth=auth, transports=["websocket"], wait_timeout=3)


async def test_connect_with_the_session_cookie(rig: Rig) -> None:
    who = await rig.person()
    sock = Sock("cookie")
    await sock.sio.connect(
        rig.url,
        headers={"Cookie": f"peiliao_session={who.token}"},
        transports=["websocket"],
        wait_timeout=3,
    )
    rig.socks.append(sock)
    hello = await sock.wait("session:hello")
    assert hello["user_id"] == who.user_id


@pytest.mark.parametrize("how", ["decline", "cancel", "timeout"])
async def test_unanswered_calls_charge_nothing(rig: Rig, how: str) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    w = await wallet(rig, cust)
    assert (w["wallet_fen"], w["held_fen"]) == (900, 100)  # minute 1 reserved while ringing
    if how == "decline":
        await comp_sock.ok("call:decline", {"call_id": call_id})
        reason = "declined"
    elif how == "cancel":
        await cust_sock.ok("call:cancel", {"call_id": call_id})
        reason = "cancelled"
    else:
        rig.clock.advance(30)
        reason = "timed_out"
    ended = await cust_sock.wait("call:update", lambda d: d["status"] == "ended")
    assert ended["end_reason"] == reason
    await comp_sock.wait("call:ring_stop")
    await assert_nothing_held(rig, cust, 1000)
    # the companion is free again
    statuses = (await cust_sock.ok("presence:watch", {"user_ids": [comp.user_id]}))["statuses"]
    assert statuses == {comp.user_id: "online"}


async def test_ring_timeout_waits_for_the_deadline(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, _ = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    rig.clock.advance(29)
    await asyncio.sleep(0.3)  # several sweeps
    assert (await cust_sock.ok("call:get", {"call_id": call_id}))["call"]["status"] == "ringing"


@pytest.mark.both_databases
async def test_every_device_rings_and_the_first_accept_wins(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, phone = await rig.online_companion()
    laptop = await rig.connect(comp, "laptop")
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    await phone.wait("call:incoming")
    await laptop.wait("call:incoming")
    acks = await asyncio.gather(
        phone.call("call:accept", {"call_id": call_id}),
        laptop.call("call:accept", {"call_id": call_id}),
    )
    winners = [a for a in acks if a["ok"]]
    losers = [a for a in acks if not a["ok"]]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["error"]["code"] == "answered_elsewhere"
    device = winners[0]["call"]["accepted_device"]
    assert device in (phone.sid, laptop.sid)
    for sock in (phone, laptop):  # both devices learn who answered and stop ringing
        stop = await sock.wait("call:ring_stop")
        assert stop["accepted_device"] == device
    # the winner's accept is idempotent
    winner = phone if device == phone.sid else laptop
    again = await winner.call("call:accept", {"call_id": call_id})
    assert again["ok"] and again["call"]["status"] == "active"


@pytest.mark.both_databases
async def test_accept_vs_cancel_at_the_same_moment(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    accept, cancel = await asyncio.gather(
        comp_sock.call("call:accept", {"call_id": call_id}),
        cust_sock.call("call:cancel", {"call_id": call_id}),
    )
    assert accept["ok"] != cancel["ok"]  # exactly one wins
    final = (await cust_sock.ok("call:get", {"call_id": call_id}))["call"]
    if accept["ok"]:
        assert final["status"] == "active"
        assert cancel["error"]["code"] == "call_active"
        rig.clock.advance(1)
        await cust_sock.ok("call:hangup", {"call_id": call_id})
        await assert_nothing_held(rig, cust, 900)  # a second's text session: one minute
    else:
        assert final["end_reason"] == "cancelled"
        assert accept["error"]["code"] == "call_ended"
        await assert_nothing_held(rig, cust, 1000)


@pytest.mark.both_databases
async def test_ring_timeout_vs_accept(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    rig.clock.advance(30)
    ack = await comp_sock.call("call:accept", {"call_id": call_id})
    assert not ack["ok"] and ack["error"]["code"] == "call_ended"
    ended = await cust_sock.wait("call:update", lambda d: d["status"] == "ended")
    assert ended["end_reason"] == "timed_out"
    await assert_nothing_held(rig, cust, 1000)


@pytest.mark.both_databases
async def test_one_open_call_per_companion(rig: Rig) -> None:
    a = await rig.person(fund_fen=1000)
    b = await rig.person(fund_fen=1000)
    comp, _ = await rig.online_companion()
    a_sock, b_sock = await rig.connect(a), await rig.connect(b)
    acks = await asyncio.gather(
        *(
            s.call(
                "call:request",
                {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
            )
            for s in (a_sock, b_sock)
        )
    )
    assert sorted(x["ok"] for x in acks) == [False, True]
    loser = next(x for x in acks if not x["ok"])
    assert loser["error"]["code"] == "companion_busy"
    loser_person = a if acks[0] is loser else b
    await assert_nothing_held(rig, loser_person, 1000)
    watcher = await rig.connect(await rig.person())
    statuses = (await watcher.ok("presence:watch", {"user_ids": [comp.user_id]}))["statuses"]
    assert statuses[comp.user_id] == "busy"


async def test_refusals_hold_nothing_and_leave_the_companion_free(rig: Rig) -> None:
    poor = await rig.person(fund_fen=500)  # less than a minute of video (600)
    comp, comp_sock = await rig.online_companion()
    sock = await rig.connect(poor)
    ack = await sock.call(
        "call:request", {"companion_id": comp.user_id, "mode": "video", "request_id": request_id()}
    )
    assert ack == {
        "ok": False,
        "error": {
            "code": "insufficient_funds",
            "message": "the balance does not cover the next minute; top up first",
        },
    }
    assert not comp_sock.seen("call:incoming")
    await assert_nothing_held(rig, poor, 500)
    statuses = (await sock.ok("presence:watch", {"user_ids": [comp.user_id]}))["statuses"]
    assert statuses[comp.user_id] == "online"


async def test_offline_or_not_a_companion(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    other = await rig.person()
    comp = await rig.person("companion")  # never connected
    sock = await rig.connect(cust)

    async def request(target: str) -> str:
        ack = await sock.call(
            "call:request", {"companion_id": target, "mode": "voice", "request_id": request_id()}
        )
        assert not ack["ok"]
        code: str = ack["error"]["code"]
        return code

    assert await request(comp.user_id) == "companion_offline"
    assert await request(other.user_id) == "not_callable"
    assert await request(cust.user_id) == "not_callable"
    assert await request("u_nobody") == "not_callable"
    comp_sock = await rig.connect(comp)
    assert await request(comp.user_id) == "companion_offline"  # connected, not accepting
    await comp_sock.ok("presence:set", {"accepting": True})
    await comp_sock.ok("presence:set", {"accepting": False})
    assert await request(comp.user_id) == "companion_offline"
    await assert_nothing_held(rig, cust, 1000)


@pytest.mark.both_databases
async def test_a_resent_request_returns_the_same_call(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, _ = await rig.online_companion()
    sock = await rig.connect(cust)
    payload = {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()}
    first, second = await asyncio.gather(
        sock.call("call:request", payload), sock.call("call:request", payload)
    )
    assert first["ok"] and second["ok"]
    assert first["call"]["call_id"] == second["call"]["call_id"]
    w = await wallet(rig, cust)
    assert (w["wallet_fen"], w["held_fen"]) == (900, 100)  # one minute held, once


@pytest.mark.both_databases
async def test_one_open_call_per_customer(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp1, _ = await rig.online_companion()
    comp2, _ = await rig.online_companion()
    sock = await rig.connect(cust)
    await ring(rig, sock, comp1)
    ack = await sock.call(
        "call:request", {"companion_id": comp2.user_id, "mode": "text", "request_id": request_id()}
    )
    assert ack["error"]["code"] == "already_in_call"


async def test_presence_updates_reach_watchers(rig: Rig) -> None:
    comp = await rig.person("companion")
    watcher = await rig.connect(await rig.person())
    ack = await watcher.ok("presence:watch", {"user_ids": [comp.user_id]})
    assert ack["statuses"] == {comp.user_id: "offline"}
    comp_sock = await rig.connect(comp)
    await comp_sock.ok("presence:set", {"accepting": True})
    await watcher.wait("presence:update", lambda d: d["status"] == "online")
    await comp_sock.sio.disconnect()
    await watcher.wait("presence:update", lambda d: d["status"] == "offline")


async def test_only_companions_take_orders(rig: Rig) -> None:
    sock = await rig.connect(await rig.person())
    ack = await sock.call("presence:set", {"accepting": True})
    assert ack["error"]["code"] == "forbidden"


async def test_admin_ends_a_session_and_participants_cannot(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    await comp_sock.ok("call:accept", {"call_id": call_id})
    rig.clock.advance(5)
    ack = await cust_sock.call("admin:end", {"call_id": call_id})
    assert ack["error"]["code"] == "forbidden"
    admin = await rig.person("admin")
    admin_sock = await rig.connect(admin)
    seen = await admin_sock.ok("call:get", {"call_id": call_id})  # admins may read
    assert seen["call"]["status"] == "active"
    ended = await admin_sock.ok("admin:end", {"call_id": call_id})
    assert ended["call"]["end_reason"] == "admin"
    await cust_sock.wait("call:update", lambda d: d["status"] == "ended")
    await assert_nothing_held(rig, cust, 900)


async def test_presence_over_http_for_listings(rig: Rig) -> None:
    comp, _ = await rig.online_companion()
    offline = await rig.person("companion")
    viewer = await rig.person()
    resp = await rig.http.get(
        f"/api/presence?ids={comp.user_id},{offline.user_id}", headers=bearer(viewer.token)
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["statuses"] == {comp.user_id: "online", offline.user_id: "offline"}
    bad = await rig.http.get("/api/presence?ids=a;b", headers=bearer(viewer.token))
    assert bad.status == 400
    assert (await rig.http.get(f"/api/presence?ids={comp.user_id}")).status == 401


@pytest.mark.both_databases
async def test_end_vs_tick_at_the_same_moment(rig: Rig) -> None:
    """A hang-up racing the minute-1 tick: minute 1 is charged once, minute 2's reservation
    (if the tick made it) is released, and the ledger balances."""
    from metering.keys import METERING

    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    await comp_sock.ok("call:accept", {"call_id": call_id})
    rig.clock.advance(60)
    _tick, hangup = await asyncio.gather(
        rig.app[METERING].tick(call_id),
        cust_sock.call("call:hangup", {"call_id": call_id}),
        return_exceptions=True,
    )
    assert hangup["ok"], hangup
    await assert_nothing_held(rig, cust, 900)


async def test_a_customer_gone_while_it_rings_is_not_billed(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = await ring(rig, cust_sock, comp)
    await cust_sock.sio.disconnect()
    await asyncio.sleep(0.2)
    ack = await comp_sock.ok("call:accept", {"call_id": call_id})
    assert ack["call"]["away"]["customer"] is True
    rig.clock.advance(121)
    ended = await comp_sock.wait("call:update", lambda d: d["status"] == "ended")
    assert ended["end_reason"] == "away"
    await assert_nothing_held(rig, cust, 1000)
