"""bench/media_rig: the child processes of ``bench.media`` (this module's ``main``), and the
pieces they are made of, each in a module of its own:

- *Clips* (``bench.media_clips``): a few seconds of Opus (a tone with noise) and VP8 (640×480,
  30 fps, a moving pattern), encoded once by the benchmark; load clients replay them as
  ``av.Packet``s, which aiortc's sender packs into RTP without encoding
  (``RTCRtpSender._next_encoded_frame`` only encodes a ``Frame``; anything else goes through
  ``encoder.pack``).
- *Peers* (``bench.media_peers``): client peer connections that send those clips in real time
  and count what arrives with ``media.rtc_internals.tap_receiver`` (no jitter buffer, no
  decoder).  Optionally each peer stamps the packets it sends (payload → send time) so the
  other side can time them: the payload is the one thing the relay forwards untouched.
- ``server`` (``bench.media_server``): the relay under test in its own process, an aiohttp app
  on 127.0.0.1: ``POST /offer {room, user, mode, relay, sdp}`` → ``{sdp}``, where ``relay`` is
  ``forward`` (``media.rooms.Rooms``: packets forwarded, nothing decoded) or ``mediarelay``
  (the baseline built the usual aiortc way: each participant's tracks decoded, and
  ``MediaRelay.subscribe`` re-encoded for the other); ``POST /close {room}``; ``GET /probe``
  (tasks, fds, UDP sockets, threads, live aiortc objects: the leak check); ``POST /profile
  {seconds}`` (cProfile).
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
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bench.media_clips import kinds_of, load_clips
from bench.media_peers import HTTP_TIMEOUT_S, Counters, Metronomes, Peer, loopback_only, via_server
from bench.media_server import serve
from kernel.event_loop import run
from kernel.logs import configure_logging


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
        # The relay server's event loop: asyncio's, or uvloop's (the lever bench/media measures).
        run(serve(), os.environ.get("BENCH_EVENT_LOOP", "asyncio"))
    elif argv[0] == "clients":
        url, relay, mode, first, count, clips = argv[1:7]
        asyncio.run(load(url, relay, mode, int(first), int(count), Path(clips)))
    else:
        raise SystemExit(f"unknown role {argv[0]!r}: server or clients")


if __name__ == "__main__":
    main(sys.argv[1:])
