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
    RTCRtpSender,
)

from media import rtc_internals
from media.forward import Forward

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


class Parked(MediaStreamTrack):
    """A sender's track that never yields: the relay sends this sender's packets itself."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.Future()


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[int(np.argmax(spectrum[1:])) + 1])


def opus_only(transceiver: Any) -> None:
    caps = RTCRtpSender.getCapabilities("audio").codecs
    transceiver.setCodecPreferences([c for c in caps if c.mimeType.lower() == "audio/opus"])


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
        opus_only(inbound)
        outbound = relay_out.addTransceiver(Parked("audio"), direction="sendonly")
        opus_only(outbound)
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
        forward = Forward(inbound, outbound)
        rtc_internals.tap_receiver(inbound.receiver, forward.packet)
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
