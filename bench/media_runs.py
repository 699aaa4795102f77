"""bench/media_runs: the measurements of ``bench.media``: CPU per session (``measure_cpu``),
added latency (``measure_latency``) and the leak check (``check_leaks``), each against a
relay server of its own."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import media_clips, media_peers, media_server
from bench.media_clips import Clip
from bench.media_peers import Counters, Metronomes, Peer
from bench.media_procs import (
    HTTP,
    RESULTS,
    SATURATED,
    Clients,
    Server,
    done,
    host_times,
    pct,
    progress,
    sample,
    window,
)

#: how far above its baseline each server figure may end after the leak check
LEAK_TOLERANCE = {"tasks": 3, "fds": 3, "udp_sockets": 1, "threads": 2, "objects": 2}
WARMUP_S = 2.0


# -- 1. CPU per session ------------------------------------------------------------------------


async def measure_cpu(
    mode: str,
    relay: str,
    sessions: int,
    seconds: float,
    windows: int,
    clips: Path,
    profile: bool,
    loop: str = "asyncio",
) -> dict[str, Any]:
    label = f"{mode}/{relay}{'' if loop == 'asyncio' else ' on ' + loop}, {sessions} sessions"
    server = await Server.start(loop)
    clients: list[Clients] = []
    try:
        await asyncio.sleep(0.5)
        t0, c0 = time.monotonic(), server.cpu_s()
        await asyncio.sleep(1.0)
        idle_cores = (server.cpu_s() - c0) / (time.monotonic() - t0)
        split = [sessions // 2, sessions - sessions // 2] if sessions >= 2 else [sessions]
        first = 0
        for count in split:
            clients.append(await Clients.start(server, relay, mode, first, count, clips))
            first += count
        waiting = asyncio.gather(*(c.ready() for c in clients))
        while not waiting.done():
            progress(f"{label}: connecting {sum(c.connected for c in clients)}/{sessions}")
            await asyncio.wait([waiting], timeout=0.5)
        ready = waiting.result()
        failed = sum(r["failed"] for r in ready)
        if failed:
            raise RuntimeError(f"{label}: {failed} sessions did not connect")
        progress(f"{label}: warming up")
        await asyncio.sleep(WARMUP_S)
        measured = []
        before = await sample(server, clients)
        for w in range(windows):
            progress(f"{label}: window {w + 1}/{windows}")
            await asyncio.sleep(seconds / windows)
            after = await sample(server, clients)
            measured.append(window(before, after, sessions, idle_cores))
            before = after
        profile_file = None
        if profile:
            progress(f"{label}: profiling the server")
            profile_file = RESULTS / f"media-{mode}-{relay}.prof"
            report = await server.call(
                "POST",
                "/profile",
                {"seconds": seconds / windows, "out": str(profile_file), "top": 30},
            )
            print(f"\n{label}, cProfile of the server:\n{report['text']}", file=sys.stderr)
        med = {k: statistics.median(w[k] for w in measured) for k in measured[0]}
        # A figure is only as good as its conditions: say when they were not met.
        problems = []
        if med["audio_delivered"] < 0.97 or med["clients_on_time"] < 0.97:
            problems.append("media late or lost")
        if med["host_busy"] > SATURATED:
            problems.append("machine saturated")
        if med["other_cores"] > 0.25:
            problems.append(f"other processes used {med['other_cores']:.1f} cores")
        done(
            f"{label}: {med['cores_per_session'] * 1000:.2f} millicores per session "
            f"({med['server_cores']:.2f} cores; machine {med['host_busy']:.0%} busy, "
            f"{med['other_cores']:.2f} cores used by other processes)"
        )
        return {
            "media": mode,
            "relay": relay,
            "loop": loop,
            "sessions": sessions,
            "server_cores": round(med["server_cores"], 3),
            "idle_cores": round(idle_cores, 4),
            "server_sys_share": round(med["server_sys_share"], 2),
            "millicores_per_session": round(med["cores_per_session"] * 1000, 2),
            "sessions_per_core": round(1 / med["cores_per_session"], 1)
            if med["cores_per_session"] > 0
            else None,
            "us_per_packet_out": round(med["us_per_packet_out"], 1),
            "video_pps_per_session": round(med["video_packets_out_per_s"] / sessions, 1),
            "audio_delivered": round(med["audio_delivered"], 3),
            "clients_on_time": round(med["clients_on_time"], 3),
            "client_cores": round(med["client_cores"], 2),
            "host_busy": round(med["host_busy"], 2),
            "other_cores": round(med["other_cores"], 2),
            "check": "; ".join(problems) or "ok",
            "profile": str(profile_file) if profile_file else None,
            "windows": [{k: round(v, 5) for k, v in w.items()} for w in measured],
        }
    finally:
        await asyncio.gather(*(c.stop() for c in clients))
        await server.stop()


# -- 2. added latency --------------------------------------------------------------------------


def latency_rows(
    direct: list[tuple[Peer, Peer]], relayed: list[tuple[Peer, Peer]], load: str
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path, pairs in (("direct", direct), ("relay", relayed)):
        for kind in ("audio", "video"):
            ms = [x for pair in pairs for p in pair for x in p.latency_ms[kind]]
            rows.append(
                {
                    "path": path,
                    "server_load": load,
                    "media": kind,
                    "packets": len(ms),
                    "p50_ms": round(statistics.median(ms), 3) if ms else None,
                    "p99_ms": round(pct(ms, 0.99), 3) if ms else None,
                }
            )
    for kind in ("audio", "video"):
        base, through = (x for x in rows if x["media"] == kind)
        if base["packets"] and through["packets"]:
            through["added_p50_ms"] = round(through["p50_ms"] - base["p50_ms"], 3)
            through["added_p99_ms"] = round(through["p99_ms"] - base["p99_ms"], 3)
    return rows


async def measure_latency(
    sessions: int, seconds: float, clips_dir: Path, load_sessions: int
) -> list[dict[str, Any]]:
    """Video calls (Opus + VP8) through the relay and direct, side by side in this process:
    first with the relay server otherwise idle, then while it also carries ``load_sessions``
    voice sessions from a load process."""
    clips = media_clips.load_clips(clips_dir)
    server = await Server.start()
    metronomes, counters = Metronomes(), Counters()
    relayed: list[tuple[Peer, Peer]] = []
    direct: list[tuple[Peer, Peer]] = []
    load: Clients | None = None
    kinds = ("audio", "video")
    try:
        async with aiohttp.ClientSession(timeout=HTTP) as http:
            for i in range(sessions):
                progress(f"latency: connecting {i + 1}/{sessions}")
                a, b = (Peer(kinds, clips, metronomes, counters, timed=True) for _ in range(2))
                a.partner, b.partner = b, a
                relayed.append((a, b))
                room = f"latency-{i}"
                await media_peers.via_server(a, http, server.url, room, "a", "video", "forward")
                await media_peers.via_server(b, http, server.url, room, "b", "video", "forward")
                c, d = (Peer(kinds, clips, metronomes, counters, timed=True) for _ in range(2))
                c.partner, d.partner = d, c
                direct.append((c, d))
                await media_peers.direct(c, d)
            peers = [p for pair in relayed + direct for p in pair]
            await asyncio.gather(*(p.connected() for p in peers))

        async def measure(label: str) -> list[dict[str, Any]]:
            progress(f"latency ({label}): warming up")
            await asyncio.sleep(WARMUP_S)
            for p in peers:
                for samples in p.latency_ms.values():
                    samples.clear()
            progress(f"latency ({label}): measuring for {seconds:.0f} s")
            t0, cpu0, host0 = time.monotonic(), server.cpu_s(), host_times()
            await asyncio.sleep(seconds)
            t1, cpu1, host1 = time.monotonic(), server.cpu_s(), host_times()
            rows = latency_rows(direct, relayed, label)
            for row in rows:  # the conditions the figures were taken in
                row["server_cores"] = round((cpu1 - cpu0) / (t1 - t0), 2)
                row["host_busy"] = round((host1[0] - host0[0]) / max(1, host1[1] - host0[1]), 2)
            return rows

        rows = await measure("idle")
        if load_sessions > 0:
            label = f"+{load_sessions} voice"
            progress(f"latency ({label}): connecting the load")
            load = await Clients.start(server, "forward", "voice", 10_000, load_sessions, clips_dir)
            if (await load.ready())["failed"]:
                raise RuntimeError("latency: load sessions did not connect")
            rows += await measure(label)
        done(f"latency: {sum(r['packets'] for r in rows)} packets timed")
        return rows
    finally:
        if load is not None:
            await load.stop()
        for pair in relayed + direct:
            for p in pair:
                with contextlib.suppress(Exception):
                    await p.close()
        await server.stop()


# -- 3. leak check -----------------------------------------------------------------------------


async def run_sessions(
    server: Server,
    first: int,
    count: int,
    clips: dict[str, Clip],
    concurrency: int,
    label: str,
) -> int:
    """Open, let media flow, and close ``count`` sessions; how many failed."""
    metronomes, counters = Metronomes(), Counters()
    gate = asyncio.Semaphore(concurrency)
    failed = finished = 0
    started = time.monotonic()
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(timeout=HTTP, connector=connector) as http:

        async def one(i: int) -> None:
            nonlocal failed, finished
            mode = "video" if i % 5 == 4 else "voice"
            room = f"leak-{i}"
            async with gate:
                a, b = (
                    Peer(media_clips.kinds_of(mode), clips, metronomes, counters) for _ in range(2)
                )
                try:
                    await media_peers.via_server(a, http, server.url, room, "a", mode, "forward")
                    await media_peers.via_server(b, http, server.url, room, "b", mode, "forward")
                    async with asyncio.timeout(media_peers.CONNECT_TIMEOUT_S):
                        await asyncio.gather(a.flowing.wait(), b.flowing.wait())
                except Exception as exc:
                    failed += 1
                    print(f"\n  session {room} failed: {exc!r}", file=sys.stderr)
                finally:
                    # Half the calls end on the server first (a hang-up: Rooms.close), half
                    # with the clients leaving first (their DTLS close and RTCP BYE arrive at
                    # a live room).
                    if i % 2:
                        await asyncio.gather(a.close(), b.close())
                    async with http.post(server.url + "/close", json={"room": room}) as resp:
                        resp.raise_for_status()
                    await asyncio.gather(a.close(), b.close())
            finished += 1
            if finished % 10 == 0 or finished == count:
                rate = finished / (time.monotonic() - started)
                progress(f"{label}: {finished}/{count} sessions ({rate:.1f}/s, {failed} failed)")

        await asyncio.gather(*(one(i) for i in range(first, first + count)))
    return failed


def over(base: dict[str, Any], end: dict[str, Any]) -> dict[str, int]:
    """How far each watched figure ends above its baseline, beyond the tolerance."""
    excess = {}
    for key in ("tasks", "fds", "udp_sockets", "threads"):
        extra = end[key] - base[key] - LEAK_TOLERANCE[key]
        if extra > 0:
            excess[key] = extra
    for name, n in end["objects"].items():
        extra = n - base["objects"].get(name, 0) - LEAK_TOLERANCE["objects"]
        if extra > 0:
            excess[name] = extra
    return excess


async def check_leaks(n: int, concurrency: int, clips: dict[str, Clip]) -> dict[str, Any]:
    server = await Server.start()
    try:
        warm = min(20, n)
        warm_failed = await run_sessions(server, 0, warm, clips, concurrency, "leak: warm-up")
        await asyncio.sleep(1.0)
        base = await server.call("GET", "/probe")
        client_base = media_server.probe(0)
        t = time.monotonic()
        failed = await run_sessions(server, warm, n, clips, concurrency, "leak")
        elapsed = time.monotonic() - t
        print(file=sys.stderr)
        # Closing is asynchronous at the edges (aioice consent tasks, DTLS tasks end a moment
        # later): give the figures a few seconds to settle before judging.
        deadline = time.monotonic() + 10
        while True:
            end = await server.call("GET", "/probe")
            if not over(base, end) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        client_end = media_server.probe(0)
        excess = over(base, end)
        # Where a leak would be: the object types that grew, most first.
        grew = {
            name: n - base["types"].get(name, 0)
            for name, n in end.pop("types").items()
            if n - base["types"].get(name, 0) > 0
        }
        base.pop("types")
        client_base.pop("types")
        client_end.pop("types")
        growth = dict(sorted(grew.items(), key=lambda kv: -kv[1])[:12])
        verdict = f"LEAKS {excess}" if excess else "no leak"
        done(f"leak: {n} sessions in {elapsed:.0f} s; {verdict}")
        return {
            "sessions": n,
            "failed": failed + warm_failed,
            "seconds": round(elapsed, 1),
            "sessions_per_s": round(n / elapsed, 1),
            "server_before": base,
            "server_after": end,
            "leaked": excess,
            "types_grown": growth,
            "client_before": client_base,
            "client_after": client_end,
        }
    finally:
        await server.stop()
