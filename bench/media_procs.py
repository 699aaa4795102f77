"""bench/media_procs: the processes of ``bench.media`` and their CPU: the relay server
(``Server``) and the load clients (``Clients``) as child processes of the benchmark, and
the figures sampled from them and from the machine (``sample``, ``window``, ``cpu_s``,
``host_times``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench import media_peers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
#: above this share of every core busy, processes queue for CPU and figures mean little
SATURATED = 0.85
HTTP = aiohttp.ClientTimeout(total=media_peers.HTTP_TIMEOUT_S)


def progress(text: str) -> None:
    print(f"\r  {text}\033[K", end="", file=sys.stderr, flush=True)


def done(text: str) -> None:
    progress(text)
    print(file=sys.stderr)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of process ``pid``, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_s(pid: int) -> float:
    return sum(cpu_split(pid))


def host_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, every core."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# -- child processes ---------------------------------------------------------------------------


@dataclass
class Server:
    proc: asyncio.subprocess.Process
    url: str

    @classmethod
    async def start(cls, loop: str = "asyncio") -> Server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.media_rig",
            "server",
            cwd=ROOT,
            env={**child_env(), "BENCH_EVENT_LOOP": loop},
            stdin=asyncio.subprocess.PIPE,  # closed when this process ends: the server stops
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            line = await proc.stdout.readline()
        if not line:
            raise RuntimeError("the relay server exited at start-up; run it by hand to see why")
        return cls(proc, f"http://127.0.0.1:{json.loads(line)['port']}")

    def cpu_s(self) -> float:
        return cpu_s(self.proc.pid)

    def sys_s(self) -> float:
        return cpu_split(self.proc.pid)[1]

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        # No keep-alive: pooled connections would show up as the server's tasks and fds.
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(timeout=HTTP, connector=connector) as http,
            http.request(method, self.url + path, json=body) as resp,
        ):
            resp.raise_for_status()
            return await resp.json()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@dataclass
class Clients:
    """A load process (``bench.media_rig clients``) holding ``count`` sessions."""

    proc: asyncio.subprocess.Process
    count: int
    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    connected: int = 0
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, server: Server, relay: str, mode: str, first: int, count: int, clips: Path
    ) -> Clients:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.media_rig",
            "clients",
            server.url,
            relay,
            mode,
            str(first),
            str(count),
            str(clips),
            cwd=ROOT,
            env=child_env(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        clients = cls(proc, count)
        clients.reader = asyncio.create_task(clients._read())
        return clients

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            event = json.loads(line)
            if "progress" in event:
                self.connected = event["progress"]
            else:
                self.events.put_nowait(event)
        self.events.put_nowait({"exited": True})

    async def _next(self, key: str, timeout_s: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            event = await self.events.get()
        if key not in event:
            raise RuntimeError(f"a load client process said {event}, not {key!r}")
        return event

    async def ready(self) -> dict[str, Any]:
        return await self._next("ready", 60 + self.count)

    async def stats(self) -> dict[str, dict[str, int]]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stats\n")
        await self.proc.stdin.drain()
        return (await self._next("stats", 30))["stats"]  # type: ignore[no-any-return]

    async def stop(self) -> None:
        if self.proc.returncode is None and self.proc.stdin is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.write(b"stop\n")
                await self.proc.stdin.drain()
                await self._next("closed", 60)
        try:
            async with asyncio.timeout(30):
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self.reader is not None:
            self.reader.cancel()


@dataclass
class Sample:
    t: float
    server_s: float
    server_sys_s: float  # of server_s: in the kernel (UDP send and receive, epoll)
    clients_s: float
    own_s: float  # this process (it only asks the others for figures)
    host: tuple[float, float]
    tx: dict[str, int]
    rx: dict[str, int]


async def sample(server: Server, clients: list[Clients]) -> Sample:
    stats = await asyncio.gather(*(c.stats() for c in clients))
    tx: dict[str, int] = {}
    rx: dict[str, int] = {}
    for s in stats:
        for kind, n in s["tx"].items():
            tx[kind] = tx.get(kind, 0) + n
        for kind, n in s["rx"].items():
            rx[kind] = rx.get(kind, 0) + n
    return Sample(
        time.monotonic(),
        server.cpu_s(),
        server.sys_s(),
        sum(cpu_s(c.proc.pid) for c in clients),
        cpu_s(os.getpid()),
        host_times(),
        tx,
        rx,
    )


def window(a: Sample, b: Sample, sessions: int, idle_cores: float) -> dict[str, float]:
    dt = b.t - a.t
    cores = (b.server_s - a.server_s) / dt
    rx = {k: b.rx.get(k, 0) - a.rx.get(k, 0) for k in ("audio", "video")}
    tx_audio = b.tx.get("audio", 0) - a.tx.get("audio", 0)
    packets = rx["audio"] + rx["video"]
    busy = (b.host[0] - a.host[0]) / max(1.0, b.host[1] - a.host[1])
    return {
        "server_cores": cores,
        "server_sys_share": (b.server_sys_s - a.server_sys_s) / max(1e-9, b.server_s - a.server_s),
        "cores_per_session": (cores - idle_cores) / sessions,
        "us_per_packet_out": (cores - idle_cores) * dt / max(1, packets) * 1e6,
        "packets_out_per_s": packets / dt,
        "video_packets_out_per_s": rx["video"] / dt,
        # every audio frame a client sends is one RTP packet, relayed as one (both relays)
        "audio_delivered": rx["audio"] / max(1, tx_audio),
        "clients_on_time": tx_audio / dt / (sessions * 2 * 50),
        "client_cores": (b.clients_s - a.clients_s) / dt,
        "host_busy": busy,
        # anything else running on the machine meanwhile (it competes for the same cores)
        "other_cores": max(
            0.0,
            busy * (os.cpu_count() or 1)
            - cores
            - (b.clients_s - a.clients_s + b.own_s - a.own_s) / dt,
        ),
    }
