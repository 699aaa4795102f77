"""bench/media_server: the relay under test, in its own process (``bench.media_rig
server``): an aiohttp app on 127.0.0.1, ``POST /offer``, ``POST /close``, ``GET /probe``,
``POST /profile`` (see ``bench.media_rig``), over the forwarding relay (``media.rooms.Rooms``)
and the baseline built the usual aiortc way (``MediaRelayRooms``); ``probe`` gives a
process's resources for the leak check."""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioice
import aioice.ice
from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCDtlsTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay

from bench.media_clips import kinds_of
from bench.media_peers import ice
from media import rtc_internals
from media.forward import Forward
from media.room import Participant, Room, prefer_forwardable
from media.rooms import Rooms


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
