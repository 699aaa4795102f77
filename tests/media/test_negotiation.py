"""A voice call through the real server: each participant negotiates with the server over
Socket.IO (``media:offer``) and hears the other's tone, forwarded by the relay."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from kernel.clock import FakeClock
from media.ice import turn_credentials
from metering.service import to_ms
from tests.harness import bearer
from tests.harness.rig import Rig, RigFactory, Sock, request_id
from tests.media.test_forward import RATE, Tone, dominant_hz

pytestmark = pytest.mark.timeout(60)


async def negotiate(sock: Sock, call_id: str, pc: RTCPeerConnection) -> dict[str, object]:
    await pc.setLocalDescription(await pc.createOffer())
    ack = await sock.call("media:offer", {"call_id": call_id, "sdp": pc.localDescription.sdp})
    if ack["ok"]:
        await pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))
    return dict(ack)


async def hear_each_other(
    heard_by_cust: list[np.ndarray], heard_by_comp: list[np.ndarray], cust_hz: float, comp_hz: float
) -> None:
    """Wait (≤ 15 s) until each side has heard a second of audio, then check that each hears
    the other's tone."""
    for _ in range(300):
        if sum(map(len, heard_by_cust)) >= RATE and sum(map(len, heard_by_comp)) >= RATE:
            break
        await asyncio.sleep(0.05)

    def tone(heard: list[np.ndarray]) -> float:
        return dominant_hz(np.concatenate(heard)[-RATE // 2 :].astype(float), RATE)

    assert abs(tone(heard_by_cust) - comp_hz) < 10 and abs(tone(heard_by_comp) - cust_hz) < 10


def listen(
    pc: RTCPeerConnection, heard: list[np.ndarray], tasks: list[asyncio.Future[None]]
) -> None:
    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        async def run() -> None:
            while True:
                frame = await track.recv()
                heard.append(frame.to_ndarray().reshape(-1)[:: len(frame.layout.channels)])

        tasks.append(asyncio.ensure_future(run()))


async def test_a_voice_call_each_side_hears_the_others_tone(rig: Rig) -> None:
    cust = await rig.person(fund_fen=10_000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = (
        await cust_sock.ok(
            "call:request",
            {"companion_id": comp.user_id, "mode": "voice", "request_id": request_id()},
        )
    )["call"]["call_id"]
    config = RTCConfiguration(iceServers=[])
    cust_pc, comp_pc = RTCPeerConnection(config), RTCPeerConnection(config)
    tasks: list[asyncio.Future[None]] = []
    heard_by_cust: list[np.ndarray] = []
    heard_by_comp: list[np.ndarray] = []
    try:
        cust_pc.addTrack(Tone(440.0))
        comp_pc.addTrack(Tone(660.0))
        listen(cust_pc, heard_by_cust, tasks)
        listen(comp_pc, heard_by_comp, tasks)
        early = await negotiate(cust_sock, call_id, cust_pc)
        assert early["error"]["code"] == "call_not_active"  # type: ignore[index]
        cust_pc = RTCPeerConnection(config)  # a fresh offer after the refusal
        cust_pc.addTrack(Tone(440.0))
        listen(cust_pc, heard_by_cust, tasks)
        await comp_sock.ok("call:accept", {"call_id": call_id})
        stranger = await rig.connect(await rig.person())
        stranger_pc = RTCPeerConnection(config)
        stranger_pc.addTrack(Tone(880.0))
        refused = await negotiate(stranger, call_id, stranger_pc)
        await stranger_pc.close()
        assert refused["error"]["code"] == "not_participant"  # type: ignore[index]
        bad = await stranger.call("media:offer", {"call_id": call_id, "sdp": "v=0 garbage"})
        assert bad["error"]["code"] == "not_participant"
        junk = await cust_sock.call("media:offer", {"call_id": call_id, "sdp": "v=0 garbage here"})
        assert not junk["ok"] and junk["error"]["code"] != "internal"

        assert (await negotiate(cust_sock, call_id, cust_pc))["ok"]
        assert (await negotiate(comp_sock, call_id, comp_pc))["ok"]
        for _ in range(100):
            if sum(map(len, heard_by_cust)) >= RATE and sum(map(len, heard_by_comp)) >= RATE:
                break
            await asyncio.sleep(0.05)
        last = RATE // 2
        assert (
            abs(dominant_hz(np.concatenate(heard_by_cust)[-last:].astype(float), RATE) - 660) < 10
        )
        assert (
            abs(dominant_hz(np.concatenate(heard_by_comp)[-last:].astype(float), RATE) - 440) < 10
        )
        room = rig.signaling.rooms.get(call_id)
        for user in (cust.user_id, comp.user_id):
            p = room.participants[user]
            # Audio took the synchronous path, all but the first packet or so (aiortc's own
            # path learns the SSRC).
            assert p.rx_fast > 0.9 * p.rx_packets["audio"], (p.rx_fast, p.rx_packets)
        await cust_sock.ok("call:hangup", {"call_id": call_id})
        await asyncio.sleep(0.2)
        assert rig.signaling.rooms.get(call_id) is None  # the room closed with the call
    finally:
        for task in tasks:
            task.cancel()
        for pc in (cust_pc, comp_pc):
            await pc.close()


async def test_billed_while_media_flows_paused_on_silence_ended_when_lost(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(clock, media_silence_s=1.0, media_lost_s=2.0) as rig:
        cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call("voice", fund_fen=10_000)
        config = RTCConfiguration(iceServers=[])
        cust_pc, comp_pc = RTCPeerConnection(config), RTCPeerConnection(config)
        try:
            cust_pc.addTrack(Tone(440.0))
            comp_pc.addTrack(Tone(660.0))
            assert (await negotiate(cust_sock, call_id, cust_pc))["ok"]
            assert (await negotiate(comp_sock, call_id, comp_pc))["ok"]
            await cust_sock.wait("media:state", lambda d: d["flowing"], timeout=10)
            meter = await cust_sock.wait("session:meter", timeout=10)
            assert meter["rate_fen_per_min"] == 300
            clock.advance(30)  # 30 s of media both ways
            await cust_pc.close()  # the customer's media stops
            await comp_sock.wait("media:state", lambda d: not d["flowing"], timeout=5)
            clock.advance(100)  # not billed while paused
            ended = await comp_sock.wait(
                "call:update", lambda d: d["status"] == "ended", timeout=10
            )
            assert ended["end_reason"] == "media_lost"
            wallet = await (await rig.http.get("/api/wallet", headers=bearer(cust.token))).json()
            assert (wallet["wallet_fen"], wallet["held_fen"]) == (10_000 - 300, 0)
            assert rig.signaling.rooms.get(call_id) is None
        finally:
            for pc in (cust_pc, comp_pc):
                await pc.close()


async def test_no_money_stops_forwarding_both_ways_until_a_top_up(make_rig: RigFactory) -> None:
    """At 60× speed: one voice minute of money; when the session pauses the relay stops
    forwarding both ways; a top-up resumes the session and the media."""
    from kernel.clock import ScaledClock

    clock = ScaledClock(anchor_epoch_s=1_800_000_000, speed=60)
    # ring and pause grace kept long in real seconds: a loaded machine must not turn the accept
    # into a ring time-out or the top-up into a late one (this tests forwarding, not timers)
    async with make_rig(clock, resume_grace_s=600, ring_timeout_s=3600) as rig:
        cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call(
            "voice",
            fund_fen=300,  # the first voice minute only
        )
        config = RTCConfiguration(iceServers=[])
        cust_pc, comp_pc = RTCPeerConnection(config), RTCPeerConnection(config)
        tasks: list[asyncio.Future[None]] = []
        heard_by_cust: list[np.ndarray] = []
        heard_by_comp: list[np.ndarray] = []
        try:
            cust_pc.addTrack(Tone(440.0))
            comp_pc.addTrack(Tone(660.0))
            listen(cust_pc, heard_by_cust, tasks)
            listen(comp_pc, heard_by_comp, tasks)
            assert (await negotiate(cust_sock, call_id, cust_pc))["ok"]
            assert (await negotiate(comp_sock, call_id, comp_pc))["ok"]
            await comp_sock.wait("session:notice", lambda d: d["kind"] == "paused", timeout=20)
            await asyncio.sleep(0.3)  # what was in flight arrives
            held = (len(heard_by_cust), len(heard_by_comp))
            await asyncio.sleep(0.6)
            assert (len(heard_by_cust), len(heard_by_comp)) == held  # nothing forwarded
            await rig.fund(cust.token, 3000)
            await comp_sock.wait("session:notice", lambda d: d["kind"] == "resumed", timeout=10)
            for _ in range(40):
                if len(heard_by_cust) > held[0] + 10 and len(heard_by_comp) > held[1] + 10:
                    break
                await asyncio.sleep(0.05)
            assert len(heard_by_cust) > held[0] + 10 and len(heard_by_comp) > held[1] + 10
            for pc in (cust_pc, comp_pc):
                # What was held back left no hole: the numbering carries on after the pause
                # (a hole of ~50 packets would look like loss, and freeze video decoders).
                stats = (await pc.getStats()).values()
                lost = [s.packetsLost for s in stats if getattr(s, "type", "") == "inbound-rtp"]
                assert lost and max(lost) < 5, lost
            await cust_sock.ok("call:hangup", {"call_id": call_id})
        finally:
            for task in tasks:
                task.cancel()
            for pc in (cust_pc, comp_pc):
                await pc.close()


async def test_trickled_candidates_ice_config_slots_and_mute_over_the_socket(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    secret = "coturn-static-auth-secret"
    async with make_rig(
        clock,
        ice_stun_urls="stun:stun.example.org:3478",
        ice_turn_urls="turn:turn.example.org:3478",
        ice_turn_secret=secret,
        ice_turn_ttl_s=900,
    ) as rig:
        cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("voice", fund_fen=10_000)
        config = await cust_sock.ok("media:config", {"call_id": call_id})
        stun, turn = config["ice_servers"]
        assert stun == {"urls": ["stun:stun.example.org:3478"]}
        expires = to_ms(clock.now()) // 1000 + 900
        assert turn["username"] == f"{expires}:{cust.user_id}"
        assert turn["credential"] == turn_credentials(secret, cust.user_id, expires)[1]
        outsiders = [
            await rig.connect(await rig.person(fund_fen=1000)),
            (await rig.online_companion())[1],
            await rig.connect(await rig.person("admin")),
        ]
        attempts = {
            "media:config": {"call_id": call_id},
            "media:offer": {"call_id": call_id, "sdp": "v=0 an offer of some sort"},
            "media:candidate": {"call_id": call_id, "candidate": None},
            "media:mute": {"call_id": call_id, "audio": True, "video": True},
        }
        for outsider in outsiders:
            for event, body in attempts.items():
                refused = await outsider.call(event, body)
                assert refused["error"]["code"] == "not_participant", (event, refused)

        rtc = RTCConfiguration(iceServers=[])
        cust_pc, comp_pc = RTCPeerConnection(rtc), RTCPeerConnection(rtc)
        tasks: list[asyncio.Future[None]] = []
        heard_by_cust: list[np.ndarray] = []
        heard_by_comp: list[np.ndarray] = []
        try:
            cust_pc.addTrack(Tone(440.0))
            comp_pc.addTrack(Tone(660.0))
            listen(cust_pc, heard_by_cust, tasks)
            listen(comp_pc, heard_by_comp, tasks)
            # The customer trickles: an offer without candidates, candidates on their own
            # (the first one before the offer).
            await cust_pc.setLocalDescription(await cust_pc.createOffer())
            lines = cust_pc.localDescription.sdp.splitlines()
            cands = [line[2:] for line in lines if line.startswith("a=candidate")]
            ufrag = next(line.split(":", 1)[1] for line in lines if line.startswith("a=ice-ufrag"))

            def trickle(c: str | None) -> dict[str, object]:
                return {"call_id": call_id, "candidate": c, "sdp_mid": "0", "ufrag": ufrag}

            await cust_sock.ok("media:candidate", trickle(cands[0]))
            bare = "".join(
                line + "\r\n" for line in lines if not line.startswith(("a=candidate", "a=end-of"))
            )
            ack = await cust_sock.ok("media:offer", {"call_id": call_id, "sdp": bare})
            await cust_pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))
            for c in cands[1:]:
                await cust_sock.ok("media:candidate", trickle(c))
            await cust_sock.ok("media:candidate", trickle(None))
            bad = await cust_sock.call("media:candidate", trickle("candidate:nonsense"))
            assert bad["error"]["code"] == "invalid_sdp"
            assert (await negotiate(comp_sock, call_id, comp_pc))["ok"]
            slots = await cust_sock.wait("media:slots", timeout=5)
            assert slots == {
                "call_id": call_id,
                "slots": [{"kind": "audio", "mid": "0", "user_id": comp.user_id}],
            }
            for _ in range(100):
                if sum(map(len, heard_by_cust)) >= RATE and sum(map(len, heard_by_comp)) >= RATE:
                    break
                await asyncio.sleep(0.05)
            heard = np.concatenate(heard_by_comp)[-RATE // 2 :].astype(float)
            assert abs(dominant_hz(heard, RATE) - 440) < 10

            await cust_sock.ok("media:mute", {"call_id": call_id, "audio": True, "video": False})
            peer = await comp_sock.wait("media:peer", timeout=5)
            assert peer == {
                "call_id": call_id,
                "user_id": cust.user_id,
                "audio": True,
                "video": False,
            }
            assert rig.signaling.rooms is not None
            room = rig.signaling.rooms.get(call_id)
            assert room is not None and room.participants[cust.user_id].muted["audio"]
            await cust_sock.ok("call:hangup", {"call_id": call_id})
            late = await cust_sock.call("media:candidate", trickle(cands[0]))
            assert late["error"]["code"] == "call_not_active"
        finally:
            for task in tasks:
                task.cancel()
            for pc in (cust_pc, comp_pc):
                await pc.close()
