"""Rooms of N participants with real aiortc peers on loopback: a group voice room of nine (a host
and eight others) where everyone hears everyone, slots handed on when people leave and join,
renegotiation on the same peer connection, trickled candidates, and the ICE policy (port range,
public address, TURN REST credentials)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import numpy as np
import pytest
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
    VideoStreamTrack,
)

from media.ice import IcePolicy, PortsExhausted, turn_credentials
from media.room import BadOffer, Offer, Participant, Room
from tests.media.test_forward import RATE, Tone, dominant_hz

pytestmark = pytest.mark.timeout(90)


@dataclass
class Client:
    user_id: str
    hz: float
    pc: RTCPeerConnection
    heard: dict[str, list[np.ndarray]] = field(default_factory=dict)  # mid → pcm
    slots: dict[str, str] = field(default_factory=dict)  # mid → source user
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def transceivers(self) -> list[RTCRtpTransceiver]:
        return self.pc.getTransceivers()

    def listen(self) -> None:
        for t in self.transceivers():
            if t.mid is None or t.mid in self.heard or t.receiver.track is None:
                continue
            pcm = self.heard.setdefault(t.mid, [])
            track = t.receiver.track

            async def run(track=track, pcm=pcm) -> None:  # type: ignore[no-untyped-def]
                while True:
                    frame = await track.recv()
                    pcm.append(frame.to_ndarray().reshape(-1)[:: len(frame.layout.channels)])

            self.tasks.append(asyncio.create_task(run()))

    def tone_on(self, mid: str) -> float:
        pcm = np.concatenate(self.heard[mid])[-RATE // 2 :].astype(float)
        return dominant_hz(pcm, RATE)

    def samples(self, mid: str) -> int:
        return sum(map(len, self.heard.get(mid, [])))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()


def client(user_id: str, hz: float, slots: int) -> Client:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(Tone(hz), direction="sendrecv")
    for _ in range(slots - 1):
        pc.addTransceiver("audio", direction="recvonly")
    return Client(user_id, hz, pc)


async def join(room: Room, c: Client, *, strip_candidates: bool = False) -> None:
    await c.pc.setLocalDescription(await c.pc.createOffer())
    sdp = c.pc.localDescription.sdp
    if strip_candidates:
        sdp = "".join(
            line + "\r\n"
            for line in sdp.splitlines()
            if not line.startswith(("a=candidate", "a=end-of-candidates"))
        )
    answer = await room.answer(c.user_id, sdp)
    await c.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    c.listen()


async def until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def recording_room(kinds: tuple[str, ...] = ("audio",), ice: IcePolicy | None = None) -> Room:
    maps: dict[str, list[dict[str, str]]] = {}

    async def on_slots(user_id: str, slots: list[dict[str, str]]) -> None:
        maps[user_id] = slots

    room = Room("call_" + "0" * 32, kinds, ice, on_slots=on_slots)
    room.slot_maps = maps  # type: ignore[attr-defined]
    return room


def apply_slots(room: Room, clients: list[Client]) -> None:
    for c in clients:
        c.slots = {s["mid"]: s["user_id"] for s in room.slot_maps[c.user_id]}  # type: ignore[attr-defined]


async def test_a_group_room_of_nine_everyone_hears_everyone_on_their_own_slot() -> None:
    room = recording_room()
    clients = [client(f"u{i}", 300.0 + 100 * i, slots=8) for i in range(9)]  # host + 8
    try:
        for c in clients:
            await join(room, c)
        apply_slots(room, clients)
        for c in clients:
            assert sorted(c.slots.values()) == sorted(o.user_id for o in clients if o is not c)
        await until(lambda: all(c.samples(m) >= RATE for c in clients for m in c.slots), 30)
        for c in clients:
            by_user = {o.user_id: o.hz for o in clients}
            for mid, source in c.slots.items():
                assert abs(c.tone_on(mid) - by_user[source]) < 15, (c.user_id, mid, source)
    finally:
        for c in clients:
            await c.close()
        await room.close()


async def test_a_freed_slot_goes_to_the_next_joiner_and_its_stream_carries_on() -> None:
    room = recording_room()
    a, b, c, d = (client(f"u{i}", 400.0 + 150 * i, slots=2) for i in range(4))
    try:
        for x in (a, b, c):
            await join(room, x)
        apply_slots(room, [a])
        assert sorted(a.slots.values()) == ["u1", "u2"]
        c_mid = next(mid for mid, user in a.slots.items() if user == "u2")
        await until(lambda: a.samples(c_mid) >= RATE)
        await room.leave("u2")
        await c.close()
        await join(room, d)
        apply_slots(room, [a])
        assert a.slots[c_mid] == "u3"  # the slot C held now carries D
        before = a.samples(c_mid)
        await until(lambda: a.samples(c_mid) >= before + RATE)
        assert abs(a.tone_on(c_mid) - d.hz) < 15
        stats = await a.pc.getStats()
        lost = [s.packetsLost for s in stats.values() if getattr(s, "type", "") == "inbound-rtp"]
        # One stream on that slot: D's packets continue C's numbering (a fresh random
        # offset would look like thousands of lost packets).
        assert max(lost) < 100
    finally:
        for x in (a, b, c, d):
            await x.close()
        await room.close()


async def test_a_new_offer_on_the_same_connection_renegotiates_it_instead_of_replacing_it() -> None:
    room = recording_room()
    a, b = client("u0", 440.0, slots=1), client("u1", 660.0, slots=1)
    try:
        await join(room, a)
        await join(room, b)
        server_pc = room.participants["u0"].pc
        await until(lambda: a.samples("0") >= RATE and b.samples("0") >= RATE)
        # A asks for a second slot (as a group member does when someone joins) with a new
        # offer on the same connection: same ICE credentials, one more m-line.
        a.pc.addTransceiver("audio", direction="recvonly")
        await join(room, a)
        assert room.participants["u0"].pc is server_pc
        assert len(room.participants["u0"].transceivers["audio"]) == 2
        before = b.samples("0"), a.samples("0")
        await until(lambda: b.samples("0") > before[0] + RATE // 2)
        await until(lambda: a.samples("0") > before[1] + RATE // 2)
        assert abs(b.tone_on("0") - 440) < 15 and abs(a.tone_on("0") - 660) < 15
        # A reloaded page is a new connection (new ICE credentials): it replaces the old one.
        fresh = client("u0", 550.0, slots=1)
        await join(room, fresh)
        assert room.participants["u0"].pc is not server_pc
        assert server_pc.connectionState == "closed"
        mark = b.samples("0")
        await until(lambda: b.samples("0") > mark + RATE)
        assert abs(b.tone_on("0") - 550) < 15
        await fresh.close()
    finally:
        for x in (a, b):
            await x.close()
        await room.close()


async def test_candidates_trickled_around_the_offer_connect_it() -> None:
    room = recording_room()
    a, b = client("u0", 440.0, slots=1), client("u1", 660.0, slots=1)
    try:
        await join(room, b)
        await a.pc.setLocalDescription(await a.pc.createOffer())
        lines = a.pc.localDescription.sdp.splitlines()
        candidates = [line[2:] for line in lines if line.startswith("a=candidate")]
        ufrag = next(line.split(":", 1)[1] for line in lines if line.startswith("a=ice-ufrag"))
        assert candidates
        # The first candidate overtakes its offer: it waits for it.
        await room.candidate("u0", candidates[0], "0", 0, ufrag)
        bare = "".join(
            line + "\r\n" for line in lines if not line.startswith(("a=candidate", "a=end-of"))
        )
        answer = await room.answer("u0", bare)
        await a.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        a.listen()
        for cand in candidates[1:]:
            await room.candidate("u0", cand, "0", 0, ufrag)
        await room.candidate("u0", None, "0", 0, ufrag)  # end of candidates
        await until(lambda: a.samples("0") >= RATE and b.samples("0") >= RATE)
        assert abs(b.tone_on("0") - 440) < 15
        with pytest.raises(BadOffer):
            await room.candidate("u0", "candidate:garbage", "0", 0, ufrag)
    finally:
        for x in (a, b):
            await x.close()
        await room.close()


async def test_offers_the_session_cannot_carry_are_refused() -> None:
    voice = ("audio",)
    pc = RTCPeerConnection()
    pc.addTransceiver("audio")
    pc.addTransceiver("video")
    await pc.setLocalDescription(await pc.createOffer())
    with pytest.raises(BadOffer, match="not video"):
        Offer.read(pc.localDescription.sdp, voice)
    await pc.close()
    many = RTCPeerConnection()
    for _ in range(9):
        many.addTransceiver("audio")
    await many.setLocalDescription(await many.createOffer())
    with pytest.raises(BadOffer, match="at most 8"):
        Offer.read(many.localDescription.sdp, voice)
    await many.close()
    with pytest.raises(BadOffer):
        Offer.read("v=0 nothing here", voice)


def test_a_fully_muted_participant_is_alive_while_its_rtcp_arrives() -> None:
    p = Participant("u", None, {}, None, 1)  # type: ignore[arg-type]
    p.last_rx, p.last_rtcp = 0.0, 95.0
    assert not p.alive(100.0, 10.0)  # no RTP for 100 s, not muted
    p.muted = {"audio": True, "video": False}
    assert not p.alive(100.0, 10.0)  # the camera is said to be on, yet nothing comes
    p.muted = {"audio": True, "video": True}
    assert p.alive(100.0, 10.0)  # muted everything, still there (RTCP)
    assert not p.alive(120.0, 10.0)  # and then gone


async def test_the_ice_policy_binds_in_its_port_range_and_announces_the_public_address() -> None:
    ice = IcePolicy(host_addresses=("127.0.0.1",), public_ip="203.0.113.7", ports=(47100, 47103))
    room = recording_room(ice=ice)
    a, b = client("u0", 440.0, slots=1), client("u1", 660.0, slots=1)
    try:
        await a.pc.setLocalDescription(await a.pc.createOffer())
        answer = await room.answer("u0", a.pc.localDescription.sdp)
        await a.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        a.listen()
        await join(room, b)
        found = re.findall(r"a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", answer)
        hosts = {(addr, int(port)) for addr, port in found}
        ports = {port for _, port in hosts}
        assert len(ports) == 1 and 47100 <= next(iter(ports)) <= 47103
        assert {addr for addr, _ in hosts} == {"127.0.0.1", "203.0.113.7"}
        await until(lambda: a.samples("0") >= RATE and b.samples("0") >= RATE)
        # Two connections hold two of the four ports; four more cannot all fit.
        extra = [client(f"x{i}", 500.0, slots=1) for i in range(3)]
        with pytest.raises(PortsExhausted):
            for i, x in enumerate(extra):
                await x.pc.setLocalDescription(await x.pc.createOffer())
                await room.answer(f"x{i}", x.pc.localDescription.sdp)
        for x in extra:
            await x.close()
    finally:
        for x in (a, b):
            await x.close()
        await room.close()


def test_turn_credentials_follow_the_turn_rest_scheme() -> None:
    secret = "s3cret-shared-with-coturn"
    username, credential = turn_credentials(secret, "u_42", 1_800_000_000)
    assert username == "1800000000:u_42"
    expected = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected
    ice = IcePolicy(
        stun_urls=("stun:stun.example.org:3478",),
        turn_urls=("turn:turn.example.org:3478?transport=udp",),
        turn_secret=secret,
        turn_ttl_s=600,
    )
    stun, turn = ice.client_servers("u_42", now_s=1_000)
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    assert turn["username"] == "1600:u_42"
    assert turn["credential"] == turn_credentials(secret, "u_42", 1600)[1]
    assert IcePolicy().client_servers("u", 0) == []


class Pattern(VideoStreamTrack):
    """A moving bar, 320×240 at the track's own 30 fps pacing."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        img = np.zeros((240, 320, 3), dtype=np.uint8)
        img[:, (self.n * 4) % 320 : (self.n * 4) % 320 + 16] = 255
        self.n += 1
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def count_frames(pc: RTCPeerConnection, frames: list[int], tasks: list[asyncio.Task[None]]) -> None:
    for t in pc.getTransceivers():
        if t.kind == "video" and t.receiver.track is not None:
            track = t.receiver.track

            async def run(track=track) -> None:  # type: ignore[no-untyped-def]
                while True:
                    await track.recv()
                    frames[0] += 1

            tasks.append(asyncio.create_task(run()))


async def test_video_crosses_the_relay_and_the_camera_turns_off_and_on_by_renegotiation() -> None:
    room = recording_room(("audio", "video"))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    frames = [[0], [0]]
    tasks: list[asyncio.Task[None]] = []
    try:
        for i, pc in enumerate(pcs):
            pc.addTransceiver(Tone(440.0 + 220 * i), direction="sendrecv")
            pc.addTransceiver(Pattern(), direction="sendrecv")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await room.answer(f"u{i}", pc.localDescription.sdp)
            assert "VP8" in answer and "H264" not in answer  # only what forwards as it is
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            count_frames(pc, frames[i], tasks)
        await until(lambda: frames[0][0] >= 30 and frames[1][0] >= 30, 20)
        for p in room.participants.values():
            # Video took the synchronous path too, all but a stream's first packets (aiortc's
            # own path learns each SSRC).
            assert p.rx_packets["video"] > 30, p.rx_packets
            assert p.rx_fast > 0.9 * sum(p.rx_packets.values()), (p.rx_fast, p.rx_packets)
        # u0's camera off: its video m-line becomes recvonly, on the same connection.
        server_pc = room.participants["u0"].pc
        video = next(t for t in pcs[0].getTransceivers() if t.kind == "video")
        video.direction = "recvonly"
        await pcs[0].setLocalDescription(await pcs[0].createOffer())
        answer = await room.answer("u0", pcs[0].localDescription.sdp)
        await pcs[0].setRemoteDescription(RTCSessionDescription(answer, "answer"))
        assert room.participants["u0"].pc is server_pc
        video_section = answer[answer.index("m=video") :]
        assert "a=sendonly" in video_section  # the server still sends u1's camera to u0
        mark = frames[0][0]
        await until(lambda: frames[0][0] >= mark + 20)  # u0 still sees u1
        # ...and back on.
        video.direction = "sendrecv"
        await pcs[0].setLocalDescription(await pcs[0].createOffer())
        answer = await room.answer("u0", pcs[0].localDescription.sdp)
        await pcs[0].setRemoteDescription(RTCSessionDescription(answer, "answer"))
        assert "a=sendrecv" in answer[answer.index("m=video") :]
        mark = frames[1][0]
        await until(lambda: frames[1][0] >= mark + 20)  # u1 sees u0 again
    finally:
        for task in tasks:
            task.cancel()
        for pc in pcs:
            await pc.close()
        await room.close()


async def test_sessions_leave_no_tasks_sockets_or_threads_behind() -> None:
    """The bench checks 1,000 sessions (bench/media); here 12, some ended by the room first,
    some by the clients first."""
    import gc
    import os
    import threading

    from media.rooms import Rooms

    def counts() -> tuple[int, int, int]:
        gc.collect()
        tasks, fds = len(asyncio.all_tasks()), len(os.listdir("/proc/self/fd"))
        # The loop's default executor keeps its idle workers ("asyncio_N"): not a session's.
        threads = [t for t in threading.enumerate() if not t.name.startswith("asyncio_")]
        return (tasks, fds, len(threads))

    rooms = Rooms()

    async def session(i: int) -> None:
        call_id = f"call_{i:032x}"
        a, b = client("u0", 440.0, slots=1), client("u1", 660.0, slots=1)
        for c in (a, b):
            await c.pc.setLocalDescription(await c.pc.createOffer())
            answer = await rooms.answer(call_id, "voice", c.user_id, c.pc.localDescription.sdp)
            await c.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            c.listen()
        await until(lambda: a.samples("0") > 0 and b.samples("0") > 0)
        if i % 2:
            await rooms.close(call_id)
        for c in (a, b):
            await c.close()
        await rooms.close(call_id)

    await session(0)  # warm-up: aiortc's and av's one-time state
    await asyncio.sleep(0.5)
    before = counts()
    for i in range(1, 13):
        await session(i)
    for _ in range(50):  # closing transports and decoder threads finish their last steps
        await asyncio.sleep(0.1)
        after = counts()
        if after[0] <= before[0] and after[2] <= before[2]:
            break
    assert len(rooms) == 0
    names = sorted(t.name for t in threading.enumerate())
    assert after[0] <= before[0] and after[1] <= before[1] + 2 and after[2] <= before[2], (
        before,
        after,
        names,
    )
