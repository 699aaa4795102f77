"""bench/media_rig: the pieces and child processes of ``bench.media``.

- *Clips*: a few seconds of Opus (a tone with noise) and VP8 (640×480, 30 fps, a moving
  pattern), encoded once by the benchmark; load clients replay them as ``av.Packet``s, which
  aiortc's sender packs into RTP without encoding (``RTCRtpSender._next_encoded_frame`` only
  encodes a ``Frame``; anything else goes through ``encoder.pack``).
- *Peers*: client peer connections that send those clips in real time and count what arrives
  with ``media.rtc_internals.tap_receiver`` (no jitter buffer, no decoder).  Optionally each
  peer stamps the packets it sends (payload → send time) so the other side can time them: the
  payload is the one thing the relay forwards untouched.
- ``server``: the relay under test in its own process, an aiohttp app on 127.0.0.1:
  ``POST /offer {room, user, mode, relay, sdp}`` → ``{sdp}``, where ``relay`` is ``forward``
  (``media.rooms.Rooms``: packets forwarded, nothing decoded) or ``mediarelay`` (the baseline
  built the usual aiortc way: each participant's tracks decoded, and ``MediaRelay.subscribe``
  re-encoded for the other); ``POST /close {room}``; ``GET /probe`` (tasks, fds, UDP sockets,
  threads, live aiortc objects: the leak check); ``POST /profile {seconds}`` (cProfile).
- ``clients``: a load process: N two-party sessions against a server, both peers of each
  session here; a line protocol on stdin/stdout (``stats``, ``stop``) for the benchmark.

    .venv/bin/python -m bench.media_rig server
    .venv/bin/python -m bench.media_rig clients URL RELAY MODE FIRST COUNT CLIPS_DIR

Nothing here is reachable but 127.0.0.1: aioice's host list is patched in every process and
``RTCConfiguration(iceServers=[])`` leaves STUN out.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import fractions
import gc
import io
import json
import logging
import os
import pstats
import signal
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aioice
import aioice.ice
import av
import numpy as np
from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDtlsTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.rtp import RtpPacket, is_rtcp

from kernel.logs import configure_logging
from media import rtc_internals
from media.forward import Forward
from media.room import Participant, Room, prefer_forwardable
from media.rooms import Rooms

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


def kinds_of(mode: str) -> tuple[str, ...]:
    return ("audio", "video") if mode == "video" else ("audio",)


# -- clips -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clip:
    """Encoded media replayed in a loop: one ``av.Packet`` per ``interval_s``."""

    kind: str
    packets: tuple[bytes, ...]
    step: int  # pts units from one packet to the next
    time_base: fractions.Fraction
    interval_s: float

    @property
    def bitrate_kbps(self) -> float:
        return sum(len(p) for p in self.packets) * 8 / (len(self.packets) * self.interval_s) / 1000


#: by kind: pts step per packet, its time base, seconds per packet (20 ms Opus, 30 fps VP8)
TIMING: dict[str, tuple[int, fractions.Fraction, float]] = {
    "audio": (960, fractions.Fraction(1, 48_000), 0.02),
    "video": (3000, fractions.Fraction(1, 90_000), 1 / 30),
}


def clip_of(kind: str, packets: list[bytes]) -> Clip:
    return Clip(kind, tuple(packets), *TIMING[kind])


def encode_audio(seconds: float, bitrate_bps: int = 32_000) -> Clip:
    """A 440 Hz tone with noise, mono Opus, 20 ms packets (what a browser sends for voice)."""
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = 48_000
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = bitrate_bps
    codec.time_base = fractions.Fraction(1, 48_000)
    codec.options = {"application": "voip"}
    rng = np.random.default_rng(7)
    packets: list[bytes] = []
    for i in range(round(seconds / 0.02)):
        n = np.arange(i * 960, (i + 1) * 960)
        pcm = 6000 * np.sin(2 * np.pi * 440 * n / 48_000) + rng.normal(0, 1500, 960)
        frame = av.AudioFrame.from_ndarray(
            pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 48_000
        frame.pts = i * 960
        frame.time_base = fractions.Fraction(1, 48_000)
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return clip_of("audio", packets)


def encode_video(seconds: float, bitrate_bps: int = 1_000_000) -> Clip:
    """A moving colour pattern with noise, VP8 640×480 at 30 fps with a realtime, constant
    bitrate encoder (as aiortc and browsers configure libvpx); one keyframe per loop."""
    frames = round(seconds * 30)
    codec = av.CodecContext.create("libvpx", "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height = 640, 480
    codec.pix_fmt = "yuv420p"
    codec.time_base = fractions.Fraction(1, 30)
    codec.framerate = fractions.Fraction(30, 1)
    codec.bit_rate = bitrate_bps
    codec.gop_size = frames
    rate = str(bitrate_bps)
    codec.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "minrate": rate,
        "maxrate": rate,
        "bufsize": rate,
    }
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:480, 0:640]
    packets: list[bytes] = []
    for n in range(frames):
        rgb = np.stack(
            [(xx + 4 * n) % 256, (yy + 2 * n) % 256, (xx + yy + n) % 256], axis=-1
        ).astype(np.uint8)
        rgb += rng.integers(0, 12, rgb.shape, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return clip_of("video", packets)


def save_clip(clip: Clip, folder: Path) -> None:
    data = b"".join(struct.pack("!I", len(p)) + p for p in clip.packets)
    (folder / f"{clip.kind}.bin").write_bytes(data)


def load_clips(folder: Path) -> dict[str, Clip]:
    clips = {}
    for kind in TIMING:
        data = (folder / f"{kind}.bin").read_bytes()
        packets, i = [], 0
        while i < len(data):
            (size,) = struct.unpack_from("!I", data, i)
            packets.append(data[i + 4 : i + 4 + size])
            i += 4 + size
        clips[kind] = clip_of(kind, packets)
    return clips


# -- client peers ------------------------------------------------------------------------------


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


# -- the server --------------------------------------------------------------------------------


@dataclass
class Leg:
    pc: RTCPeerConnection
    senders: dict[str, RTCRtpSender]
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)


class MediaRelayRooms:
    """The baseline: the relay aiortc's examples build.  Each participant's tracks arrive
    decoded; the other participant's sender gets ``relay.subscribe(track)`` and encodes it."""

    def __init__(self) -> None:
        self._relay = MediaRelay()
        self._rooms: dict[str, dict[str, Leg]] = {}

    async def answer(self, room: str, mode: str, user: str, sdp: str) -> str:
        pc = RTCPeerConnection(ice())
        legs = self._rooms.setdefault(room, {})
        senders: dict[str, RTCRtpSender] = {}
        for kind in kinds_of(mode):
            t: RTCRtpTransceiver = pc.addTransceiver(kind, direction="sendrecv")
            prefer_forwardable(t, kind)  # the same codecs as the forwarding relay
            senders[kind] = t.sender
        leg = legs[user] = Leg(pc, senders)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            leg.tracks[track.kind] = track
            for other in legs.values():
                if other is not leg and track.kind in other.senders:
                    other.senders[track.kind].replaceTrack(self._relay.subscribe(track))

        for other in legs.values():
            if other is not leg:
                for kind, track in other.tracks.items():
                    senders[kind].replaceTrack(self._relay.subscribe(track))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def close(self, room: str) -> None:
        for leg in self._rooms.pop(room, {}).values():
            await leg.pc.close()

    async def close_all(self) -> None:
        for room in list(self._rooms):
            await self.close(room)


FORWARD = web.AppKey("forward", Rooms)
BASELINE = web.AppKey("mediarelay", MediaRelayRooms)
#: what the leak check counts: every object a session's media creates on the server
WATCHED: tuple[type, ...] = (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCDtlsTransport,
    aioice.Connection,
    Room,
    Participant,
    Forward,
)


def udp_sockets() -> int:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/self/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    count = 0
    for table in ("/proc/self/net/udp", "/proc/self/net/udp6"):
        with contextlib.suppress(OSError):
            lines = Path(table).read_text().splitlines()[1:]
            count += sum(1 for line in lines if line.split()[9] in inodes)
    return count


def task_kind(task: asyncio.Task[Any]) -> str:
    return str(getattr(task.get_coro(), "__qualname__", task.get_name()))


def probe(rooms: int) -> dict[str, Any]:
    """This process's resources, after a full collection (the leak check's figures)."""
    gc.collect()
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    every = gc.get_objects()
    objects = Counter(type(o).__name__ for o in every if isinstance(o, WATCHED))
    types = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in every)
    page = os.sysconf("SC_PAGE_SIZE")
    return {
        "rooms": rooms,
        "tasks": len(tasks),
        "fds": len(os.listdir("/proc/self/fd")),
        "udp_sockets": udp_sockets(),
        "threads": threading.active_count(),
        "rss_mb": round(int(Path("/proc/self/statm").read_text().split()[1]) * page / 2**20, 1),
        "objects": {t.__name__: objects.get(t.__name__, 0) for t in WATCHED},
        "task_kinds": dict(Counter(task_kind(t) for t in tasks).most_common(8)),
        "thread_kinds": dict(Counter(t.name.split("-")[0] for t in threading.enumerate())),
        #: every type the collector tracks, by count (the leak check diffs them)
        "types": dict(types.most_common(400)),
    }


async def offer(request: web.Request) -> web.Response:
    body = await request.json()
    relay, room, mode = body["relay"], str(body["room"]), body["mode"]
    if relay == "forward":
        sdp = await request.app[FORWARD].answer(room, mode, str(body["user"]), body["sdp"])
    elif relay == "mediarelay":
        sdp = await request.app[BASELINE].answer(room, mode, str(body["user"]), body["sdp"])
    else:
        raise web.HTTPBadRequest(text=f"unknown relay {relay!r}")
    return web.json_response({"sdp": sdp})


async def close(request: web.Request) -> web.Response:
    room = str((await request.json())["room"])
    await request.app[FORWARD].close(room)
    await request.app[BASELINE].close(room)
    return web.json_response({"ok": True})


async def probed(request: web.Request) -> web.Response:
    return web.json_response(probe(len(request.app[FORWARD])))


async def profile(request: web.Request) -> web.Response:
    """cProfile of this process's event loop for ``seconds``; the top functions by own time,
    and the full stats written to ``out`` if given."""
    body = await request.json()
    # Wall time by default (cheap, so the server keeps up); CPU time ("timer": "cpu") is not
    # fooled by other processes but costs a system call per event, which slows everything.
    profiler = (
        cProfile.Profile(time.process_time) if body.get("timer") == "cpu" else cProfile.Profile()
    )
    profiler.enable()
    try:
        await asyncio.sleep(float(body["seconds"]))
    finally:
        profiler.disable()
    if body.get("out"):
        profiler.dump_stats(body["out"])
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(int(body.get("top", 25)))
    return web.json_response({"text": text.getvalue()})


async def relays(app: web.Application) -> AsyncIterator[None]:
    app[FORWARD] = Rooms()  # its default ICE: no STUN, host candidates from aioice
    app[BASELINE] = MediaRelayRooms()
    yield
    await app[FORWARD].close_all()
    await app[BASELINE].close_all()


def make_app() -> web.Application:
    app = web.Application(client_max_size=1 << 20)
    app.cleanup_ctx.append(relays)
    app.router.add_post("/offer", offer)
    app.router.add_post("/close", close)
    app.router.add_get("/probe", probed)
    app.router.add_post("/profile", profile)
    return app


async def serve() -> None:
    """Prints ``{"port": P}`` once listening on 127.0.0.1; stops on SIGTERM, SIGINT or the end
    of its stdin (the benchmark that started it is gone)."""
    rtc_internals.check()
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def orphaned() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    # A daemon thread: it must not hold the process up at exit while it waits.
    threading.Thread(target=orphaned, name="stdin", daemon=True).start()
    await stop.wait()
    await runner.cleanup()


# -- the load clients --------------------------------------------------------------------------


def say(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


async def load(url: str, relay: str, mode: str, first: int, count: int, clips_dir: Path) -> None:
    """Sessions ``first`` … ``first + count - 1`` against ``url``, both peers of each here.
    Reports ``{"ready", "connected", "failed"}``, then answers ``stats`` and ``stop`` lines."""
    clips = load_clips(clips_dir)
    metronomes = Metronomes()
    counters = Counters()
    peers: list[Peer] = []
    failed = 0
    done = 0
    gate = asyncio.Semaphore(16)
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def session(i: int) -> None:
            nonlocal failed, done
            a, b = (Peer(kinds_of(mode), clips, metronomes, counters) for _ in range(2))
            peers.extend((a, b))
            try:
                async with gate:
                    room = f"load-{i}"
                    await via_server(a, http, url, room, "a", mode, relay)
                    await via_server(b, http, url, room, "b", mode, relay)
                    await asyncio.gather(a.connected(), b.connected())
            except Exception as exc:
                failed += 1
                print(f"session {i}: {exc!r}", file=sys.stderr)
            done += 1
            if done % 10 == 0 or done == count:
                say({"progress": done, "of": count})

        await asyncio.gather(*(session(i) for i in range(first, first + count)))
        say({"ready": True, "connected": count - failed, "failed": failed})
        while True:
            line = (await asyncio.to_thread(sys.stdin.readline)).strip()
            if line == "stats":
                say({"stats": {"tx": dict(counters.tx), "rx": dict(counters.rx)}})
            elif line in ("stop", ""):
                break
        for peer in peers:
            with contextlib.suppress(Exception):
                await peer.close()
    say({"closed": True})


def setup_process() -> None:
    """Every process of the benchmark: quiet logs, loopback ICE."""
    configure_logging(level="WARNING")
    logging.getLogger("aiortc").setLevel(logging.ERROR)
    loopback_only()


def main(argv: list[str]) -> None:
    setup_process()
    if argv[0] == "server":
        asyncio.run(serve())
    elif argv[0] == "clients":
        url, relay, mode, first, count, clips = argv[1:7]
        asyncio.run(load(url, relay, mode, int(first), int(count), Path(clips)))
    else:
        raise SystemExit(f"unknown role {argv[0]!r}: server or clients")


if __name__ == "__main__":
    main(sys.argv[1:])
