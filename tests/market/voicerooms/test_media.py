"""A voice room with real aiortc peers through the real server: a host and two customers each
negotiate with the relay over Socket.IO (``media:offer`` with the room's id), everyone hears
everyone on their slots, each customer is billed at the room's rate for their own connected
minutes, one runs out of money — held back alone, then removed — while the other stays, the
host's earnings are the sum of the members' companion shares, and closing the room ends every
session with the ledger in balance.  At 40× speed: a billed minute takes 1.5 s."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from sqlalchemy import select

from kernel.clock import ScaledClock
from metering.check import check_ledger
from metering.commission import split
from metering.keys import METERING
from store.models import MeteredSession
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, Sock, request_id
from tests.media.test_forward import RATE, Tone, dominant_hz

pytestmark = pytest.mark.timeout(150)

ROOM_RATE = 200  # the companion's own voice rate in the rig is 300: the room's applies
COMMISSION_BP = 3000  # a newcomer's
SHORT_MINUTES = 6  # the money of one member: time enough (9 s at 40x) to check who hears whom first


@dataclass
class Peer:
    """One person in the room: their socket and their aiortc connection to the relay."""

    person: Person
    sock: Sock
    hz: float
    pc: RTCPeerConnection
    heard: dict[str, list[np.ndarray]] = field(default_factory=dict)  # mid → pcm
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def slots(self, room_id: str) -> dict[str, str]:
        """mid → whose voice it carries, as the server last said."""
        maps = self.sock.seen("media:slots", lambda d: d["call_id"] == room_id)
        return {s["mid"]: s["user_id"] for s in maps[-1]["slots"]} if maps else {}

    def samples(self, mid: str) -> int:
        return sum(map(len, self.heard.get(mid, [])))

    def total(self) -> int:
        return sum(self.samples(mid) for mid in self.heard)

    def tone_on(self, mid: str) -> float:
        pcm = np.concatenate(self.heard[mid])[-RATE // 2 :].astype(float)
        return dominant_hz(pcm, RATE)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()


async def enter(person: Person, sock: Sock, room_id: str, hz: float, slots: int) -> Peer:
    """Offer a microphone and ``slots`` m-lines in all (the first one sends)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(Tone(hz), direction="sendrecv")
    for _ in range(slots - 1):
        pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    ack = await sock.ok("media:offer", {"call_id": room_id, "sdp": pc.localDescription.sdp})
    await pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))
    peer = Peer(person, sock, hz, pc)
    for t in pc.getTransceivers():
        if t.mid is None or t.receiver.track is None:
            continue
        pcm = peer.heard.setdefault(t.mid, [])
        track = t.receiver.track

        async def run(track=track, pcm=pcm) -> None:  # type: ignore[no-untyped-def]
            while True:
                frame = await track.recv()
                pcm.append(frame.to_ndarray().reshape(-1)[:: len(frame.layout.channels)])

        peer.tasks.append(asyncio.create_task(run()))
    return peer


async def until(condition: Callable[[], bool], within_s: float = 30.0) -> None:
    # Generous: three aiortc peers encoding in Python share two cores with the rest of the suite.
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def settled(count: Callable[[], int], within_s: float = 10.0) -> int:
    """``count()`` once it has not grown for 0.3 s (within ``within_s``)."""
    deadline = asyncio.get_running_loop().time() + within_s
    last = count()
    while True:
        await asyncio.sleep(0.3)
        now = count()
        if now == last:
            return now
        assert asyncio.get_running_loop().time() < deadline, "still receiving"
        last = now


async def test_a_room_of_three_hears_everyone_and_bills_each_member_on_their_own(
    make_rig: RigFactory,
) -> None:
    clock = ScaledClock(anchor_epoch_s=1_800_000_000, speed=40)
    async with make_rig(clock, resume_grace_s=60, ring_timeout_s=3600) as rig:
        await run_room(rig)


async def run_room(rig: Rig) -> None:
    host, host_sock = await rig.online_companion()
    resp = await rig.http.post(
        "/api/voice-rooms",
        json={"title": "周五夜聊", "rate_fen_per_min": ROOM_RATE, "capacity": 3},
        headers=bearer(host.token),
    )
    assert resp.status == 201, await resp.text()
    room_id = (await resp.json())["id"]
    short = await rig.person(fund_fen=SHORT_MINUTES * ROOM_RATE)
    rich = await rig.person(fund_fen=10_000)
    socks = {p.user_id: await rig.connect(p) for p in (short, rich)}
    for p in (short, rich):
        assert (
            await socks[p.user_id].ok("room:join", {"room_id": room_id, "request_id": request_id()})
        )["session_id"].startswith("vrs_")
    await host_sock.wait("room:update", lambda d: len(d["members"]) == 3)

    peers = [
        await enter(host, host_sock, room_id, 880.0, slots=2),
        await enter(short, socks[short.user_id], room_id, 440.0, slots=2),
        await enter(rich, socks[rich.user_id], room_id, 620.0, slots=2),
    ]
    _, short_peer, rich_peer = peers
    tone = {p.person.user_id: p.hz for p in peers}
    try:
        # Everyone hears the two others, each on a slot of their own.
        await until(lambda: all(len(p.slots(room_id)) == 2 for p in peers))
        for p in peers:
            assert sorted(p.slots(room_id).values()) == sorted(
                o.person.user_id for o in peers if o is not p
            )
        await until(
            lambda: all(p.samples(mid) >= RATE // 2 for p in peers for mid in p.slots(room_id))
        )
        for p in peers:
            for mid, source in p.slots(room_id).items():
                assert abs(p.tone_on(mid) - tone[source]) < 15, (p.person.user_id, source)
        meter = await socks[rich.user_id].wait("room:meter", lambda d: d["billed_minutes"] >= 1)
        assert meter["rate_fen_per_min"] == ROOM_RATE and meter["room_id"] == room_id

        # Read before the pause: on a loaded machine the grace can run out while the hold
        # settles, and the slots the server sends then no longer carry the short one.
        at_rich = {u: m for m, u in rich_peer.slots(room_id).items()}
        short_mid_at_rich, host_mid_at_rich = at_rich[short.user_id], at_rich[host.user_id]

        # The short one's money runs out: held back alone (nothing to or from them)...
        short_sock = socks[short.user_id]
        notice = await short_sock.wait("room:notice", lambda d: d["kind"] == "paused")
        assert notice["reason"] == "insufficient_funds"
        # The relay holds them back right after the notice: wait until nothing more arrives
        # (what was in flight, and what a loaded machine forwarded before the hold landed).
        held = await settled(short_peer.total)
        from_short, from_host = (
            rich_peer.samples(short_mid_at_rich),
            rich_peer.samples(host_mid_at_rich),
        )
        await asyncio.sleep(0.5)
        assert short_peer.total() == held
        assert rich_peer.samples(short_mid_at_rich) == from_short
        assert rich_peer.samples(host_mid_at_rich) > from_host + RATE // 4  # the others go on

        # ...then, with no top-up within the grace, removed; the other one stays.
        assert (await short_sock.wait("room:left"))["reason"] == "funds"
        await host_sock.wait(
            "room:update",
            lambda d: [m["user_id"] for m in d["members"]] == [host.user_id, rich.user_id],
        )
        mark = rich_peer.samples(host_mid_at_rich)
        await until(lambda: rich_peer.samples(host_mid_at_rich) > mark + RATE // 2)
        await socks[rich.user_id].wait("room:meter", lambda d: d["billed_minutes"] > SHORT_MINUTES)

        closed = await rig.http.post(
            f"/api/voice-rooms/{room_id}/close", headers=bearer(host.token)
        )
        assert closed.status == 200
        assert (await socks[rich.user_id].wait("room:left"))["reason"] == "closed"
    finally:
        for p in peers:
            await p.close()

    async with rig.db.reading() as s:
        sessions = {
            row.customer_id: row
            for row in (
                await s.scalars(
                    select(MeteredSession).where(
                        MeteredSession.customer_id.in_([short.user_id, rich.user_id])
                    )
                )
            ).all()
        }
    cut, kept = sessions[short.user_id], sessions[rich.user_id]
    assert (cut.status, cut.end_reason, cut.billed_minutes) == (
        "ended",
        "insufficient_funds",
        SHORT_MINUTES,
    )
    assert (kept.status, kept.end_reason) == ("ended", "closed")
    for row in (cut, kept):
        assert row.rate_fen_per_min == ROOM_RATE and row.companion_id == host.user_id
        assert row.charged_fen == row.billed_minutes * ROOM_RATE
    assert kept.billed_minutes > SHORT_MINUTES
    for person, row in ((short, cut), (rich, kept)):
        wallet = await (await rig.http.get("/api/wallet", headers=bearer(person.token))).json()
        assert (wallet["wallet_fen"], wallet["held_fen"]) == (
            (SHORT_MINUTES * ROOM_RATE if person is short else 10_000) - row.charged_fen,
            0,
        )

    # The host earned the companion's share of each member's minutes, and sees it.
    share = split(ROOM_RATE, COMMISSION_BP).companion_fen
    expected = share * (cut.billed_minutes + kept.billed_minutes)
    views = [await rig.app[METERING].view(row.id) for row in (cut, kept)]
    assert sum(v.earned_fen for v in views) == expected
    await host_sock.wait("room:meter", lambda d: d.get("earned_fen") == expected)
    detail = await (
        await rig.http.get(f"/api/voice-rooms/{room_id}", headers=bearer(host.token))
    ).json()
    assert (detail["status"], detail["earned_fen"]) == ("closed", expected)
    assert (await check_ledger(rig.db)).ok
    assert rig.signaling.rooms.get(room_id) is None  # the media room closed with the room


# Media liveness does not depend on the database (tests/media do the same): SQLite only.
@pytest.mark.parametrize("db_target", ["sqlite"], indirect=True)
async def test_a_members_media_lost_removes_them_and_the_hosts_closes_the_room(
    make_rig: RigFactory,
) -> None:
    from kernel.clock import FakeClock

    async with make_rig(FakeClock(), media_silence_s=0.5, media_lost_s=1.5) as rig:
        host, host_sock = await rig.online_companion()
        resp = await rig.http.post(
            "/api/voice-rooms",
            json={"title": "短暂", "rate_fen_per_min": ROOM_RATE, "capacity": 3},
            headers=bearer(host.token),
        )
        room_id = (await resp.json())["id"]
        people = [await rig.person(fund_fen=1_000) for _ in range(2)]
        socks = [await rig.connect(p) for p in people]
        for sock in socks:
            await sock.ok("room:join", {"room_id": room_id, "request_id": request_id()})
        peers = [await enter(host, host_sock, room_id, 880.0, slots=2)]
        for p, sock, hz in zip(people, socks, (440.0, 620.0), strict=True):
            peers.append(await enter(p, sock, room_id, hz, slots=2))
        try:
            for sock in socks:  # billed: both here, and the host
                await sock.wait("media:state", lambda d: d["flowing"] and d["call_id"] == room_id)
            await peers[1].close()  # the first member's media stops
            assert not (await socks[0].wait("media:state", lambda d: not d["flowing"]))["flowing"]
            assert (await socks[0].wait("room:left"))["reason"] == "media_lost"
            await host_sock.wait("room:update", lambda d: len(d["members"]) == 2)
            assert rig.signaling.rooms.get(room_id).participants.keys() == {
                host.user_id,
                people[1].user_id,
            }
            await peers[0].close()  # the host's media stops: the room ends
            assert (await socks[1].wait("room:left"))["reason"] == "closed"
        finally:
            for p in peers:
                await p.close()
        detail = await (
            await rig.http.get(f"/api/voice-rooms/{room_id}", headers=bearer(host.token))
        ).json()
        assert detail["close_reason"] == "media_lost"
        assert rig.signaling.rooms.get(room_id) is None
        assert (await check_ledger(rig.db)).ok
