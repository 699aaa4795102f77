"""bench/media_peers: client peer connections of ``bench.media``: they send the clips in
real time and count what arrives with ``media.rtc_internals.tap_receiver`` (no jitter
buffer, no decoder).  Optionally each peer stamps the packets it sends (payload → send time)
so the other side can time them: the payload is the one thing the relay forwards untouched.
Connected through the relay server (``via_server``) or to each other (``direct``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aioice
import aioice.ice
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.rtp import RtpPacket, is_rtcp

from bench.media_clips import Clip
from media import rtc_internals
from media.room import prefer_forwardable

HTTP_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 30.0
#: packets are matched by the tail of their payload (the relay forwards payloads untouched)
KEY_BYTES = 24
#: tracks share one timer per phase: many tracks at one instant each, spread over the interval
PHASES = 8


def loopback_only() -> None:
    """Host candidates on 127.0.0.1 only (aioice leaves loopback out by default)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def ice() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[])  # the default is Google's STUN server


class Metronome:
    """Wakes every track waiting on it at once, every ``interval_s``: a few timers for hundreds
    of tracks instead of one each, so the load clients stay cheap.  A tick that could not be
    kept (the client's loop was late) is skipped, as a real-time source would drop it."""

    def __init__(self, interval_s: float, phase_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self.interval_s = interval_s
        self._origin = self._loop.time() + phase_s
        self._tick = 0
        self._waiters: list[asyncio.Future[int]] = []
        self._armed = False

    def wait(self) -> asyncio.Future[int]:
        future: asyncio.Future[int] = self._loop.create_future()
        self._waiters.append(future)
        if not self._armed:
            self._armed = True
            due = int((self._loop.time() - self._origin) // self.interval_s) + 1
            self._tick = max(self._tick + 1, due)
            self._loop.call_at(self._origin + self._tick * self.interval_s, self._fire)
        return future

    def _fire(self) -> None:
        waiters, self._waiters, self._armed = self._waiters, [], False
        for future in waiters:
            if not future.done():
                future.set_result(self._tick)


class Metronomes:
    def __init__(self) -> None:
        self._by: dict[tuple[str, int], Metronome] = {}
        self._next = 0

    def pick(self, clip: Clip) -> Metronome:
        phase = self._next % PHASES
        self._next += 1
        key = (clip.kind, phase)
        if key not in self._by:
            self._by[key] = Metronome(clip.interval_s, clip.interval_s * phase / PHASES)
        return self._by[key]


@dataclass
class Counters:
    tx: Counter[str] = field(default_factory=Counter)  # frames handed to senders
    rx: Counter[str] = field(default_factory=Counter)  # RTP packets that arrived


class PacketTrack(MediaStreamTrack):
    """Replays a clip in real time as ``av.Packet``s: the sender packs them, nothing encodes."""

    def __init__(self, clip: Clip, metronome: Metronome, counters: Counters) -> None:
        super().__init__()
        self.kind = clip.kind
        self._clip = clip
        self._metronome = metronome
        self._counters = counters
        self._start: int | None = None

    async def recv(self) -> av.Packet[Any]:
        tick = await self._metronome.wait()
        if self._start is None:
            self._start = tick
        n = tick - self._start
        packet = av.Packet(self._clip.packets[n % len(self._clip.packets)])
        packet.pts = n * self._clip.step
        packet.time_base = self._clip.time_base
        self._counters.tx[self.kind] += 1
        return packet


class Peer:
    """One participant's client: sends the clips of ``kinds``, counts (and optionally times)
    what arrives from the other side."""

    def __init__(
        self,
        kinds: tuple[str, ...],
        clips: dict[str, Clip],
        metronomes: Metronomes,
        counters: Counters,
        *,
        timed: bool = False,
        flowing_after: int = 5,
    ) -> None:
        self.pc = RTCPeerConnection(ice())
        self.counters = counters
        self.timed = timed
        #: payload tail → perf_counter() when it went out (only when ``timed``)
        self.sent: dict[bytes, float] = {}
        self.partner: Peer | None = None
        self.latency_ms: dict[str, list[float]] = {k: [] for k in kinds}
        self.received = 0
        self.flowing = asyncio.Event()  # ``flowing_after`` packets arrived
        self._flowing_after = flowing_after
        self._connected = asyncio.Event()
        self._stamped: set[int] = set()
        for kind in kinds:
            t = self.pc.addTransceiver(
                PacketTrack(clips[kind], metronomes.pick(clips[kind]), counters),
                direction="sendrecv",
            )
            prefer_forwardable(t, kind)  # Opus, VP8 (+RTX): what the relay forwards
            rtc_internals.tap_receiver(t.receiver, self._arrived(kind))

        @self.pc.on("connectionstatechange")
        def changed() -> None:
            if self.pc.connectionState == "connected":
                self._connected.set()

    def _arrived(self, kind: str) -> Callable[[RtpPacket], Awaitable[None]]:
        rx = self.counters.rx
        latency = self.latency_ms[kind]

        async def arrived(packet: RtpPacket) -> None:
            rx[kind] += 1
            self.received += 1
            if self.received == self._flowing_after:
                self.flowing.set()
            if self.partner is not None and self.partner.timed:
                t0 = self.partner.sent.pop(packet.payload[-KEY_BYTES:], None)
                if t0 is not None:
                    latency.append((time.perf_counter() - t0) * 1000)

        return arrived

    def stamp_sends(self) -> None:
        """Note when each RTP packet is handed to the DTLS transport (SRTP, then the socket):
        wraps the transport's private ``_send_rtp`` (the bench's only private name beyond
        ``media.rtc_internals``), keyed by the payload's tail."""
        sent = self.sent
        for t in self.pc.getTransceivers():
            transport = t.sender.transport
            if not self.timed or transport is None or id(transport) in self._stamped:
                continue
            self._stamped.add(id(transport))
            original = transport._send_rtp

            async def send(data: bytes, original: Any = original) -> None:
                if not is_rtcp(data):
                    sent[RtpPacket.parse(data).payload[-KEY_BYTES:]] = time.perf_counter()
                await original(data)

            setattr(transport, "_send_rtp", send)  # noqa: B010 (a method, not a field)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.stamp_sends()
        return str(self.pc.localDescription.sdp)

    async def answered(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self.stamp_sends()

    async def connected(self) -> None:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await self._connected.wait()

    async def close(self) -> None:
        await self.pc.close()


async def via_server(
    peer: Peer, http: aiohttp.ClientSession, url: str, room: str, user: str, mode: str, relay: str
) -> None:
    """Offer to the relay server and apply its answer."""
    body = {"room": room, "user": user, "mode": mode, "relay": relay, "sdp": await peer.offer()}
    async with http.post(f"{url}/offer", json=body) as resp:
        resp.raise_for_status()
        answer = await resp.json()
    await peer.answered(answer["sdp"])


async def direct(a: Peer, b: Peer) -> None:
    """Connect two peers to each other, no relay (the latency baseline)."""
    offer = await a.offer()
    await b.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await b.pc.setLocalDescription(await b.pc.createAnswer())
    b.stamp_sends()
    await a.answered(str(b.pc.localDescription.sdp))
