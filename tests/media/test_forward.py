"""Packet-level forwarding with real aiortc peers on loopback: a caller's Opus tone crosses the
relay (one peer connection in, one out, nothing decoded) and the callee hears that tone."""

from __future__ import annotations

import asyncio
import fractions
import math
from typing import Any

import av
import numpy as np
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
)
from aiortc.rtp import RtpPacket

from media import rtc_internals
from media.forward import Forward
from media.room import Parked, prefer_forwardable

pytestmark = pytest.mark.timeout(60)
RATE = 48_000


class Tone(MediaStreamTrack):
    kind = "audio"

    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz = hz
        self._t = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        samples = 960  # 20 ms
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._t / RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        n = np.arange(self._t, self._t + samples)
        pcm = (0.5 * 32767 * np.sin(2 * math.pi * self.hz * n / RATE)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._t
        frame.time_base = fractions.Fraction(1, RATE)
        self._t += samples
        return frame


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[int(np.argmax(spectrum[1:])) + 1])


async def connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def test_the_callee_hears_the_callers_tone_through_the_relay() -> None:
    rtc_internals.check()
    config = RTCConfiguration(iceServers=[])
    caller, relay_in, relay_out, callee = (RTCPeerConnection(config) for _ in range(4))
    try:
        caller.addTrack(Tone(440.0))
        # The relay answers the caller: its receiving transceiver exists (Opus only) before the
        # offer is applied, so the preferences hold.
        inbound = relay_in.addTransceiver("audio", direction="recvonly")
        prefer_forwardable(inbound, "audio")
        outbound = relay_out.addTransceiver(Parked("audio"), direction="sendonly")
        prefer_forwardable(outbound, "audio")
        heard: list[np.ndarray] = []
        listeners: list[asyncio.Future[None]] = []

        @callee.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            async def listen() -> None:
                while True:
                    frame = await track.recv()
                    channels = len(frame.layout.channels)
                    heard.append(frame.to_ndarray().reshape(-1)[::channels])  # channel 0

            listeners.append(asyncio.ensure_future(listen()))

        await connect(caller, relay_in)
        await connect(relay_out, callee)
        for _ in range(200):  # the outgoing leg is up before anything is forwarded on it
            if relay_out.connectionState == "connected":
                break
            await asyncio.sleep(0.02)
        forward = Forward(inbound, outbound)

        async def forward_packet(p: RtpPacket) -> None:
            forward.packet(p)

        rtc_internals.tap_receiver(inbound.receiver, forward_packet)
        for _ in range(100):
            if sum(len(h) for h in heard) >= RATE:  # one second of audio arrived
                break
            await asyncio.sleep(0.05)
        assert sum(len(h) for h in heard) >= RATE
        assert forward.forwarded >= 50 and forward.dropped == 0
        pcm = np.concatenate(heard)[-RATE // 2 :].astype(np.float64)  # the last half second
        assert abs(dominant_hz(pcm, RATE) - 440) < 10
    finally:
        for task in listeners:
            task.cancel()
        for pc in (caller, relay_in, relay_out, callee):
            await pc.close()


def test_the_aiortc_internals_the_relay_needs_are_there(monkeypatch: pytest.MonkeyPatch) -> None:
    rtc_internals.check()
    import aiortc

    monkeypatch.setattr(aiortc, "__version__", "1.17.0")
    with pytest.raises(rtc_internals.AiortcDrift):
        rtc_internals.check()


class Pattern(MediaStreamTrack):
    """A moving test pattern, 320×240 at 30 fps."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._n / 30 - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        img = np.zeros((240, 320, 3), dtype=np.uint8)
        x = (self._n * 4) % 320
        img[:, x : x + 20] = 255
        img[(self._n * 2) % 240, :] = (0, 255, 0)
        frame = av.VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts = self._n * 3000
        frame.time_base = fractions.Fraction(1, 90_000)
        self._n += 1
        return frame


def vp8_keyframe(payload: bytes) -> bool:
    """Whether an RTP payload starts a VP8 keyframe (RFC 7741 §4.2, §4.3; RFC 6386 §9.1)."""
    first = payload[0]
    start, partition = bool(first & 0x10), first & 0x07
    i = 1
    if first & 0x80:  # X: extension byte
        ext = payload[i]
        i += 1
        if ext & 0x80:  # I: picture id, 7 or 15 bits
            i += 2 if payload[i] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            i += 1
        if ext & 0x30:  # T or K
            i += 1
    return start and partition == 0 and not (payload[i] & 0x01)


def record_decoded(
    pc: RTCPeerConnection, at: list[float], tasks: list[asyncio.Future[None]]
) -> None:
    """Append to ``at`` the loop time of every frame ``pc`` decodes from the tracks it receives
    (the watching tasks go to ``tasks``, for the caller to cancel)."""
    loop = asyncio.get_running_loop()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        async def watch() -> None:
            while True:
                await track.recv()
                at.append(loop.time())

        tasks.append(asyncio.ensure_future(watch()))


async def test_a_subscribers_keyframe_request_reaches_the_source_within_a_second() -> None:
    """The callee sends a PLI (as a browser does after loss it cannot repair); the relay passes
    it to the caller, and a keyframe crosses the relay within 1 s."""
    config = RTCConfiguration(iceServers=[])
    caller, relay_in, relay_out, callee = (RTCPeerConnection(config) for _ in range(4))
    listeners: list[asyncio.Future[None]] = []
    decoded: list[float] = []
    keyframes: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        caller.addTrack(Pattern())
        inbound = relay_in.addTransceiver("video", direction="recvonly")
        prefer_forwardable(inbound, "video")
        outbound = relay_out.addTransceiver(Parked("video"), direction="sendonly")
        prefer_forwardable(outbound, "video")

        record_decoded(callee, decoded, listeners)

        await connect(caller, relay_in)
        await connect(relay_out, callee)
        forward = Forward(inbound, outbound, keyframe_interval_s=0.2)

        async def watch_keyframes(p: Any) -> None:
            if vp8_keyframe(p.payload):
                keyframes.append(loop.time())
            forward.packet(p)

        rtc_internals.tap_receiver(inbound.receiver, watch_keyframes)
        for _ in range(100):
            if len(decoded) >= 15:
                break
            await asyncio.sleep(0.05)
        assert len(decoded) >= 15, "video did not start"
        assert keyframes, "no keyframe at the start"
        assert forward.keyframe_requests >= 1  # asked for when the subscriber started
        await asyncio.sleep(0.5)
        before = len(keyframes)
        asked_at = loop.time()
        receiver = callee.getTransceivers()[0].receiver
        await receiver._send_rtcp_pli(outbound.sender._ssrc)  # what a browser does
        for _ in range(20):
            if len(keyframes) > before:
                break
            await asyncio.sleep(0.05)
        assert len(keyframes) > before, "no keyframe after the subscriber's PLI"
        assert keyframes[before] - asked_at < 1.0
        assert forward.keyframe_requests >= 2

        # A packet lost for good before the relay (dropped here): the subscriber's NACK for it
        # finds nothing to retransmit, so the relay asks the source for a keyframe itself.
        await asyncio.sleep(0.3)
        requests, before = forward.keyframe_requests, len(keyframes)
        dropped = [False]

        def lose_one(p: Any) -> bool:
            if not dropped[0] and not vp8_keyframe(p.payload):
                dropped[0] = True
                return False
            return True

        forward.pass_filter = lose_one
        lost_at = loop.time()
        for _ in range(20):
            if len(keyframes) > before:
                break
            await asyncio.sleep(0.05)
        assert forward.keyframe_requests > requests, "the NACK for a lost packet asked nothing"
        assert len(keyframes) > before and keyframes[before] - lost_at < 1.0
    finally:
        for task in listeners:
            task.cancel()
        for pc in (caller, relay_in, relay_out, callee):
            await pc.close()


async def test_a_subscriber_still_connecting_gets_its_keyframe_as_soon_as_it_is_up() -> None:
    """The caller's video is flowing when the callee's leg is still connecting (a call's second
    participant, a restarted link): no keyframe is asked for a transport that would lose it, so
    the throttle does not hold back the request made once the callee is up, and its first
    frame comes within a round trip or two of the connection, not after the throttle."""
    config = RTCConfiguration(iceServers=[])
    caller, relay_in, relay_out, callee = (RTCPeerConnection(config) for _ in range(4))
    listeners: list[asyncio.Future[None]] = []
    decoded: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        caller.addTrack(Pattern())
        inbound = relay_in.addTransceiver("video", direction="recvonly")
        prefer_forwardable(inbound, "video")
        # As in a room: the callee offers, the relay answers; the callee's leg connects only
        # once the callee has the answer, so until then the relay's side is negotiated (the
        # forward can be made) but not connected.
        outbound = relay_out.addTransceiver(Parked("video"), direction="sendrecv")
        prefer_forwardable(outbound, "video")
        callee.addTransceiver("video", direction="recvonly")

        record_decoded(callee, decoded, listeners)

        await connect(caller, relay_in)
        await callee.setLocalDescription(await callee.createOffer())
        await relay_out.setRemoteDescription(callee.localDescription)
        await relay_out.setLocalDescription(await relay_out.createAnswer())
        # a long throttle: a request wasted before the callee is up would cost seconds
        forward = Forward(inbound, outbound, keyframe_interval_s=5.0)
        rtc_internals.tap_receiver(inbound.receiver, lambda p: _forward(forward, p))
        for _ in range(40):
            if forward.dropped >= 10:
                break
            await asyncio.sleep(0.05)
        assert forward.dropped >= 10, "the caller's video did not reach the relay"
        assert forward.keyframe_requests == 0  # nobody could receive it yet
        await callee.setRemoteDescription(relay_out.localDescription)
        for _ in range(100):
            if outbound.sender.transport.state == "connected":
                break
            await asyncio.sleep(0.02)
        up = loop.time()
        for _ in range(100):
            if decoded:
                break
            await asyncio.sleep(0.02)
        assert decoded, "no frame after the callee connected"
        assert decoded[0] - up < 1.0, decoded[0] - up
        assert forward.keyframe_requests == 1
    finally:
        for task in listeners:
            task.cancel()
        for pc in (caller, relay_in, relay_out, callee):
            await pc.close()


async def _forward(forward: Forward, p: Any) -> None:
    forward.packet(p)
