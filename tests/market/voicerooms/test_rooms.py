"""Voice rooms over HTTP and Socket.IO, without media: who may open one and within which bounds,
one room per host and none while in a call, moderated titles, the listing without blocked
pairs, who may see and close a room (an admin's close is audit-logged), who may join (funds,
capacity, one room at a time, idempotent resends), leaving, away members removed after the
time-out, a block removing a member — each on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from kernel.clock import FakeClock
from metering.check import check_ledger
from metering.keys import METERING
from metering.tariff import Level, Rates
from store.models import MeteredSession, User
from store.models.voicerooms import VoiceRoom, VoiceRoomMember
from tests.harness import bearer
from tests.harness.rig import Person, Rig, Sock, request_id

pytestmark = pytest.mark.timeout(60)


async def open_room(
    rig: Rig, host: Person, *, title: str = "晚间闲聊", rate: int = 200, capacity: int = 3
) -> Any:
    return await rig.http.post(
        "/api/voice-rooms",
        json={"title": title, "rate_fen_per_min": rate, "capacity": capacity},
        headers=bearer(host.token),
    )


async def opened(rig: Rig, host: Person, **kw: Any) -> str:
    resp = await open_room(rig, host, **kw)
    assert resp.status == 201, await resp.text()
    room_id: str = (await resp.json())["id"]
    return room_id


async def refused(resp: Any) -> tuple[int, str]:
    return resp.status, (await resp.json())["error"]["code"]


async def join(sock: Sock, room_id: str, key: str | None = None) -> Any:
    return await sock.call("room:join", {"room_id": room_id, "request_id": key or request_id()})


async def until_away(rig: Rig, user_id: str) -> None:
    """The server saw every device of ``user_id`` go (a disconnect is handled after it)."""
    for _ in range(100):
        async with rig.db.reading() as s:
            member = await s.scalar(
                select(VoiceRoomMember.away_at).where(
                    VoiceRoomMember.user_id == user_id, VoiceRoomMember.status == "joined"
                )
            )
            host = await s.scalar(
                select(VoiceRoom.host_away_at).where(
                    VoiceRoom.host_id == user_id, VoiceRoom.status == "open"
                )
            )
        if member is not None or host is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never away")


async def test_who_may_open_a_room_and_within_which_bounds(rig: Rig) -> None:
    cust = await rig.person()
    admin = await rig.person("admin")
    for who in (cust, admin):
        assert await refused(await open_room(rig, who)) == (403, "not_companion")
    unpriced = await rig.person()
    async with rig.db.writing() as s:
        await s.execute(update(User).where(User.id == unpriced.user_id).values(role="companion"))
    assert await refused(await open_room(rig, unpriced)) == (409, "rates_not_set")

    host = await rig.person("companion")  # a newcomer: voice 50..500 fen/min
    for rate in (49, 501):
        resp = await open_room(rig, host, rate=rate)
        body = await resp.json()
        assert (resp.status, body["error"]["code"]) == (400, "rate_out_of_bounds")
        assert body["error"]["details"] == {"min_fen": 50, "max_fen": 500}
    for capacity in (1, 10):
        assert await refused(await open_room(rig, host, capacity=capacity)) == (
            400,
            "capacity_out_of_bounds",
        )
    for title, code in [
        ("   ", "title_length"),
        ("长" * 31, "title_length"),
        ("晚安\u200b电台", "title_characters"),
        ("加我微信 abc_12345 聊", "title_contact_details"),
        ("打给我 13812345678", "title_contact_details"),
    ]:
        assert await refused(await open_room(rig, host, title=title)) == (400, code), title
    bad = await rig.http.post(
        "/api/voice-rooms",
        json={"title": "x", "rate_fen_per_min": "200", "capacity": 3},
        headers=bearer(host.token),
    )
    assert await refused(bad) == (400, "invalid_input")
    assert (await open_room(rig, Person("x", "bad-token", ""))).status == 401

    resp = await open_room(rig, host, title="  夜聊 ", rate=500, capacity=9)
    assert resp.status == 201, await resp.text()
    room = await resp.json()
    assert room["title"] == "夜聊" and room["status"] == "open"
    assert (room["rate_fen_per_min"], room["capacity"], room["listeners"]) == (500, 9, 0)
    assert room["members"] == [
        {"user_id": host.user_id, "nickname": room["host"]["nickname"], "role": "host"}
    ]
    assert room["earned_fen"] == 0  # the host sees what the room earned them
    again = await refused(await open_room(rig, host))
    assert again == (409, "room_already_open")

    # A senior specialist may ask more (the bounds of their level).
    senior = await rig.person("companion")
    await rig.app[METERING].set_rates(
        senior.user_id, Rates(100, 300, 600), level=Level.SENIOR, specialist=True
    )
    assert (await open_room(rig, senior, rate=2000)).status == 201


async def test_a_host_is_busy_while_hosting_and_a_host_in_a_call_cannot_open(rig: Rig) -> None:
    _cust, _cs, comp, _comp_sock, _call = await rig.active_call("text")
    assert await refused(await open_room(rig, comp)) == (409, "host_in_call")

    host, _host_sock = await rig.online_companion()
    caller = await rig.person(fund_fen=5_000)
    caller_sock = await rig.connect(caller)
    await caller_sock.ok("presence:watch", {"user_ids": [host.user_id]})
    room_id = await opened(rig, host)
    await caller_sock.wait("presence:update", lambda d: d["status"] == "busy")
    ring = await caller_sock.call(
        "call:request",
        {"companion_id": host.user_id, "mode": "voice", "request_id": request_id()},
    )
    assert ring["error"]["code"] == "companion_busy"
    resp = await rig.http.post(f"/api/voice-rooms/{room_id}/close", headers=bearer(host.token))
    assert resp.status == 200 and (await resp.json())["close_reason"] == "host"
    await caller_sock.wait("presence:update", lambda d: d["status"] == "online")
    await caller_sock.ok(
        "call:request",
        {"companion_id": host.user_id, "mode": "voice", "request_id": request_id()},
    )


@pytest.mark.both_databases
async def test_the_listing_hides_blocked_pairs_and_pages_newest_first(
    rig: Rig, clock: FakeClock
) -> None:
    hosts = [await rig.person("companion") for _ in range(3)]
    ids = []
    for host in hosts:
        ids.append(await opened(rig, host))
        clock.advance(1)
    viewer = await rig.person()
    await rig.http.post(
        "/api/blocks", json={"user_id": viewer.user_id}, headers=bearer(hosts[0].token)
    )
    mine = await (await rig.http.get("/api/voice-rooms", headers=bearer(viewer.token))).json()
    assert [r["id"] for r in mine["rooms"]] == [ids[2], ids[1]]
    anyone = await (await rig.http.get("/api/voice-rooms")).json()
    assert [r["id"] for r in anyone["rooms"]] == ids[::-1]
    card = anyone["rooms"][0]
    assert card["host"]["id"] == hosts[2].user_id and "phone" not in str(card)
    assert (card["listeners"], card["capacity"], card["rate_fen_per_min"]) == (0, 3, 200)

    first = await (await rig.http.get("/api/voice-rooms?limit=2")).json()
    assert [r["id"] for r in first["rooms"]] == [ids[2], ids[1]]
    rest = await (
        await rig.http.get(f"/api/voice-rooms?limit=2&cursor={first['next_cursor']}")
    ).json()
    assert [r["id"] for r in rest["rooms"]] == [ids[0]] and rest["next_cursor"] is None
    bad = await rig.http.get("/api/voice-rooms?cursor=garbage")
    assert await refused(bad) == (400, "bad_cursor")

    # The blocked pair cannot see the room either, nor join it (its existence does not leak).
    resp = await rig.http.get(f"/api/voice-rooms/{ids[0]}", headers=bearer(viewer.token))
    assert await refused(resp) == (404, "room_not_found")
    await rig.fund(viewer.token, 1_000)
    sock = await rig.connect(viewer)
    assert (await join(sock, ids[0]))["error"]["code"] == "room_not_found"
    assert (await join(sock, ids[1]))["ok"]
    # Who sits in a room is for those in it (its host, its members, admins): the public and
    # other users see the host and how many listen.
    detail = await (await rig.http.get(f"/api/voice-rooms/{ids[1]}")).json()
    assert [m["role"] for m in detail["members"]] == ["host"] and detail["listeners"] == 1
    assert viewer.user_id not in str(detail)
    stranger = await rig.person()
    resp = await rig.http.get(f"/api/voice-rooms/{ids[1]}", headers=bearer(stranger.token))
    assert viewer.user_id not in await resp.text()
    for insider in (await rig.person("admin"), hosts[1], viewer):
        resp = await rig.http.get(f"/api/voice-rooms/{ids[1]}", headers=bearer(insider.token))
        detail = await resp.json()
        assert [m["role"] for m in detail["members"]] == ["host", "member"]
        assert detail["members"][1]["user_id"] == viewer.user_id and detail["listeners"] == 1
    assert detail["earned_fen"] is None  # only the host (and admins) see the earnings


async def test_who_may_close_a_room_and_closing_ends_every_session(rig: Rig) -> None:
    host, host_sock = await rig.online_companion()
    room_id = await opened(rig, host, capacity=4)
    stranger = await rig.person()
    resp = await rig.http.post(f"/api/voice-rooms/{room_id}/close", headers=bearer(stranger.token))
    assert await refused(resp) == (403, "not_room_host")
    blocked = await rig.person()
    await rig.http.post(
        "/api/blocks", json={"user_id": host.user_id}, headers=bearer(blocked.token)
    )
    resp = await rig.http.post(f"/api/voice-rooms/{room_id}/close", headers=bearer(blocked.token))
    assert await refused(resp) == (404, "room_not_found")
    missing = await rig.http.post(
        "/api/voice-rooms/vr_" + "0" * 32 + "/close", headers=bearer(host.token)
    )
    assert await refused(missing) == (404, "room_not_found")

    members = [await rig.person(fund_fen=2_000) for _ in range(2)]
    socks = [await rig.connect(m) for m in members]
    sessions = []
    for sock in socks:
        ack = await join(sock, room_id)
        assert ack["ok"], ack
        sessions.append(ack["session_id"])
    await host_sock.wait("room:update", lambda d: len(d["members"]) == 3)

    admin = await rig.person("admin")
    resp = await rig.http.post(f"/api/voice-rooms/{room_id}/close", headers=bearer(admin.token))
    assert resp.status == 200
    closed = await resp.json()
    assert (closed["status"], closed["close_reason"], closed["members"][1:]) == (
        "closed",
        "admin",
        [],
    )
    for sock in socks:
        assert (await sock.wait("room:left"))["reason"] == "closed"
    await host_sock.wait("room:update", lambda d: d["status"] == "closed")
    async with rig.db.reading() as s:
        statuses = (
            await s.scalars(select(MeteredSession.status).where(MeteredSession.id.in_(sessions)))
        ).all()
    assert statuses == ["ended", "ended"]
    for member in members:  # no media ever flowed: nothing charged, nothing held
        wallet = await (await rig.http.get("/api/wallet", headers=bearer(member.token))).json()
        assert (wallet["wallet_fen"], wallet["held_fen"]) == (2_000, 0)
    audit = await (
        await rig.http.get("/api/admin/audit?subject_type=voice_room", headers=bearer(admin.token))
    ).json()
    assert [(e["action"], e["subject_id"], e["admin_id"]) for e in audit["entries"]] == [
        ("voiceroom.close", room_id, admin.user_id)
    ]
    # Closing again changes nothing (and logs nothing more); a closed room is the host's and
    # its past members' to see, not a stranger's.
    again = await rig.http.post(f"/api/voice-rooms/{room_id}/close", headers=bearer(host.token))
    assert (await again.json())["close_reason"] == "admin"
    for who, status in ((host, 200), (members[0], 200), (stranger, 404), (admin, 200)):
        resp = await rig.http.get(f"/api/voice-rooms/{room_id}", headers=bearer(who.token))
        assert resp.status == status
    assert (await rig.http.get(f"/api/voice-rooms/{room_id}")).status == 404
    assert room_id not in str(await (await rig.http.get("/api/voice-rooms")).json())
    assert (await check_ledger(rig.db)).ok


async def test_who_may_join_and_leave(rig: Rig) -> None:
    host, host_sock = await rig.online_companion()
    room_id = await opened(rig, host, capacity=3, rate=300)
    other_host = await rig.person("companion")
    other_room = await opened(rig, other_host)

    companion_sock = await rig.connect(await rig.person("companion"))
    assert (await join(companion_sock, room_id))["error"]["code"] == "not_customer"
    host_join = await join(host_sock, room_id)
    assert host_join["error"]["code"] == "not_customer"
    poor = await rig.person(fund_fen=299)  # less than one minute at the room's rate
    poor_sock = await rig.connect(poor)
    assert (await join(poor_sock, room_id))["error"]["code"] == "insufficient_funds"
    bad = await poor_sock.call("room:join", {"room_id": "call_" + "0" * 32, "request_id": "r" * 8})
    assert bad["error"]["code"] == "invalid_input"

    a, b, c = [await rig.person(fund_fen=3_000) for _ in range(3)]
    a_sock, b_sock, c_sock = [await rig.connect(p) for p in (a, b, c)]
    key = request_id()
    first = await join(a_sock, room_id, key)
    assert first["ok"], first
    assert first["room"]["members"][1] == {
        "user_id": a.user_id,
        "nickname": first["room"]["members"][1]["nickname"],
        "role": "member",
    }
    resent = await join(a_sock, room_id, key)
    assert resent["session_id"] == first["session_id"]  # the same membership, held once
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(a.token))).json()
    assert wallet["held_fen"] == 300
    assert (await join(a_sock, other_room, key))["error"]["code"] == "request_reused"
    assert (await join(a_sock, other_room))["error"]["code"] == "already_in_room"
    # In a room: no 1:1 call on top of it (one meter at a time).
    comp = await rig.person("companion")
    comp_sock = await rig.connect(comp)
    await comp_sock.ok("presence:set", {"accepting": True})
    refused = await a_sock.call(
        "call:request", {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()}
    )
    assert refused["error"]["code"] == "already_in_call"
    assert (await a_sock.ok("room:current"))["room"]["room_id"] == room_id
    assert (await join(b_sock, room_id))["ok"]
    assert (await join(c_sock, room_id))["error"]["code"] == "room_full"  # 3 with the host

    # In a 1:1 call: not in a room too.
    _cu, cust_sock, *_ = await rig.active_call("text")
    assert (await join(cust_sock, other_room))["error"]["code"] == "already_in_call"

    left = await a_sock.ok("room:leave", {"room_id": room_id})
    # Whoever left sees the room as the public does: the host, not who stays.
    assert [m["user_id"] for m in left["room"]["members"]] == [host.user_id]
    assert (await a_sock.wait("room:left"))["reason"] == "left"
    await host_sock.wait("room:update", lambda d: len(d["members"]) == 2)
    await a_sock.ok("room:leave", {"room_id": room_id})  # again: nothing more happens
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(a.token))).json()
    assert (wallet["wallet_fen"], wallet["held_fen"]) == (3_000, 0)
    assert (await c_sock.call("room:leave", {"room_id": room_id}))["error"]["code"] == "not_member"
    assert (await join(c_sock, room_id))["ok"]  # a place is free again
    assert (await a_sock.ok("room:current"))["room"] is None

    # Media only for the room's people; the host leaving closes the room.
    offer = {"call_id": room_id, "sdp": "v=0 an offer of some sort"}
    assert (await poor_sock.call("media:offer", offer))["error"]["code"] == "not_member"
    assert (await poor_sock.call("media:config", {"call_id": room_id}))["error"]["code"] == (
        "not_member"
    )
    assert (await b_sock.ok("media:config", {"call_id": room_id}))["ice_servers"] == []
    await host_sock.ok("room:leave", {"room_id": room_id})
    assert (await b_sock.wait("room:left"))["reason"] == "closed"
    assert (await join(a_sock, room_id))["error"]["code"] == "room_closed"
    assert (await b_sock.call("media:offer", offer))["error"]["code"] == "not_member"
    assert (await check_ledger(rig.db)).ok


async def test_a_member_away_past_the_time_out_is_removed_and_a_block_removes_one(
    rig: Rig, clock: FakeClock
) -> None:
    host, host_sock = await rig.online_companion()
    room_id = await opened(rig, host, capacity=4)
    away, blocked = await rig.person(fund_fen=1_000), await rig.person(fund_fen=1_000)
    away_sock, blocked_sock = await rig.connect(away), await rig.connect(blocked)
    assert (await join(away_sock, room_id))["ok"] and (await join(blocked_sock, room_id))["ok"]

    await rig.http.post(
        "/api/blocks", json={"user_id": blocked.user_id}, headers=bearer(host.token)
    )
    assert (await blocked_sock.wait("room:left"))["reason"] == "blocked"

    await away_sock.sio.disconnect()
    await until_away(rig, away.user_id)
    clock.advance(119)  # not yet
    await host_sock.wait("room:update", lambda d: len(d["members"]) == 2)
    clock.advance(2)
    await host_sock.wait("room:update", lambda d: len(d["members"]) == 1, timeout=5)
    detail = await (
        await rig.http.get(f"/api/voice-rooms/{room_id}", headers=bearer(host.token))
    ).json()
    assert detail["status"] == "open" and detail["listeners"] == 0
    again = await rig.connect(away)
    assert (await again.ok("room:current"))["room"] is None
    wallet = await (await rig.http.get("/api/wallet", headers=bearer(away.token))).json()
    assert (wallet["wallet_fen"], wallet["held_fen"]) == (1_000, 0)


async def test_a_host_away_past_the_time_out_closes_the_room(rig: Rig, clock: FakeClock) -> None:
    host, host_sock = await rig.online_companion()
    room_id = await opened(rig, host)
    member = await rig.person(fund_fen=1_000)
    sock = await rig.connect(member)
    assert (await join(sock, room_id))["ok"]
    await host_sock.sio.disconnect()
    await until_away(rig, host.user_id)
    clock.advance(60)
    back = await rig.connect(host, "host again")  # back within the time-out: nothing happens
    clock.advance(100)
    assert (await back.ok("room:current"))["room"]["status"] == "open"
    await back.sio.disconnect()
    await until_away(rig, host.user_id)
    clock.advance(121)
    assert (await sock.wait("room:left", timeout=5))["reason"] == "closed"
    detail = await (
        await rig.http.get(f"/api/voice-rooms/{room_id}", headers=bearer(host.token))
    ).json()
    assert detail["close_reason"] == "away"


@pytest.mark.both_databases
async def test_the_sweep_settles_what_a_crash_left_half_done(rig: Rig, clock: FakeClock) -> None:
    """A member marked left whose session still runs (the process died between the two) is
    settled; an open room whose owner stopped heartbeating is closed by another process."""
    host, _ = await rig.online_companion()
    room_id = await opened(rig, host)
    member = await rig.person(fund_fen=1_000)
    sock = await rig.connect(member)
    session_id = (await join(sock, room_id))["session_id"]
    async with rig.db.writing() as s:
        await s.execute(
            update(VoiceRoomMember)
            .where(VoiceRoomMember.id == session_id)
            .values(status="left", left_at=clock.now(), leave_reason="left")
        )
    clock.advance(31)
    for _ in range(100):
        async with rig.db.reading() as s:
            status = await s.scalar(
                select(MeteredSession.status).where(MeteredSession.id == session_id)
            )
        if status == "ended":
            break
        await asyncio.sleep(0.05)
    assert status == "ended"

    other = await rig.person("companion")
    orphan = await opened(rig, other)
    async with rig.db.writing() as s:
        await s.execute(
            update(VoiceRoom)
            .where(VoiceRoom.id == orphan)
            .values(owner="a-process-that-died", heartbeat_at=clock.now())
        )
    clock.advance(121)
    for _ in range(100):
        found = await (
            await rig.http.get(f"/api/voice-rooms/{orphan}", headers=bearer(other.token))
        ).json()
        if found["status"] == "closed":
            break
        await asyncio.sleep(0.05)
    assert found["close_reason"] == "server_lost"
    assert (await check_ledger(rig.db)).ok


async def test_rooms_per_host_and_joins_per_customer_are_capped(
    rig: Rig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market.voicerooms import rules

    monkeypatch.setattr(rules, "MAX_ROOMS_PER_HOST_PER_DAY", 2)
    monkeypatch.setattr(rules, "MAX_JOINS_PER_USER_PER_HOUR", 2)
    host = await rig.person("companion")
    for _ in range(2):
        room_id = await opened(rig, host)
        await rig.http.post(f"/api/voice-rooms/{room_id}/close", headers=bearer(host.token))
    assert await refused(await open_room(rig, host)) == (429, "too_many_rooms")
    clock.advance(24 * 3600 + 1)
    room_id = await opened(rig, host)

    member = await rig.person(fund_fen=1_000)
    sock = await rig.connect(member)
    for _ in range(2):
        assert (await join(sock, room_id))["ok"]
        await sock.ok("room:leave", {"room_id": room_id})
    assert (await join(sock, room_id))["error"]["code"] == "too_many_joins"
    clock.advance(3601)
    assert (await join(sock, room_id))["ok"]
