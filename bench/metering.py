"""bench/metering: captured minute-charges per second, and tick → committed-charge latency, with
1,000 and 10,000 concurrent metered sessions, on SQLite and PostgreSQL.

For each database and session count:

1. Set-up through the real code paths: N customers topped up, N sessions opened (minute 1
   reserved) and connected.
2. *paced*: the real load of N sessions ticking once a minute — N/60 ticks per second, each due
   at its own instant — for ``--window`` seconds; latency is from a tick's due time to its
   capture-and-reserve transaction committing.  The target: p99 < 50 ms at 10,000 sessions.
3. *burst*: every session ticks at once (concurrency ``--concurrency``): captured charges/s.

Baseline, measured in the same run on the same database: a bare one-row INSERT + COMMIT, the
floor any durable write pays.  Ratios are tick / baseline.  Prints a table; writes JSON.

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

from metering.check import check_ledger
from metering.service import MeteringService
from metering.tariff import Mode, Rates
from metering.wallet import Wallets
from peiliao.clock import FakeClock
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
    wallets = Wallets(db, clock, metering.ledger)
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

    async def open_one(i: int) -> str:
        cust, sid = cust_ids[i], f"s{i}"
        await wallets.create_order(f"o{i}", cust, "sandbox", 100_000)
        await wallets.credit_paid_order(
            f"o{i}", provider="sandbox", amount_fen=100_000, trade_no="b"
        )
        await metering.open_session(sid, cust, comp_ids[i % len(comp_ids)], Mode.VOICE)
        await metering.media_up(sid)
        return sid

    sids: list[str] = []
    started = time.perf_counter()
    batch = 500
    for lo in range(0, n, batch):
        sids += await gather_bounded([open_one(i) for i in range(lo, min(n, lo + batch))], 16)
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
    return metering, clock, sids


async def paced(
    metering: MeteringService, clock: FakeClock, sids: list[str], window_s: float, round_no: int
) -> list[float]:
    """Ticks at N/60 per second for ``window_s``; returns latencies (ms) from due to commit."""
    clock.advance(60 if round_no else 0.001)  # every session is now due its next minute
    rate = len(sids) / 60
    count = min(len(sids), int(rate * window_s))
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def tick(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        await metering.tick(sids[i])
        latencies.append((loop.time() - due) * 1000)

    await asyncio.gather(*(tick(i) for i in range(count)))
    return latencies


async def burst(
    metering: MeteringService, clock: FakeClock, sids: list[str], concurrency: int
) -> tuple[float, int]:
    clock.advance(60)
    t = time.perf_counter()
    await gather_bounded([metering.tick(sid) for sid in sids], concurrency)
    return time.perf_counter() - t, len(sids)


async def run_one(kind: str, n: int, window_s: float, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = await make_db(kind, Path(tmp))
        try:
            base_ms = await baseline_commit_ms(db)
            t = time.perf_counter()
            metering, clock, sids = await setup(db, n, progress=True)
            setup_s = time.perf_counter() - t
            lat = await paced(metering, clock, sids, window_s, round_no=0)
            elapsed, ticks = await burst(metering, clock, sids, concurrency)
            report = await check_ledger(db)
            return {
                "db": kind,
                "sessions": n,
                "setup_s": round(setup_s, 1),
                "paced_ticks": len(lat),
                "paced_ticks_per_s": round(n / 60, 1),
                "tick_p50_ms": round(statistics.median(lat), 2),
                "tick_p99_ms": round(pct(lat, 0.99), 2),
                "burst_charges_per_s": round(ticks / elapsed, 1),
                "baseline_commit_ms": round(base_ms, 3),
                "tick_p50_over_baseline": round(statistics.median(lat) / base_ms, 1),
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
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", default=str(RESULTS / "metering.json"))
    args = parser.parse_args(argv)
    rows = []
    for kind in args.db:
        for n in args.sessions:
            print(f"{kind}, {n} sessions:", file=sys.stderr)
            rows.append(asyncio.run(run_one(kind, n, args.window, args.concurrency)))
    cols = [
        "db",
        "sessions",
        "paced_ticks_per_s",
        "tick_p50_ms",
        "tick_p99_ms",
        "burst_charges_per_s",
        "baseline_commit_ms",
        "tick_p50_over_baseline",
        "ledger_check_ok",
    ]
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print(" | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
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
    print(f"wrote {out}", file=sys.stderr)
    return 0 if all(r["ledger_check_ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
