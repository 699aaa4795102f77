"""bench/media_floor: the floor under the relay's cost per packet, on the same traffic.

A minimal forwarder in a process of its own: it receives SRTP over UDP, unprotects it, rewrites
the RTP header (SSRC, sequence number and timestamp mapped per stream, as the relay does),
protects it again and sends it on: the same libraries the relay uses (pylibsrtp's libsrtp, the
asyncio datagram transport), and nothing else (no ICE, no DTLS, no aiortc, no application
logic).  A sender process replays the benchmark's clips as SRTP in real time: per session two
directions of Opus every 20 ms, and for video also VP8 at 30 fps split into RTP packets of at
most 1,200 bytes, as aiortc's payloader does.  After a warm-up the forwarder measures its own
CPU time (``time.process_time``: all threads) and the packets it sent over ``seconds``, and prints
one JSON line.  ``bench.media`` runs it beside each forwarding row and reports relay ÷ floor.

    .venv/bin/python -m bench.media_floor voice 60   # a run by itself: prints the JSON
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pylibsrtp import Policy, Session

from bench.media_clips import Clip, encode_audio, encode_video, load_clips, save_clip
from bench.media_procs import ROOT, child_env

#: SRTP master key + salt (30 bytes, AES128_CM_SHA1_80): the sender's and the forwarder's own
KEY_IN = bytes(range(30))
KEY_OUT = bytes(range(30, 60))
MAX_PAYLOAD = 1200
WARMUP_S = 1.5


def _session(key: bytes, direction: int) -> Session:
    return Session(policy=Policy(key=key, ssrc_type=direction))


class Forwarder(asyncio.DatagramProtocol):
    """Unprotect, rewrite, protect, send: per packet, nothing more."""

    def __init__(self, sink: tuple[str, int]) -> None:
        self.rx = _session(KEY_IN, Policy.SSRC_ANY_INBOUND)
        self.tx = _session(KEY_OUT, Policy.SSRC_ANY_OUTBOUND)
        self.sink = sink
        self.out = 0
        self.streams: dict[int, tuple[bytes, int, int]] = {}  # ssrc → (new ssrc, seq, ts offsets)
        self.transport: asyncio.DatagramTransport | None = None
        self.first = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            rtp = bytearray(self.rx.unprotect(data))
        except Exception:
            return
        ssrc = int.from_bytes(rtp[8:12], "big")
        mapped = self.streams.get(ssrc)
        if mapped is None:
            mapped = self.streams[ssrc] = (
                struct.pack("!I", (ssrc * 2654435761) & 0xFFFFFFFF),
                len(self.streams) * 1000,
                len(self.streams) * 90_000,
            )
        new_ssrc, seq_offset, ts_offset = mapped
        seq = (int.from_bytes(rtp[2:4], "big") + seq_offset) & 0xFFFF
        ts = (int.from_bytes(rtp[4:8], "big") + ts_offset) & 0xFFFFFFFF
        rtp[2:4] = seq.to_bytes(2, "big")
        rtp[4:8] = ts.to_bytes(4, "big")
        rtp[8:12] = new_ssrc
        self.transport.sendto(self.tx.protect(bytes(rtp)), self.sink)  # type: ignore[union-attr]
        self.out += 1
        if self.out == 1:
            self.first.set()


async def serve(seconds: float) -> None:
    loop = asyncio.get_running_loop()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # never read: the kernel drops
    sink.bind(("127.0.0.1", 0))
    transport, forwarder = await loop.create_datagram_endpoint(
        lambda: Forwarder(sink.getsockname()), local_addr=("127.0.0.1", 0)
    )
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    await forwarder.first.wait()
    await asyncio.sleep(WARMUP_S)
    cpu0, out0, t0 = time.process_time(), forwarder.out, time.monotonic()
    await asyncio.sleep(seconds)
    cpu, out, wall = time.process_time() - cpu0, forwarder.out - out0, time.monotonic() - t0
    print(
        json.dumps(
            {
                "cores": cpu / wall,
                "packets_out_per_s": out / wall,
                "us_per_packet_out": cpu / out * 1e6 if out else None,
            }
        ),
        flush=True,
    )
    transport.close()
    sink.close()


def _packets(clip: Clip) -> list[list[bytes]]:
    """Each of the clip's media packets as the RTP payloads it is sent in."""
    return [
        [packet[i : i + MAX_PAYLOAD] for i in range(0, len(packet), MAX_PAYLOAD)] or [b""]
        for packet in clip.packets
    ]


@dataclass
class _Stream:
    ssrc: int
    pt: int
    frames: list[list[bytes]]
    interval: float
    ts_step: int
    due: float
    n: int = 0
    seq: int = 0


async def send(port: int, mode: str, sessions: int, clips_dir: Path, seconds: float) -> None:
    """Replay the clips as SRTP to the forwarder in real time for ``seconds``."""
    clips = load_clips(clips_dir)
    kinds = [("audio", 111, 960)] + ([("video", 96, 3000)] if mode == "video" else [])
    tx = _session(KEY_IN, Policy.SSRC_ANY_OUTBOUND)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sock.setblocking(False)
    dest = ("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    start = loop.time()
    streams: list[_Stream] = []
    count = sessions * 2 * len(kinds)  # both directions of every session
    for _ in range(sessions * 2):
        for kind, pt, ts_step in kinds:
            clip = clips[kind]
            offset = len(streams) / count * clip.interval_s  # spread over the interval
            streams.append(
                _Stream(
                    1000 + len(streams),
                    pt,
                    _packets(clip),
                    clip.interval_s,
                    ts_step,
                    start + offset,
                )
            )
    while loop.time() - start < seconds:
        now = loop.time()
        soonest = now + 0.02
        for s in streams:
            while s.due <= now:
                frame = s.frames[s.n % len(s.frames)]
                ts = (s.n * s.ts_step) & 0xFFFFFFFF
                for k, payload in enumerate(frame):
                    marker = 0x80 if k == len(frame) - 1 else 0
                    header = struct.pack("!BBHII", 0x80, marker | s.pt, s.seq & 0xFFFF, ts, s.ssrc)
                    s.seq += 1
                    with contextlib.suppress(BlockingIOError):  # a full buffer drops, as UDP does
                        sock.sendto(tx.protect(header + payload), dest)
                s.n += 1
                s.due += s.interval
            soonest = min(soonest, s.due)
        await asyncio.sleep(max(0.0, soonest - loop.time()))
    sock.close()


async def measure_floor(
    mode: str, sessions: int, clips_dir: Path, seconds: float
) -> dict[str, Any]:
    """Run the forwarder and its sender as processes; the forwarder's figures."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.media_floor",
        "serve",
        str(seconds),
        cwd=ROOT,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    try:
        async with asyncio.timeout(30):
            port = json.loads(await server.stdout.readline())["port"]
        sender = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.media_floor",
            "send",
            str(port),
            mode,
            str(sessions),
            str(clips_dir),
            str(seconds + WARMUP_S + 5),
            cwd=ROOT,
            env=child_env(),
        )
        try:
            async with asyncio.timeout(seconds + WARMUP_S + 60):
                result = json.loads(await server.stdout.readline())
        finally:
            if sender.returncode is None:
                sender.kill()
            await sender.wait()
    finally:
        if server.returncode is None:
            server.kill()
        await server.wait()
    return {
        "media": mode,
        "relay": "floor",
        "sessions": sessions,
        "server_cores": round(result["cores"], 3),
        "us_per_packet_out": round(result["us_per_packet_out"], 1),
        "packets_out_per_s": round(result["packets_out_per_s"]),
    }


def main(argv: list[str]) -> None:
    if argv[0] == "serve":
        asyncio.run(serve(float(argv[1])))
    elif argv[0] == "send":
        port, mode, sessions, clips, seconds = argv[1:6]
        asyncio.run(send(int(port), mode, int(sessions), Path(clips), float(seconds)))
    else:  # a run by itself: MODE SESSIONS
        with tempfile.TemporaryDirectory() as tmp:
            save_clip(encode_audio(5.0), Path(tmp))
            save_clip(encode_video(3.0), Path(tmp))
            floor = measure_floor(argv[0], int(argv[1]), Path(tmp), 6.0)
            print(json.dumps(asyncio.run(floor)))


if __name__ == "__main__":
    main(sys.argv[1:] or ["voice", "60"])
