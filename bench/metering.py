"""bench/metering: captured minute-charges per second, and tick → committed-charge latency, with
1,000 and 10,000 concurrent metered sessions, on SQLite and PostgreSQL.

For each database and session count N, after set-up (N customers funded, N voice sessions
opened — minute 1 reserved — and connected):

- *paced*: the real load of N sessions each ticking once a minute, N/60 ticks per second, each
  due at its own instant, for ``--window`` seconds; latency is from a tick's due instant to its
  capture-and-reserve transaction committing.  Measured twice on disjoint sessions: ticks one
  per transaction (the *per-session* path: the baseline) and through the ``TickBatcher``
  (group commit).  Target: p99 < 50 ms at 10,000 sessions.
- *burst*: every remaining session due at once, through the batcher: captured charges/s.

Every measured tick is a session's first minute charge (capture minute 1, reserve minute 2), so
both paths do the same work.  The ledger check runs at the end.  Prints a table; writes JSON.

    .venv/bin/python -m bench.metering [--sessions 1000 10000] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kernel.clock import FakeClock
from kernel.heap import freeze_now
from kernel.logs import configure_logging
from kernel.loop_watch import LoopWatch
from metering import accounts
from metering.batch import TickBatcher
from metering.check import check_ledger
from metering.ids import TransferId
from metering.ledger import TransferSpec, legs
from metering.service import MeteringService
from metering.tariff import Mode, Rates
from store import Database
from store.migrate import upgrade
from store.models import User

RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN = os.environ.get(
    "PEILIAO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def make_db(kind: str, tmp: Path) -> tuple[Database, str | None]:
    if kind == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp / 'bench.db'}", pool_size=20)
        await upgrade(db)
        return db, None
    import asyncpg

    name = f"peiliao_bench_{os.getpid()}"
    dsn = PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db = Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", pool_size=20)
    await upgrade(db)
    return db, name


async def drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def baseline_commit_ms(db: Database, n: int = 300) -> float:
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS bench_baseline (id INTEGER)"))
    samples = []
    for i in range(n):
        t = time.perf_counter()
        async with db.writing() as s:
            await s.execute(text("INSERT INTO bench_baseline (id) VALUES (:i)"), {"i": i})
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


async def gather_bounded(coros: list[Any], limit: int) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def setup(
    db: Database, n: int, progress: bool
) -> tuple[MeteringService, FakeClock, list[str]]:
    clock = FakeClock()
    metering = MeteringService(db, clock)
    now = clock.now()
    comp_ids = [f"c{i}" for i in range(max(1, n // 100))]
    cust_ids = [f"u{i}" for i in range(n)]
    async with db.writing() as s:
        s.add_all(
            User(
                id=u,
                phone=f"1{3 + (i % 6)}{i:09d}"[:11],
                role="customer",
                nickname="b",
                tags=[],
                avatar_version=0,
                created_at=now,
                updated_at=now,
            )
            for i, u in enumerate(cust_ids)
        )
        s.add_all(
            User(
                id=c,
                phone=f"19{i:09d}"[:11],
                role="companion",
                nickname="c",
                tags=[],
                avatar_version=0,
                created_at=now,
                updated_at=now,
            )
            for i, c in enumerate(comp_ids)
        )
    for c in comp_ids:
        await metering.set_rates(c, Rates(60, 150, 300))
    # Funding: real top-up transfers, 500 to a transaction (set-up speed is not measured).
    for lo in range(0, n, 500):
        async with db.writing() as s:
            for u in cust_ids[lo : lo + 500]:
                await metering.ledger.post(
                    s,
                    TransferSpec(
                        TransferId(f"topup:bench-{u}"),
                        "topup",
                        legs(
                            (accounts.clearing("sandbox"), -100_000), (accounts.wallet(u), 100_000)
                        ),
                    ),
                    now,
                )

    async def open_one(i: int) -> str:
        sid = f"s{i}"
        await metering.open_session(sid, cust_ids[i], comp_ids[i % len(comp_ids)], Mode.VOICE)
        await metering.media_up(sid)
        return sid

    sids: list[str] = []
    started = time.perf_counter()
    for lo in range(0, n, 500):
        sids += await gather_bounded([open_one(i) for i in range(lo, min(n, lo + 500))], 16)
        if progress:
            rate = len(sids) / (time.perf_counter() - started)
            print(
                f"\r  set-up {len(sids)}/{n} sessions ({rate:.0f}/s)",
                end="",
                file=sys.stderr,
                flush=True,
            )
    if progress:
        print(file=sys.stderr)
    clock.advance(1)  # every session is 1 s into minute 1: its first charge is due
    return metering, clock, sids


async def paced(
    tick: Any, sids: list[str], n: int, window_s: float, concurrency: int | None = None
) -> tuple[list[float], int]:
    """Ticks ``sids`` at N/60 per second, each at its due instant; latencies in ms and the
    number of ticks that failed.  ``concurrency`` bounds ticks in flight (the per-session path
    needs a connection each)."""
    rate = n / 60
    latencies: list[float] = []
    failures = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    gate = asyncio.Semaphore(concurrency) if concurrency else None

    async def one(i: int) -> None:
        nonlocal failures
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            if gate is None:
                await tick(sids[i])
            else:
                async with gate:
                    await tick(sids[i])
        except Exception:
            failures += 1
            return
        latencies.append((loop.time() - due) * 1000)

    await asyncio.gather(*(one(i) for i in range(len(sids))))
    return latencies, failures


async def burst(tick: Any, sids: list[str]) -> float:
    t = time.perf_counter()
    await asyncio.gather(*(tick(sid) for sid in sids))
    return len(sids) / (time.perf_counter() - t)


async def run_one(kind: str, n: int, window_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = await make_db(kind, Path(tmp))
        try:
            base_ms = await baseline_commit_ms(db)
            freeze_now()  # as `peiliao serve` does once the app is built (peiliao/heap.py)
            t = time.perf_counter()
            metering, _clock, sids = await setup(db, n, progress=True)
            setup_s = time.perf_counter() - t
            per_window = min(len(sids) // 3, int(n / 60 * window_s))
            single_set = sids[:per_window]
            batch_set = sids[per_window : 2 * per_window]
            burst_set = sids[2 * per_window :]
            single, single_failed = await paced(
                metering.tick, single_set, n, window_s, concurrency=16
            )
            batcher = TickBatcher(metering)
            await batcher.start()
            watch = LoopWatch()  # the event loop's longest stall during the batched window
            watching = asyncio.create_task(watch.run())
            try:
                batched, batched_failed = await paced(batcher.tick, batch_set, n, window_s)
                watching.cancel()
                burst_rate = await burst(batcher.tick, burst_set)
            finally:
                watching.cancel()
                await batcher.stop()
            report = await check_ledger(db)
            return {
                "db": kind,
                "sessions": n,
                "setup_s": round(setup_s, 1),
                "paced_ticks_per_s": round(n / 60, 1),
                "paced_ticks": len(batched),
                "single_p50_ms": round(statistics.median(single), 2),
                "single_p99_ms": round(pct(single, 0.99), 2),
                "batched_p50_ms": round(statistics.median(batched), 2),
                "batched_p99_ms": round(pct(batched, 0.99), 2),
                "batched_loop_stall_max_ms": round(watch.max_s * 1000, 1),
                "single_over_batched_p99": round(pct(single, 0.99) / pct(batched, 0.99), 1),
                "burst_charges_per_s": round(burst_rate, 1),
                "baseline_commit_ms": round(base_ms, 3),
                "single_failed": single_failed,
                "batched_failed": batched_failed,
                "ledger_check_ok": report.ok,
            }
        finally:
            await db.dispose()
            if pg_name:
                await drop_pg(pg_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.metering",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sessions", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--window", type=float, default=20.0, help="paced window, seconds")
    parser.add_argument("--out", default=str(RESULTS / "metering.json"))
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")  # the server's info lines are not what is measured
    rows: list[dict[str, Any]] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        out.write_text(
            json.dumps(
                {
                    "bench": "metering",
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                    "target": "10,000 sessions: tick p99 < 50 ms",
                    "results": rows,
                },
                indent=2,
            )
        )

    for kind in args.db:
        for n in args.sessions:
            print(f"{kind}, {n} sessions:", file=sys.stderr)
            rows.append(asyncio.run(run_one(kind, n, args.window)))
            save()  # after each configuration: a later failure loses nothing
    cols = [
        "db",
        "sessions",
        "paced_ticks_per_s",
        "single_p50_ms",
        "single_p99_ms",
        "batched_p50_ms",
        "batched_p99_ms",
        "batched_loop_stall_max_ms",
        "single_over_batched_p99",
        "burst_charges_per_s",
        "baseline_commit_ms",
        "single_failed",
        "batched_failed",
        "ledger_check_ok",
    ]
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print(" | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))
    print(f"wrote {out}", file=sys.stderr)
    return 0 if all(r["ledger_check_ok"] and not r["batched_failed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
