"""One customer, one meter: a 1:1 call (text, voice, video, a booking's), a voice-room seat —
at most one of them is open for a customer at any moment, whichever process takes which
request, because the database holds one ``active_meters`` row per customer and every path
that opens a metered session must insert it, in the transaction that reserves minute 1.

The races fire two requests of the same customer at the same instant, from two sockets, on one
server and on two apps that share the database (two processes as far as the database can tell:
each has its own engine, owner, in-process locks and presence), each on SQLite and PostgreSQL:
exactly one opens; the other is refused with ``already_in_call`` (``already_in_room`` for two
rooms) and never opened a metered session, so no money moved for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update

from kernel.clock import FakeClock
from market.voicerooms.keys import VOICE_ROOMS
from market.voicerooms.rules import CloseReason
from metering.check import check_ledger
from metering.keys import METERING
from signaling.keys import CALLS
from store.models import ActiveMeter, MeteredSession
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, Sock, request_id
from tests.market.bookings.helpers import (
    advance_to,
    confirmed,
    get,
    ledger_ok,
    open_calendar,
    slot,
    sweep,
)
from tests.market.voicerooms.test_rooms import join, opened, until_away

pytestmark = pytest.mark.timeout(60)

TRIES = 4
FUNDS = 1_000
TEXT_RATE = 100  # the test companions' text rate (Rates(100, 300, 600))
ROOM_RATE = 200


@pytest.fixture
async def pair(make_rig: RigFactory, clock: FakeClock) -> AsyncIterator[tuple[Rig, Rig]]:
    """Two apps on one database and one clock."""
    async with make_rig(clock) as a, make_rig(clock) as b:
        yield a, b


def placed(pair: tuple[Rig, Rig], where: str) -> tuple[Rig, Rig]:
    a, b = pair
    return (a, a) if where == "one_server" else (a, b)


async def wallet(rig: Rig, who: Person) -> dict[str, int]:
    data: dict[str, int] = await (
        await rig.http.get("/api/wallet", headers=bearer(who.token))
    ).json()
    return data


async def sessions_of(rig: Rig, who: Person) -> list[MeteredSession]:
    async with rig.db.reading() as s:
        return list(
            (
                await s.scalars(
                    select(MeteredSession).where(MeteredSession.customer_id == who.user_id)
                )
            ).all()
        )


async def call(sock: Sock, comp: Person, mode: str = "text", key: str | None = None) -> Any:
    return await sock.call(
        "call:request",
        {"companion_id": comp.user_id, "mode": mode, "request_id": key or request_id()},
    )


def one_winner(acks: list[Any], loser_code: str) -> int:
    """The index of the one request that opened; the other was refused with ``loser_code``."""
    assert sorted(bool(a.get("ok")) for a in acks) == [False, True], acks
    lost = next(a for a in acks if not a.get("ok"))
    assert lost["error"]["code"] == loser_code, lost
    return next(i for i, a in enumerate(acks) if a.get("ok"))


async def one_meter_open(rig: Rig, cust: Person, price_fen: int) -> MeteredSession:
    """The customer has exactly one metered session — the winner's — and holds one minute of it:
    the refused request never opened one (nothing held and released behind their back)."""
    rows = await sessions_of(rig, cust)
    assert [r.status for r in rows] == ["running"], [(r.id, r.status, r.end_reason) for r in rows]
    w = await wallet(rig, cust)
    assert (w["wallet_fen"], w["held_fen"]) == (FUNDS - price_fen, price_fen)
    return rows[0]


async def nothing_held(rig: Rig, cust: Person) -> None:
    w = await wallet(rig, cust)
    assert w["held_fen"] == 0, w
    report = await check_ledger(rig.db)
    assert report.ok, report.to_json()


# -- the races -----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["one_server", "two_servers"])
async def test_a_call_and_a_room_seat_at_once_open_one_meter(
    pair: tuple[Rig, Rig], where: str
) -> None:
    a, b = placed(pair, where)
    for _ in range(TRIES):
        cust = await a.person(fund_fen=FUNDS)
        comp, comp_sock = await a.online_companion()
        host = await a.person("companion")
        room_id = await opened(a, host, rate=ROOM_RATE)
        call_sock, room_sock = await a.connect(cust), await b.connect(cust)
        acks = await asyncio.gather(call(call_sock, comp), join(room_sock, room_id))
        won = one_winner(acks, "already_in_call")
        await one_meter_open(a, cust, (TEXT_RATE, ROOM_RATE)[won])
        # The winner ends; the meter is free, and the other kind now opens.
        if won == 0:
            await call_sock.ok("call:cancel", {"call_id": acks[0]["call"]["call_id"]})
            await call_sock.wait("call:update", lambda d: d["status"] == "ended")
            assert (await join(room_sock, room_id))["ok"]
            await room_sock.ok("room:leave", {"room_id": room_id})
        else:
            await room_sock.ok("room:leave", {"room_id": room_id})
            call_id = (await call_sock.ok("call:request", _req(comp)))["call"]["call_id"]
            await comp_sock.ok("call:decline", {"call_id": call_id})
            await call_sock.wait(
                "call:update", lambda d, c=call_id: d["call_id"] == c and d["status"] == "ended"
            )
        await nothing_held(a, cust)


@pytest.mark.parametrize("where", ["one_server", "two_servers"])
async def test_two_devices_calling_at_once_open_one_meter(
    pair: tuple[Rig, Rig], where: str
) -> None:
    a, b = placed(pair, where)
    for mode in ("text", "voice", "video", "text"):
        cust = await a.person(fund_fen=FUNDS)
        comp1, _ = await a.online_companion()
        comp2, _ = await b.online_companion()
        s1, s2 = await a.connect(cust), await b.connect(cust)
        acks = await asyncio.gather(call(s1, comp1, mode), call(s2, comp2, mode))
        won = one_winner(acks, "already_in_call")
        rate = {"text": 100, "voice": 300, "video": 600}[mode]
        await one_meter_open(a, cust, rate)
        winner = (s1, s2)[won]
        await winner.ok("call:cancel", {"call_id": acks[won]["call"]["call_id"]})
        await nothing_held(a, cust)


@pytest.mark.parametrize("where", ["one_server", "two_servers"])
async def test_two_rooms_at_once_open_one_meter(pair: tuple[Rig, Rig], where: str) -> None:
    a, b = placed(pair, where)
    for _ in range(TRIES):
        cust = await a.person(fund_fen=FUNDS)
        rooms = [await opened(a, await a.person("companion"), rate=ROOM_RATE) for _ in range(2)]
        s1, s2 = await a.connect(cust), await b.connect(cust)
        acks = await asyncio.gather(join(s1, rooms[0]), join(s2, rooms[1]))
        won = one_winner(acks, "already_in_room")
        await one_meter_open(a, cust, ROOM_RATE)
        await (s1, s2)[won].ok("room:leave", {"room_id": rooms[won]})
        await nothing_held(a, cust)


def _req(comp: Person, mode: str = "text") -> dict[str, str]:
    return {"companion_id": comp.user_id, "mode": mode, "request_id": request_id()}


# -- every way out frees the meter ---------------------------------------------------------------


async def meter_of(rig: Rig, who: Person) -> tuple[str, str] | None:
    async with rig.db.reading() as s:
        row = (
            await s.execute(
                select(ActiveMeter.session_id, ActiveMeter.kind).where(
                    ActiveMeter.customer_id == who.user_id
                )
            )
        ).first()
    return (str(row[0]), str(row[1])) if row is not None else None


async def until_meter_free(rig: Rig, who: Person) -> None:
    for _ in range(200):
        if await meter_of(rig, who) is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the meter of {who.user_id} stayed taken: {await meter_of(rig, who)}")


async def opens_again(rig: Rig, who: Person) -> None:
    """The customer can open a meter again (here a call, cancelled), and nothing is held."""
    comp, _ = await rig.online_companion()
    sock = await rig.connect(who)
    # The seat or call that held the meter is let go of by the sweep that freed it, a moment
    # after the meter: until then a call is refused as ``already_in_call`` (what a client
    # retries after its ``ended`` notice).  Anything else, or a refusal that lasts, fails.
    for _ in range(100):
        ack = await sock.call("call:request", _req(comp))
        if ack.get("ok") or ack["error"]["code"] != "already_in_call":
            break
        await asyncio.sleep(0.05)
    assert ack.get("ok"), ack
    call_id = ack["call"]["call_id"]
    assert await meter_of(rig, who) == (call_id, "call")
    await sock.ok("call:cancel", {"call_id": call_id})
    await until_meter_free(rig, who)
    await nothing_held(rig, who)


async def run_out_of_money(rig: Rig, session_id: str) -> None:
    """Bill the session until metering ends it for lack of money (the clock is a fake one: the
    ticks the runner would make are made here)."""
    metering = rig.app[METERING]
    await metering.media_up(session_id)
    for _ in range(5):
        rig.clock.advance(61)
        if (await metering.tick(session_id)).view.status == "ended":
            return
    raise AssertionError("the session never ran out of money")


async def orphan(rig: Rig, session_id: str) -> None:
    """Make the session look like one whose process died two minutes ago."""
    last = rig.clock.now()
    rig.clock.advance(130)
    async with rig.db.writing() as s:
        await s.execute(
            update(MeteredSession)
            .where(MeteredSession.id == session_id)
            .values(owner="a-process-that-died", heartbeat_at=last)
        )


CALL_ENDINGS = [
    "hangup",
    "companion_hangup",
    "decline",
    "cancel",
    "ring_timeout",
    "away",
    "funds",
    "admin",
    "moderation",
    "drain",
    "server_lost",
]


@pytest.mark.parametrize("how", CALL_ENDINGS)
async def test_every_way_a_call_ends_frees_the_meter(pair: tuple[Rig, Rig], how: str) -> None:
    a, b = pair
    cust = await a.person(fund_fen=TEXT_RATE if how == "funds" else FUNDS)
    comp, comp_sock = await a.online_companion()
    cust_sock = await a.connect(cust)
    call_id = (await cust_sock.ok("call:request", _req(comp)))["call"]["call_id"]
    assert await meter_of(a, cust) == (call_id, "call")
    if how not in ("decline", "cancel", "ring_timeout"):
        await comp_sock.ok("call:accept", {"call_id": call_id})
    ids = {"call_id": call_id}
    match how:
        case "hangup":
            await cust_sock.ok("call:hangup", ids)
        case "companion_hangup":
            await comp_sock.ok("call:hangup", ids)
        case "decline":
            await comp_sock.ok("call:decline", ids)
        case "cancel":
            await cust_sock.ok("call:cancel", ids)
        case "ring_timeout":
            a.clock.advance(31)
        case "away":
            await cust_sock.sio.disconnect()
            await asyncio.sleep(0.2)
            a.clock.advance(121)
        case "funds":
            await run_out_of_money(a, call_id)
        case "admin":
            admin_sock = await a.connect(await a.person("admin"))
            await admin_sock.ok("admin:end", ids)
        case "moderation":
            resp = await a.http.post(
                "/api/blocks", json={"user_id": cust.user_id}, headers=bearer(comp.token)
            )
            assert resp.status in (200, 201), await resp.text()
        case "drain":
            await a.app[CALLS].drain()
        case "server_lost":
            await orphan(a, call_id)
            assert await b.app[METERING].settle_orphans() == [call_id]  # the other process
    await until_meter_free(a, cust)
    async with a.db.reading() as s:
        status = await s.scalar(select(MeteredSession.status).where(MeteredSession.id == call_id))
    assert status == "ended"
    if how == "funds":
        await b.fund(cust.token, FUNDS)
    await opens_again(b, cust)  # (a drained server takes no new calls: the other one)


ROOM_ENDINGS = [
    "leave",
    "host_close",
    "admin_close",
    "block",
    "away",
    "funds",
    "media_lost",
    "drain",
    "server_lost",
]


@pytest.mark.parametrize("how", ROOM_ENDINGS)
async def test_every_way_a_seat_ends_frees_the_meter(
    make_rig: RigFactory, clock: FakeClock, how: str
) -> None:
    # Media that never comes is lost after media_lost_s (of the loop's time, not the clock's).
    fast = {"media_lost_s": 3.0} if how == "media_lost" else {"media_lost_s": 3600.0}
    async with make_rig(clock, **fast) as a, make_rig(clock, **fast) as b:
        cust = await a.person(fund_fen=ROOM_RATE if how == "funds" else FUNDS)
        host, _ = await a.online_companion()
        room_id = await opened(a, host, rate=ROOM_RATE)
        sock = await a.connect(cust)
        session_id = (await join(sock, room_id))["session_id"]
        assert await meter_of(a, cust) == (session_id, "room_seat")
        match how:
            case "leave":
                await sock.ok("room:leave", {"room_id": room_id})
            case "host_close" | "admin_close":
                closer = host if how == "host_close" else await a.person("admin")
                resp = await a.http.post(
                    f"/api/voice-rooms/{room_id}/close", headers=bearer(closer.token)
                )
                assert resp.status == 200, await resp.text()
            case "block":
                resp = await a.http.post(
                    "/api/blocks", json={"user_id": cust.user_id}, headers=bearer(host.token)
                )
                assert resp.status in (200, 201), await resp.text()
            case "away":
                await sock.sio.disconnect()
                await until_away(a, cust.user_id)
                a.clock.advance(121)
            case "funds":
                await run_out_of_money(a, session_id)
            case "media_lost":
                pass  # nobody offers media: the room closes for it
            case "drain":
                await a.app[VOICE_ROOMS].close_room(room_id, CloseReason.DRAIN)
            case "server_lost":
                await orphan(a, session_id)
                assert await b.app[METERING].settle_orphans() == [session_id]
        await until_meter_free(a, cust)
        if how == "funds":
            await b.fund(cust.token, FUNDS)
        await opens_again(b, cust)


@pytest.mark.parametrize("where", ["one_server", "two_servers"])
async def test_a_bookings_call_and_an_ad_hoc_call_at_once_open_one_meter(
    make_rig: RigFactory, clock: FakeClock, where: str
) -> None:
    """At the slot the scheduler calls the booked companion on the customer's behalf while the
    customer calls someone else: one meter; if the booking's call lost, the booking ends
    (``in_another_call`` or ``already_in_call``) with nothing of it held."""
    async with (
        make_rig(clock, booking_sweep_interval_s=3600.0) as a,
        make_rig(clock, booking_sweep_interval_s=3600.0) as b,
    ):
        other = a if where == "one_server" else b
        for _ in range(3):
            cust = await a.person(fund_fen=10_000)
            booked_comp, _ = await a.online_companion()
            await open_calendar(a, booked_comp)
            ad_hoc, _ = await other.online_companion()
            await a.connect(cust)  # present at the slot
            sock = await other.connect(cust)
            at = slot(a, 3)
            booking = await confirmed(a, cust, booked_comp, at)
            advance_to(a, at)
            counts, ack = await asyncio.gather(
                sweep(a), sock.call("call:request", _req(ad_hoc, "voice"))
            )
            rows = await sessions_of(a, cust)
            assert [r.status for r in rows] == ["running"], [(r.id, r.end_reason) for r in rows]
            got = await get(a, cust, booking["id"])
            if ack.get("ok"):
                assert await meter_of(a, cust) == (ack["call"]["call_id"], "call")
                assert got["status"] in ("no_show_customer", "failed"), got
                await sock.ok("call:cancel", {"call_id": ack["call"]["call_id"]})
            else:
                assert ack["error"]["code"] == "already_in_call", ack
                assert counts["started"] == 1 and got["status"] == "in_call"
                assert await meter_of(a, cust) == (got["call_id"], "booking")
                await sock.ok("call:cancel", {"call_id": got["call_id"]})
            await until_meter_free(a, cust)
            await ledger_ok(a)
