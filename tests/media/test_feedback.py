"""What subscribers say back across the relay (``media.feedback``), with real aiortc peers on
loopback: their bandwidth estimates (REMB) reach the publisher as the lowest fresh one, and their
keyframe requests reach it at most once per interval, however many subscribers ask."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver
from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket, pack_remb_fci, unpack_remb_fci

from media import rtc_internals
from media.feedback import HOLD_S, UNCAPPED_BPS, RembPolicy, SourceFeedback
from media.forward import Forward
from media.room import Parked, prefer_forwardable
from tests.media.test_forward import Pattern, connect

pytestmark = pytest.mark.timeout(60)


# -- the policy, pure ------------------------------------------------------------------------


def congested(p: RembPolicy, key: str, bps: int, now: float) -> None:
    """Subscriber ``key`` says more, then ``bps`` (a fall: its downlink is congested)."""
    p.subscriber(key, bps * 2, now)
    p.subscriber(key, bps, now)


def test_the_publisher_is_told_the_lowest_congested_subscriber_estimate_above_the_floor() -> None:
    p = RembPolicy(floor_bps=100_000, stale_s=5.0, interval_s=1.0, drop=0.1)
    assert p.target(0.0) is None  # nothing known yet: nothing to say
    congested(p, "a", 800_000, 0.0)
    assert p.target(0.0) == 800_000
    assert p.own(2_000_000, 0.0) == 800_000  # the relay's own estimate is higher: the subscriber's
    congested(p, "b", 300_000, 0.5)
    assert p.target(0.5) == 300_000  # the lowest of the two
    assert p.due(300_000, 0.5)  # a drop of more than 10 %: at once
    p.sent(300_000, 0.5)
    assert not p.due(290_000, 0.6)  # a small change: wait for the second to pass
    assert p.due(290_000, 1.5)
    p.sent(290_000, 1.5)
    assert p.own(280_000, 1.6) is None  # 3 % lower, 0.1 s later: not yet
    assert p.own(200_000, 1.7) == 200_000  # the relay's own leg is the slowest: it wins, at once
    congested(p, "c", 10_000, 2.0)
    p.own_bps = None
    assert p.target(2.0) == 100_000  # a subscriber cannot drive it below the floor
    p.own_bps = 50_000
    assert p.target(2.0) == 50_000  # ...but the relay's own estimate may
    p.own_bps = None
    p.forget("c")
    assert p.target(5.4) == 300_000  # "a" from 0.0 is stale now, "b" from 0.5 not yet
    # all stale and the relay's own estimate unknown: the cap sent before is lifted
    assert p.target(6.0) == UNCAPPED_BPS
    assert p.subscribers == {}


def test_a_subscriber_that_never_said_too_much_does_not_cap_the_publisher() -> None:
    """libwebrtc's receive-side estimate grows ~8 %/s whatever arrives: as a cap it held a
    publisher on a fast link to half a direct call's bitrate.  It caps only once it falls, or
    when it is well below what the publisher sends (an estimate born of an overuse)."""
    p = RembPolicy()
    p.subscriber("a", 300_000, 0.0)
    p.subscriber("a", 330_000, 1.0)
    p.subscriber("a", 360_000, 2.0)  # growing: not congested
    assert p.target(2.0) is None
    p.own_bps = 700_000
    assert p.target(2.0) == 700_000  # no transport-wide feedback: the relay's own estimate caps
    p.transport_cc = True
    assert p.target(2.0) is None  # with it, the publisher's browser estimates its uplink itself
    p.incoming_bps = 1_000_000
    p.subscriber("b", 700_000, 2.5)  # its first estimate, well below the 1 Mbit/s sent
    assert p.target(2.5) == 700_000
    p.subscriber("a", 341_000, 3.0)  # "a" falls by 5 %: congested too, and the lower
    assert p.target(3.0) == 341_000


def test_a_cap_is_held_then_lifted_gradually() -> None:
    p = RembPolicy()
    p.transport_cc = True
    congested(p, "a", 400_000, 0.0)
    for t in (0.0, 1.0, 5.0, HOLD_S):  # held at the estimate, as the estimate moves
        p.subscriber("a", 400_000, t)
        value = p.target(t)
        assert value == 400_000
        p.sent(value, t)
    sent = []
    t = HOLD_S
    for _ in range(4):  # no new fall: a half more per REMB sent
        t += 1.0
        p.subscriber("a", 420_000, t)
        value = p.target(t)
        assert value is not None and p.due(value, t)
        p.sent(value, t)
        sent.append(value)
    assert sent == [600_000, 900_000, 1_350_000, 2_025_000]
    p.subscriber("a", 380_000, t + 0.5)  # it falls again: the cap is its estimate at once
    value = p.target(t + 0.5)
    assert value == 380_000 and p.due(value, t + 0.5)


class Noise(Pattern):
    """Video that does not compress: the publisher sends what its encoder is allowed (aiortc's
    VP8 encoder: 500 kbit/s, or the REMB it receives, never below 250 kbit/s), so the relay's own
    estimate of that leg is well above the subscribers' in these tests."""

    async def recv(self) -> av.VideoFrame:
        frame = await super().recv()
        img = np.random.default_rng().integers(0, 256, (240, 320, 3), dtype=np.uint8)
        noisy = av.VideoFrame.from_ndarray(img, format="bgr24")
        noisy.pts, noisy.time_base = frame.pts, frame.time_base
        return noisy


# -- real peers -------------------------------------------------------------------------------


@dataclass
class Rig:
    publisher: RTCPeerConnection
    inbound: RTCRtpTransceiver
    subscribers: list[RTCPeerConnection]
    outbound: list[RTCRtpTransceiver]
    forwards: list[Forward]
    #: what reached the publisher's video sender: (loop time, packet)
    at_publisher: list[tuple[float, Any]] = field(default_factory=list)
    pcs: list[RTCPeerConnection] = field(default_factory=list)

    def rembs(self, since: float = 0.0) -> list[int]:
        out = []
        for at, packet in self.at_publisher:
            remb = rtc_internals.remb_of(packet)
            if remb is not None and at >= since:
                out.append(remb[0])
        return out

    def plis(self) -> int:
        return sum(
            isinstance(p, RtcpPsfbPacket) and p.fmt == RTCP_PSFB_PLI for _, p in self.at_publisher
        )

    def subscriber_receiver(self, i: int) -> Any:
        return self.subscribers[i].getTransceivers()[0].receiver


@asynccontextmanager
async def relay(
    n: int,
    make_feedback: Callable[[Any], Any] | None = None,
    track: Callable[[], Any] = Noise,
    upstream: Callable[[Any], bool] | None = None,
) -> AsyncIterator[Rig]:
    """A publisher sending video to the relay, forwarded to ``n`` subscribers (each on its own
    peer connection, as in a room).  The subscribers' own aiortc estimators are switched off:
    the test sends their REMB itself.  ``upstream(packet)`` False: that packet from the
    publisher is lost before the relay's receiver sees it (as on the wire)."""
    config = RTCConfiguration(iceServers=[])
    loop = asyncio.get_running_loop()
    publisher, relay_in = RTCPeerConnection(config), RTCPeerConnection(config)
    outs = [RTCPeerConnection(config) for _ in range(n)]
    subs = [RTCPeerConnection(config) for _ in range(n)]
    pcs = [publisher, relay_in, *outs, *subs]
    try:
        sender = publisher.addTrack(track())
        inbound = relay_in.addTransceiver("video", direction="recvonly")
        prefer_forwardable(inbound, "video")
        outbound = []
        for out in outs:
            t = out.addTransceiver(Parked("video"), direction="sendonly")
            prefer_forwardable(t, "video")
            outbound.append(t)
        await connect(publisher, relay_in)
        for out, sub in zip(outs, subs, strict=True):
            await connect(out, sub)
            sub.getTransceivers()[0].receiver._RTCRtpReceiver__remote_bitrate_estimator = None
        if make_feedback is not None:
            make_feedback(inbound.receiver)
        forwards = [Forward(inbound, t) for t in outbound]
        rig = Rig(publisher, inbound, subs, outbound, forwards, pcs=pcs)
        original = sender._handle_rtcp_packet

        async def seen(packet: Any) -> None:
            rig.at_publisher.append((loop.time(), packet))
            await original(packet)

        setattr(sender, "_handle_rtcp_packet", seen)  # noqa: B010

        async def fan_out(p: Any) -> None:
            for f in forwards:
                f.packet(p)

        rtc_internals.tap_receiver(inbound.receiver, fan_out)
        if upstream is not None:
            tapped = inbound.receiver._handle_rtp_packet

            async def wire(packet: Any, arrival_time_ms: int) -> None:
                if upstream(packet):
                    await tapped(packet, arrival_time_ms=arrival_time_ms)

            setattr(inbound.receiver, "_handle_rtp_packet", wire)  # noqa: B010
        for _ in range(200):
            if all(f.forwarded >= 10 for f in forwards):
                break
            await asyncio.sleep(0.05)
        assert all(f.forwarded >= 10 for f in forwards), "video did not cross the relay"
        yield rig
    finally:
        for pc in pcs:
            await pc.close()


async def keep_sending_remb(rig: Rig, i: int, bps: int) -> None:
    """Subscriber ``i`` says twice ``bps`` once, then ``bps`` every 0.4 s (a fall: its downlink
    is congested), for the relay's sender it receives from."""
    receiver = rig.subscriber_receiver(i)
    await rtc_internals.send_remb(receiver, 2 * bps, [rig.outbound[i].sender._ssrc])
    while True:
        await rtc_internals.send_remb(receiver, bps, [rig.outbound[i].sender._ssrc])
        await asyncio.sleep(0.4)


async def until(condition: Callable[[], bool], within_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_the_lowest_subscriber_estimate_reaches_the_publisher_and_expires() -> None:
    loop = asyncio.get_running_loop()
    feedback: list[SourceFeedback] = []

    def make(receiver: Any) -> None:
        feedback.append(SourceFeedback.of(receiver, RembPolicy(stale_s=2.0)))

    async with relay(2, make) as rig:
        fb = feedback[0]
        assert all(f._feedback is fb for f in rig.forwards)  # one per source
        tasks = [asyncio.ensure_future(keep_sending_remb(rig, 0, 300_000))]
        try:
            start = loop.time()
            await until(lambda: any(b <= 300_000 for b in rig.rembs(start)), 3.0)
            assert rig.forwards[0].subscriber_remb is not None
            assert rig.forwards[0].subscriber_remb[0] == 300_000
            # The relay's own estimate (aiortc's, of the publisher → relay leg) starts after
            # 3 s of video, higher than 300 kbit/s on loopback: it is not what gets through.
            await until(lambda: fb.policy.own_bps is not None, 6.0)
            mark = loop.time()
            await asyncio.sleep(1.5)
            assert fb.policy.own_bps is not None and fb.policy.own_bps > 300_000
            after = rig.rembs(mark)
            assert after and max(after) <= 300_000, after

            tasks.append(asyncio.ensure_future(keep_sending_remb(rig, 1, 150_000)))
            start = loop.time()
            await until(lambda: any(b <= 150_000 for b in rig.rembs(start)), 2.0)  # a drop: now
            mark = loop.time()
            await asyncio.sleep(2.0)
            after = rig.rembs(mark)
            assert after and max(after) <= 150_000, after  # the lower of the two
        finally:
            for task in tasks:
                task.cancel()
        # Both stop saying: after 2 s their estimates no longer count; the publisher is told
        # the relay's own estimate again.
        await asyncio.sleep(2.5)
        mark = loop.time()

        def told_own() -> bool:
            got, sent = rig.rembs(mark), fb.policy.last_sent
            return bool(got) and sent is not None and got[-1] == encoded(sent[0])

        await until(told_own, 4.0)
        assert rig.rembs(mark)[-1] > 300_000
        assert fb.policy.lowest_subscriber(fb._now()) is None and fb.policy.subscribers == {}


def encoded(bps: int) -> int:
    """``bps`` as a REMB carries it (an 18-bit mantissa)."""
    return unpack_remb_fci(pack_remb_fci(bps, [1]))[0]


async def test_a_retired_forward_stops_counting_at_once() -> None:
    async with relay(1) as rig:
        receiver = rig.subscriber_receiver(0)
        await rtc_internals.send_remb(receiver, 200_000, [rig.outbound[0].sender._ssrc])
        fb = SourceFeedback.of(rig.inbound.receiver)
        await until(lambda: bool(fb.policy.subscribers), 2.0)
        rig.forwards[0].stop()
        assert fb.policy.subscribers == {}


async def test_many_subscribers_asking_for_keyframes_ask_the_source_once_per_interval() -> None:
    """Three subscribers each send a PLI every 50 ms for 3 s (a keyframe-request storm, as after
    a loss burst on a shared uplink): the publisher receives at most one request per 0.5 s."""
    async with relay(3) as rig:
        await asyncio.sleep(1.0)  # past the requests of the subscribers starting
        before = rig.plis()
        loop = asyncio.get_running_loop()
        start = loop.time()
        asked = 0
        while loop.time() - start < 3.0:
            for i in range(3):
                receiver = rig.subscriber_receiver(i)
                await receiver._send_rtcp_pli(rig.outbound[i].sender._ssrc)
                asked += 1
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        got = rig.plis() - before
        assert asked >= 30
        assert 3 <= got <= 3.0 / 0.5 + 1, got
        assert sum(f.keyframe_requests for f in rig.forwards) >= got


async def test_the_relay_gives_a_transport_cc_publisher_transport_wide_feedback() -> None:
    """A browser offers transport-cc on video: the relay's answer takes it (and keeps REMB with
    abs-send-time for what it forwards), and reports when each packet carrying a transport-wide
    sequence number arrived (``media.twcc``), through SRTCP on the participant's transport.
    aiortc sends no such numbers; this publisher's transport writes them on its video, as a
    browser's does."""
    from aiortc import RTCSessionDescription
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
    from aiortc.rtp import HeaderExtensionsMap, RtpPacket

    from media.room import Room
    from media.twcc import TRANSPORT_CC_URI
    from tests.media.test_forward import Tone
    from tests.media.test_twcc import decode

    room = Room("call_" + "0" * 32, ("audio", "video"))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    feedback: list[dict[str, Any]] = []
    numbered: list[int] = []
    try:
        for i, pc in enumerate(pcs):
            pc.addTransceiver(Tone(440.0), direction="sendrecv")
            pc.addTransceiver(Pattern(), direction="sendrecv")
            await pc.setLocalDescription(await pc.createOffer())
            offer = pc.localDescription.sdp
            if i == 0:
                lines = []
                video = False
                for line in offer.splitlines():
                    video = video or line.startswith("m=video")
                    lines.append(line)
                    if video and line.startswith("a=rtcp-fb:") and line.endswith(" goog-remb"):
                        lines.append(line.replace("goog-remb", "transport-cc"))
                    if video and line.startswith("a=extmap:3 "):
                        lines.append(f"a=extmap:5 {TRANSPORT_CC_URI}")
                offer = "\r\n".join(lines) + "\r\n"
            answer = await room.answer(f"u{i}", offer)
            body = answer[answer.index("m=video") :]
            assert ("transport-cc" in body) == (i == 0)
            assert (f"a=extmap:5 {TRANSPORT_CC_URI}" in body) == (i == 0)
            assert "goog-remb" in body and "abs-send-time" in body
            assert "transport-cc" not in answer[: answer.index("m=video")]  # audio: no
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        transceiver = next(t for t in pcs[0].getTransceivers() if t.kind == "video")
        transport = transceiver.sender.transport
        extensions = HeaderExtensionsMap()
        extensions.configure(
            RTCRtpParameters(
                headerExtensions=[
                    *transceiver._headerExtensions,
                    RTCRtpHeaderExtensionParameters(id=5, uri=TRANSPORT_CC_URI),
                ]
            )
        )
        video_ssrcs = {transceiver.sender._ssrc, transceiver.sender._rtx_ssrc}
        send = transport._send_rtp

        async def numbering(data: bytes) -> None:
            if data[1] & 0x7F < 64 or data[1] & 0x7F > 95:  # RTP, not RTCP
                packet = RtpPacket.parse(data, extensions)
                if packet.ssrc in video_ssrcs:
                    packet.extensions.transport_sequence_number = len(numbered) + 1
                    numbered.append(len(numbered) + 1)
                    data = packet.serialize(extensions)
            await send(data)

        setattr(transport, "_send_rtp", numbering)  # noqa: B010
        heard = transport._handle_rtcp_data

        async def rtcp(data: bytes) -> None:
            if len(data) >= 20 and data[1] == 205 and data[0] & 0x1F == 15:
                feedback.append(decode(data))
            await heard(data)

        setattr(transport, "_handle_rtcp_data", rtcp)  # noqa: B010
        await until(lambda: len(numbered) > 60 and len(feedback) >= 5, 15.0)
        reported = {seq for f in feedback for seq, at in f["at"].items() if at is not None}
        assert reported >= set(range(10, min(numbered[-1] - 20, 60)))  # all of them, received
        assert [f["count"] for f in feedback[:5]] == [0, 1, 2, 3, 4]
        for f in feedback:
            times = [at for at in f["at"].values() if at is not None]
            assert times == sorted(times)  # arrivals in order, on loopback
        assert len({f["media"] for f in feedback}) == 1
        participant = room.participants["u0"]
        assert participant.transport_feedback is not None
        assert participant.transport_feedback.lost_reported == 0
        assert room.participants["u1"].transport_feedback is None  # it did not ask
    finally:
        await room.close()
        for pc in pcs:
            await pc.close()


async def test_in_a_room_a_subscribers_remb_reaches_the_other_participant() -> None:
    """The wiring in ``Room``: u1's browser says 200 kbit/s for the video it receives from u0;
    u0's encoder is told no more than that.  u1 leaving ends it at once."""
    from aiortc import RTCSessionDescription

    from media.room import Room
    from tests.media.test_forward import Tone

    room = Room("call_" + "0" * 32, ("audio", "video"))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    loop = asyncio.get_running_loop()
    rembs: list[tuple[float, int]] = []
    try:
        for i, pc in enumerate(pcs):
            pc.addTransceiver(Tone(440.0), direction="sendrecv")
            pc.addTransceiver(Noise() if i == 0 else Pattern(), direction="sendrecv")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await room.answer(f"u{i}", pc.localDescription.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        video0 = next(t for t in pcs[0].getTransceivers() if t.kind == "video").sender
        original = video0._handle_rtcp_packet

        async def seen(packet: Any) -> None:
            remb = rtc_internals.remb_of(packet)
            if remb is not None:
                rembs.append((loop.time(), remb[0]))
            await original(packet)

        setattr(video0, "_handle_rtcp_packet", seen)  # noqa: B010
        u1_video = next(t for t in pcs[1].getTransceivers() if t.kind == "video").receiver
        u1_video._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]
        relay_sender = room.participants["u1"].transceivers["video"][0].sender
        await until(lambda: relay_sender._ssrc is not None and room.flowing(loop.time(), 2.0), 10)
        start = loop.time()

        async def say() -> None:
            while True:
                await rtc_internals.send_remb(u1_video, 200_000, [relay_sender._ssrc])
                await asyncio.sleep(0.4)

        task = asyncio.ensure_future(say())
        try:
            await until(lambda: any(b <= 200_000 for at, b in rembs if at >= start), 5.0)
            source = room.participants["u0"].transceivers["video"][0].receiver
            fb = SourceFeedback.of(source)
            await until(lambda: fb.policy.own_bps is not None, 6.0)  # the relay's own, higher
            mark = loop.time()
            await asyncio.sleep(1.5)
            assert fb.policy.own_bps is not None and fb.policy.own_bps > 200_000
            after = [b for at, b in rembs if at >= mark]
            assert after and max(after) <= 200_000, after
        finally:
            task.cancel()
        assert fb.policy.subscribers
        await room.leave("u1")
        assert fb.policy.subscribers == {}
    finally:
        for pc in pcs:
            await pc.close()
        await room.close()


async def test_a_closed_receiver_and_its_feedback_are_freed() -> None:
    import gc
    import weakref

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    feedback = SourceFeedback.of(receiver)
    assert SourceFeedback.of(receiver) is feedback  # one per receiver
    refs = weakref.ref(receiver), weakref.ref(feedback)
    await pc.close()
    del pc, receiver, feedback
    gc.collect()
    assert all(ref() is None for ref in refs)


async def test_the_synchronous_video_path_sends_only_the_rembs_the_policy_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiortc's estimator on the synchronous path (``rtc_internals.receive_video``) goes through
    the relay's rewrite before anything is sent: every REMB it sends is one ``RembPolicy``
    decided (no task per estimate), and the policy hears the relay's own estimate."""
    from aiortc import RTCSessionDescription

    from media.room import Room

    sends: dict[int, int] = {}  # id(receiver) → REMBs sent from it
    send_remb = rtc_internals.send_remb

    async def counted(receiver: Any, bitrate: int, ssrcs: list[int]) -> bool:
        sends[id(receiver)] = sends.get(id(receiver), 0) + 1
        return await send_remb(receiver, bitrate, ssrcs)

    monkeypatch.setattr(rtc_internals, "send_remb", counted)
    room = Room("call_" + "0" * 32, ("video",))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    try:
        for i, pc in enumerate(pcs):
            pc.addTransceiver(Noise() if i == 0 else Pattern(), direction="sendrecv")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await room.answer(f"u{i}", pc.localDescription.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        sources = [room.participants[u].transceivers["video"][0].receiver for u in ("u0", "u1")]
        feedback = [SourceFeedback.of(r) for r in sources]
        await until(lambda: all(f.policy.own_bps is not None for f in feedback), 10.0)
        await asyncio.sleep(1.0)
        assert all(room.participants[u].rx_fast > 0 for u in ("u0", "u1"))
        assert sends
        for receiver, fb in zip(sources, feedback, strict=True):
            assert sends.get(id(receiver), 0) <= fb.remb_sent, (sends, fb.remb_sent)
    finally:
        for pc in pcs:
            await pc.close()
        await room.close()


async def test_an_unanswered_keyframe_request_is_repeated_before_the_interval() -> None:
    """A browser's encoder ignores a keyframe request within 300 ms of its last keyframe (a
    subscriber connecting just after the publisher started asks exactly then): with no keyframe
    after it, the request may go again after ``KEYFRAME_RETRY_S``; one that was answered holds
    the whole interval (the storm above)."""
    from aiortc import RTCPeerConnection

    from media.feedback import KEYFRAME_RETRY_S, SourceFeedback

    pc = RTCPeerConnection()
    try:
        feedback = SourceFeedback(pc.addTransceiver("video").receiver)
        assert feedback.keyframe_due(10.0, 0.5)
        assert not feedback.keyframe_due(10.0 + KEYFRAME_RETRY_S - 0.01, 0.5)
        asked = 10.0 + KEYFRAME_RETRY_S + 0.001
        assert feedback.keyframe_due(asked, 0.5)  # no keyframe came
        feedback.keyframe_arrived(asked + 0.05)
        assert not feedback.keyframe_due(asked + 0.45, 0.5)  # answered: the interval holds
        assert feedback.keyframe_due(asked + 0.501, 0.5)
    finally:
        await pc.close()
