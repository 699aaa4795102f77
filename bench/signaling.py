"""bench/signaling: Socket.IO connections per second, and text-message delivery latency with N
concurrent text sessions, on one server process and on two processes cooperating through Redis.

For each set-up the benchmark seeds N customers (funded, with login tokens) and N companions
(with rates) in a fresh database, starts real ``peiliao serve`` processes, and from this process
(a separate one) drives 2N python-socketio clients over loopback websockets:

1. *connect*: all 2N clients connect (64 at a time): connections per second;
2. *pair*: companions go online, each customer requests its companion, the companion accepts:
   N active text sessions, each billed per minute;
3. *chat*: for ``--window`` seconds every session sends one message every ``--interval``
   seconds (customer and companion taking turns, at random phases), each message preceded by
   a typing indicator; latency is from the sender's ``emit`` to the other side's
   ``chat:message`` (or ``chat:typing``), both measured here on one clock.  Typing indicators
   are the baseline: the same path, nothing stored.

``workers-sqlite`` is one ``peiliao serve --workers 2`` on SQLite with no Redis: the kernel spreads
the connections over the two workers, which cooperate through the supervisor's local broker.
With two processes, every customer is on process A and every companion on process B, so every
message crosses processes through Redis.  Target: N = 1,000 on one process, delivery p99 < 50 ms.

    .venv/bin/python -m bench.signaling [--sessions 1000]
        [--setups one-sqlite one-postgresql two-postgresql] [--window 20] [--interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from accounts.tokens import hash_token, new_token
from bench.metering import drop_pg, make_db, pct
from kernel.clock import SystemClock
from kernel.logs import configure_logging
from metering import accounts
from metering.ids import TransferId
from metering.ledger import TransferSpec, legs
from metering.service import MeteringService
from metering.tariff import Rates
from store import Database
from store.models import AuthSession, User

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REDIS_URL = os.environ.get("PEILIAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
#: name → (database, server processes started, workers each: ``serve --workers``)
SETUPS = {
    "one-sqlite": ("sqlite", 1, 1),
    "one-postgresql": ("postgresql", 1, 1),
    "two-postgresql": ("postgresql", 2, 1),
    # one command on the embedded default: two workers through the supervisor's local broker
    "workers-sqlite": ("sqlite", 1, 2),
}


def progress(text: str) -> None:
    print(f"\r  {text}", end="", file=sys.stderr, flush=True)


async def seed(db: Database, n: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """N customers (funded) and N companions (with rates), each with a login token."""
    clock = SystemClock()
    now = clock.now()
    metering = MeteringService(db, clock)
    people: dict[str, list[tuple[str, str]]] = {"customer": [], "companion": []}
    logins: list[AuthSession] = []
    async with db.writing() as s:
        for role, prefix in (("customer", "13"), ("companion", "19")):
            for i in range(n):
                uid = f"{role[:4]}{i:05d}"
                token = new_token()
                s.add(
                    User(
                        id=uid,
                        phone=f"{prefix}{i:09d}",
                        role=role,
                        nickname=f"{role} {i}",
                        tags=[],
                        avatar_version=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                logins.append(
                    AuthSession(
                        id=f"s_{uid}",
                        token_hash=hash_token(token),
                        user_id=uid,
                        created_at=now,
                        expires_at=now + timedelta(days=1),
                        last_seen_at=now,
                        client="cli",
                    )
                )
                people[role].append((uid, token))
        await s.flush()  # the users before their logins (foreign keys)
        s.add_all(logins)
    for uid, _ in people["companion"]:
        await metering.set_rates(uid, Rates(60, 150, 300))
    for lo in range(0, n, 500):
        async with db.writing() as s:
            for uid, _ in people["customer"][lo : lo + 500]:
                await metering.ledger.post(
                    s,
                    TransferSpec(
                        TransferId(f"topup:bench-{uid}"),
                        "topup",
                        legs(
                            (accounts.clearing("sandbox"), -100_000),
                            (accounts.wallet(uid), 100_000),
                        ),
                    ),
                    now,
                )
    return people["customer"], people["companion"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProc:
    url: str
    proc: subprocess.Popen[bytes]


def spawn(db_url: str, redis_prefix: str | None, workers: int = 1) -> ServerProc:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PEILIAO_ENV": "dev",
        "PEILIAO_DATABASE_URL": db_url,
        "PEILIAO_SECRET_KEY": SECRET,
        "PEILIAO_WEB_DIST_DIR": "/nonexistent",
        "PEILIAO_LOG_LEVEL": "WARNING",
        "PEILIAO_DB_POOL_SIZE": "20",
        "PEILIAO_DRAIN_TIMEOUT_S": "1",
    }
    if redis_prefix is not None:
        env |= {"PEILIAO_REDIS_URL": REDIS_URL, "PEILIAO_REDIS_PREFIX": redis_prefix}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "peiliao.cli",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        # several workers: the supervisor says when all of them serve (wait_ready reads it)
        stderr=subprocess.PIPE if workers > 1 else subprocess.DEVNULL,
    )
    return ServerProc(f"http://127.0.0.1:{port}", proc)


def _all_workers_serving(proc: subprocess.Popen[bytes]) -> None:
    """Read the supervisor's stderr until it says every worker serves, then drain it in a
    thread (a full pipe would block the workers' writes)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if b"workers serving" in line:
            break
    threading.Thread(target=proc.stderr.read, daemon=True).start()


async def wait_ready(server: ServerProc) -> None:
    if server.proc.stderr is not None:
        await asyncio.wait_for(asyncio.to_thread(_all_workers_serving, server.proc), 90)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError("a server process exited; run it by hand to see why")
            try:
                async with http.get(server.url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("a server process did not become ready within 60 s")


@dataclass
class Client:
    user_id: str
    sio: socketio.AsyncClient
    incoming: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


@dataclass
class Chat:
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    #: the baseline: typing indicators take the same path (auth, limits, a read, the fan-out to
    #: the other side) but store nothing
    typing_sent_at: dict[str, float] = field(default_factory=dict)
    typing_ms: list[float] = field(default_factory=list)


async def make_client(url: str, user_id: str, token: str, chat: Chat) -> Client:
    sio = socketio.AsyncClient(reconnection=False)
    client = Client(user_id, sio)

    async def on_message(data: dict[str, Any]) -> None:
        if data.get("sender_id") != user_id:  # the other side's message arriving here
            t0 = chat.sent_at.pop(data["client_id"], None)
            if t0 is not None:
                chat.latencies_ms.append((time.perf_counter() - t0) * 1000)

    async def on_typing(data: dict[str, Any]) -> None:
        t0 = chat.typing_sent_at.pop(data["call_id"], None)
        if t0 is not None:
            chat.typing_ms.append((time.perf_counter() - t0) * 1000)

    async def on_incoming(data: dict[str, Any]) -> None:
        client.incoming.put_nowait(data)

    sio.on("chat:message", on_message)
    sio.on("call:incoming", on_incoming)
    sio.on("chat:typing", on_typing)
    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    return client


async def bounded(coros: list[Any], limit: int, label: str) -> list[Any]:
    sem = asyncio.Semaphore(limit)
    done = 0

    async def one(c: Any) -> Any:
        nonlocal done
        async with sem:
            out = await c
        done += 1
        if done % 100 == 0 or done == len(coros):
            progress(f"{label} {done}/{len(coros)}")
        return out

    out = await asyncio.gather(*(one(c) for c in coros))
    print(file=sys.stderr)
    return out


async def loop_lag_buckets(url: str) -> dict[float, float]:
    """The server's event-loop lag histogram (``kernel.loop_watch``): cumulative count per
    bucket upper bound, from its /metrics."""
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as resp:
        text = await resp.text()
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith('peiliao_event_loop_lag_seconds_bucket{le="'):
            bound = line.split('"')[1]
            out[math.inf if bound == "+Inf" else float(bound)] = float(line.split()[-1])
    return out


def longest_stall_ms(before: dict[float, float], after: dict[float, float]) -> float | None:
    """The bucket bound the window's longest stall was under (ms): the smallest bound whose
    count grew as much as the whole histogram did."""
    if not after:
        return None
    total = after[math.inf] - before.get(math.inf, 0.0)
    for bound in sorted(after):
        if after[bound] - before.get(bound, 0.0) >= total:
            return bound * 1000
    return None


async def run_setup(name: str, n: int, window_s: float, interval_s: float) -> dict[str, Any]:
    kind, processes, workers = SETUPS[name]
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = await make_db(kind, Path(tmp))
        servers: list[ServerProc] = []
        clients: list[Client] = []
        try:
            customers, companions = await seed(db, n)
            url = str(db.engine.url.render_as_string(hide_password=False))
            prefix = (
                f"peiliao-bench:{os.getpid()}:{secrets.token_hex(3)}:" if processes > 1 else None
            )
            servers = [spawn(url, prefix, workers) for _ in range(processes)]
            await asyncio.gather(*(wait_ready(s) for s in servers))
            chat = Chat()
            a, b = servers[0], servers[-1]

            t = time.perf_counter()
            comp_clients = await bounded(
                [make_client(b.url, uid, tok, chat) for uid, tok in companions],
                64,
                "connect companions",
            )
            cust_clients = await bounded(
                [make_client(a.url, uid, tok, chat) for uid, tok in customers],
                64,
                "connect customers",
            )
            connect_s = time.perf_counter() - t
            clients = comp_clients + cust_clients

            await bounded(
                [c.sio.call("presence:set", {"accepting": True}, timeout=30) for c in comp_clients],
                64,
                "online",
            )

            async def pair(cust: Client, comp: Client) -> str:
                ack = await cust.sio.call(
                    "call:request",
                    {
                        "companion_id": comp.user_id,
                        "mode": "text",
                        "request_id": "bench-" + cust.user_id,
                    },
                    timeout=30,
                )
                if not ack.get("ok"):
                    raise RuntimeError(f"call:request refused: {ack}")
                call_id: str = ack["call"]["call_id"]
                await asyncio.wait_for(comp.incoming.get(), 30)
                ack = await comp.sio.call("call:accept", {"call_id": call_id}, timeout=30)
                if not ack.get("ok"):
                    raise RuntimeError(f"call:accept refused: {ack}")
                return call_id

            t = time.perf_counter()
            call_ids = await bounded(
                [pair(c, k) for c, k in zip(cust_clients, comp_clients, strict=True)], 32, "pair"
            )
            pair_s = time.perf_counter() - t

            async def talk(i: int, call_id: str) -> None:
                sides = (cust_clients[i], comp_clients[i])
                loop = asyncio.get_running_loop()
                start = loop.time() + random.uniform(0, interval_s)
                end = loop.time() + window_s
                k = 0
                while (due := start + k * interval_s) < end:
                    await asyncio.sleep(max(0.0, due - loop.time()))
                    sender = sides[k % 2]
                    chat.typing_sent_at[call_id] = time.perf_counter()
                    try:
                        await sender.sio.call("chat:typing", {"call_id": call_id}, timeout=30)
                    except Exception:
                        chat.failures += 1
                    cid = f"bench-{i:05d}-{k:05d}"
                    chat.sent_at[cid] = time.perf_counter()
                    try:
                        ack = await sender.sio.call(
                            "chat:send",
                            {"call_id": call_id, "client_id": cid, "text": f"消息 {k}"},
                            timeout=30,
                        )
                        if not ack.get("ok"):
                            chat.failures += 1
                    except Exception:
                        chat.failures += 1
                    k += 1

            # This process's own collector pauses (2N clients' objects) are not the server's
            # latency: keep them out of the measurement.
            gc.collect()
            gc.freeze()
            progress(f"chat: {n} sessions for {window_s:.0f} s")
            lag_before = [await loop_lag_buckets(srv.url) for srv in servers]
            await asyncio.gather(*(talk(i, cid) for i, cid in enumerate(call_ids)))
            await asyncio.sleep(1.0)  # the last deliveries
            lag_after = [await loop_lag_buckets(srv.url) for srv in servers]
            stalls = [longest_stall_ms(b, a) for b, a in zip(lag_before, lag_after, strict=True)]
            print(file=sys.stderr)
            lat = chat.latencies_ms
            await bounded(
                [
                    c.sio.call("call:hangup", {"call_id": cid}, timeout=30)
                    for c, cid in zip(cust_clients, call_ids, strict=True)
                ],
                64,
                "hang up",
            )
            return {
                "setup": name,
                "processes": processes * workers,
                "db": kind,
                "sessions": n,
                "clients": 2 * n,
                "connections_per_s": round(2 * n / connect_s, 1),
                "pairs_per_s": round(n / pair_s, 1),
                "messages": len(lat),
                "messages_per_s": round(len(lat) / window_s, 1),
                "delivery_p50_ms": round(statistics.median(lat), 2) if lat else None,
                "delivery_p99_ms": round(pct(lat, 0.99), 2) if lat else None,
                "typing_p50_ms": round(statistics.median(chat.typing_ms), 2)
                if chat.typing_ms
                else None,
                "typing_p99_ms": round(pct(chat.typing_ms, 0.99), 2) if chat.typing_ms else None,
                "delivery_over_typing_p50": (
                    round(statistics.median(lat) / statistics.median(chat.typing_ms), 2)
                    if lat and chat.typing_ms
                    else None
                ),
                "undelivered": len(chat.sent_at),
                "failed_sends": chat.failures,
                # the longest event-loop stall of any server process during the chat window
                # (an upper bound: the lag histogram's bucket), what every tail waits behind
                "loop_stall_max_ms_under": max((x for x in stalls if x is not None), default=None),
            }
        finally:
            for c in clients:
                if c.sio.connected:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(c.sio.disconnect(), 5)
            for s in servers:
                if s.proc.poll() is None:
                    s.proc.send_signal(signal.SIGTERM)
            for s in servers:
                try:
                    s.proc.wait(30)
                except subprocess.TimeoutExpired:
                    s.proc.kill()
            await db.dispose()
            if pg_name:
                await drop_pg(pg_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.signaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--window", type=float, default=20.0, help="chat window, seconds")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between a session's messages"
    )
    parser.add_argument("--out", default=str(RESULTS / "signaling.json"))
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for name in args.setups:
        print(f"{name}, {args.sessions} sessions:", file=sys.stderr)
        rows.append(asyncio.run(run_setup(name, args.sessions, args.window, args.interval)))
        out.write_text(
            json.dumps(
                {
                    "bench": "signaling",
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                    "target": "1,000 text sessions on one process: delivery p99 < 50 ms",
                    "interval_s": args.interval,
                    "window_s": args.window,
                    "results": rows,
                },
                indent=2,
            )
        )
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print(" | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))
    print(f"wrote {out}", file=sys.stderr)
    return 0 if all(r["failed_sends"] == 0 and r["undelivered"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
