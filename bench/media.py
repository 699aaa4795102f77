"""bench/media: what the forwarding relay (``media.rooms.Rooms``: RTP forwarded packet by packet,
nothing decoded) costs and adds, against baselines measured in the same run.

1. *CPU per session* of the relay server process, for voice (Opus) and video sessions (VP8
   640×480 at 30 fps, ~1 Mbit/s, plus Opus), each a two-party call.  The server runs alone in
   its own process (``bench.media_rig server``); load clients in two other processes send
   pre-encoded media in real time and count what arrives, decoding and encoding nothing.  After
   every session is connected and a warm-up, the server's CPU time (``/proc/<pid>/stat``, all
   threads) is read over a few windows; its idle rate, measured before any session, is
   subtracted; the median window gives cores per session.  Baseline: the relay built the usual
   aiortc way (``aiortc.contrib.media.MediaRelay``: each track decoded, re-encoded for the
   other side), with fewer sessions so that it is not saturated.  Each row says whether its
   conditions held (media on time and delivered, the machine not saturated, no other process
   competing for the cores).  Targets: ≥ 150 voice sessions per core; video ≥ 10× cheaper per
   session than the baseline.
2. *Added latency*: one-way time from a client handing a packet to its DTLS transport to the
   other client receiving it, through the forwarding relay vs a direct client↔client peer
   connection (the baseline), all these clients in this process (one clock), side by side;
   once with the relay otherwise idle, once while it also carries ``--latency-load`` voice
   sessions.  Packets are matched by their payload, which the relay forwards untouched (it
   rewrites SSRC, sequence numbers and timestamps).  Target: added p50 < 5 ms.
3. *The floor*: a minimal forwarder (``bench.media_floor``: receive, SRTP-unprotect, rewrite
   the header, SRTP-protect, send; the same libraries, no aiortc) on the same traffic; each
   forwarding row gets ``relay_over_floor``, its CPU per packet out over the floor's.  Target:
   ≤ 2×.  The forwarding rows are also measured with the server on uvloop (``--also-loops``).
4. *Leak check*: ``--leak-sessions`` sessions (two real aiortc client peers and a server room
   each; every fifth a video call), 16 at a time: media flows both ways, then the call ends
   (``Rooms.close``; for half of them the clients close first).  The server's asyncio tasks,
   open fds, UDP sockets, threads and live aiortc/relay objects must return to their baseline
   (taken after a warm-up); the object types that grew are listed.  The exit status is 1 if
   anything leaked or a session failed.

Only 127.0.0.1 is used.  Prints tables; writes JSON to bench/results/media.json.  ``--profile``
adds a cProfile of the forwarding server for one window (bench/results/media-*.prof).

    .venv/bin/python -m bench.media [--voice-sessions 60] [--video-sessions 10] [--seconds 9]
        [--leak-sessions 1000] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import media_clips, media_rig
from bench.media_floor import measure_floor
from bench.media_procs import RESULTS, done, progress
from bench.media_report import TARGETS, leak_rows, print_table, verdicts
from bench.media_runs import check_leaks, measure_cpu, measure_latency


async def run(args: argparse.Namespace, clips_dir: Path, out: Path, report: dict[str, Any]) -> None:
    clips = media_clips.load_clips(clips_dir)

    def save() -> None:
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False))

    loops = ["asyncio", *args.also_loops]  # the forwarding rows on each event loop
    plan = [
        *(("voice", "forward", args.voice_sessions, loop) for loop in loops),
        ("voice", "mediarelay", args.baseline_voice_sessions, "asyncio"),
        *(("video", "forward", args.video_sessions, loop) for loop in loops),
        ("video", "mediarelay", args.baseline_video_sessions, "asyncio"),
    ]
    for mode, relay, n, loop in plan:
        if n > 0:
            report["cpu"].append(
                await measure_cpu(
                    mode,
                    relay,
                    n,
                    args.seconds,
                    args.windows,
                    clips_dir,
                    args.profile and relay == "forward" and loop == "asyncio",
                    loop,
                )
            )
            save()
    # The floor on the same traffic (bench.media_floor): relay ÷ floor per packet out.
    for mode, n in (("voice", args.voice_sessions), ("video", args.video_sessions)):
        if n > 0 and args.floor:
            progress(f"{mode}/floor, {n} sessions")
            floor = await measure_floor(mode, n, clips_dir, args.seconds)
            done(f"{mode}/floor, {n} sessions: {floor['us_per_packet_out']} µs per packet out")
            for row in report["cpu"]:
                if row["media"] == mode and row["relay"] == "forward":
                    row["relay_over_floor"] = round(
                        row["us_per_packet_out"] / floor["us_per_packet_out"], 2
                    )
            report["cpu"].append(floor)
            save()
    if args.latency_sessions > 0:
        report["latency"] = await measure_latency(
            args.latency_sessions, args.seconds, clips_dir, args.latency_load
        )
        save()
    if args.leak_sessions > 0:
        report["leak"] = await check_leaks(args.leak_sessions, args.leak_concurrency, clips)
        save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.media",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--voice-sessions", type=int, default=60, help="forwarding relay")
    parser.add_argument("--video-sessions", type=int, default=10, help="forwarding relay")
    parser.add_argument("--baseline-voice-sessions", type=int, default=4, help="MediaRelay")
    parser.add_argument("--baseline-video-sessions", type=int, default=2, help="MediaRelay")
    parser.add_argument(
        "--seconds", type=float, default=9.0, help="measured seconds per configuration"
    )
    parser.add_argument("--windows", type=int, default=3, help="CPU windows per configuration")
    parser.add_argument("--latency-sessions", type=int, default=2, help="video calls timed")
    parser.add_argument(
        "--latency-load",
        type=int,
        default=20,
        help="voice sessions loading the relay during the second latency measurement",
    )
    parser.add_argument(
        "--also-loops",
        nargs="*",
        default=["uvloop"],
        choices=["uvloop"],
        help="also measure the forwarding rows with the server on these event loops "
        "(default: uvloop; none: --also-loops with no value)",
    )
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the minimal forwarder on the same traffic (bench.media_floor)",
    )
    parser.add_argument("--leak-sessions", type=int, default=1000)
    parser.add_argument("--leak-concurrency", type=int, default=16)
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (few sessions, short windows)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile the forwarding server for one window (bench/results/*.prof)",
    )
    parser.add_argument("--out", default=str(RESULTS / "media.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.voice_sessions = min(args.voice_sessions, 10)
        args.video_sessions = min(args.video_sessions, 2)
        args.baseline_voice_sessions = min(args.baseline_voice_sessions, 2)
        args.baseline_video_sessions = min(args.baseline_video_sessions, 1)
        args.seconds = min(args.seconds, 3.0)
        args.latency_sessions = min(args.latency_sessions, 1)
        args.latency_load = min(args.latency_load, 5)
        args.leak_sessions = min(args.leak_sessions, 40)
    media_rig.setup_process()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clips_dir = Path(tmp)
        progress("encoding the clips (Opus 5 s, VP8 640×480 3 s)")
        audio, video = media_clips.encode_audio(5.0), media_clips.encode_video(3.0)
        media_clips.save_clip(audio, clips_dir)
        media_clips.save_clip(video, clips_dir)
        done(f"clips: Opus {audio.bitrate_kbps:.0f} kbit/s, VP8 {video.bitrate_kbps:.0f} kbit/s")
        report: dict[str, Any] = {
            "bench": "media",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "targets": TARGETS,
            "clips": {
                "opus_kbps": round(audio.bitrate_kbps, 1),
                "vp8_kbps": round(video.bitrate_kbps, 1),
                "vp8": "640x480 30 fps",
            },
            "seconds": args.seconds,
            "windows": args.windows,
            "cpu": [],
            "latency": [],
            "leak": {},
        }
        asyncio.run(run(args, clips_dir, out, report))
    report["verdicts"] = verdicts(report["cpu"], report["latency"], report["leak"], args.quick)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print()
    if report["cpu"]:
        print_table(
            report["cpu"],
            [
                "media",
                "relay",
                "loop",
                "sessions",
                "server_cores",
                "server_sys_share",
                "millicores_per_session",
                "sessions_per_core",
                "us_per_packet_out",
                "relay_over_floor",
                "audio_delivered",
                "other_cores",
                "check",
            ],
        )
    if report["latency"]:
        print_table(
            report["latency"],
            [
                "path",
                "server_load",
                "media",
                "packets",
                "p50_ms",
                "p99_ms",
                "added_p50_ms",
                "added_p99_ms",
                "server_cores",
                "host_busy",
            ],
        )
    if report["leak"]:
        print_table(leak_rows(report["leak"]), ["server", "before", "after", "delta"])
    print_table(report["verdicts"], ["target", "measured", "met"])
    print(f"wrote {out}", file=sys.stderr)
    leak = report["leak"]
    return 1 if leak and (leak["leaked"] or leak["failed"]) else 0


if __name__ == "__main__":
    sys.exit(main())
