"""bench/catalog: discovery at marketplace scale — ``GET /api/companions`` (``Catalog.page``:
keyset pages, filters and sorts in SQL) and ``GET /api/recommendations`` (``Recommender``:
bounded candidate sources), on SQLite and PostgreSQL.

Set-up (a fresh database per run): ``--companions`` N companions (default 5,000) with rates
(prices spread per mode), a vetting profile for most (gender, 1–4 specialties, an intro, an
approval date over two years, a few in the last fortnight: *new*), figures for most (orders
heavy-tailed, ratings from each companion's own mean, the Bayesian rating from them), and one
customer with interest tags, 20 favourites, 30 past paid sessions with 15 companions and 3
blocks.  The whole app serves on 127.0.0.1 (in this process, one event loop); every request
is a real HTTP request, logged in as the customer (so blocks are applied as in production).

Measured, for each sort (``recommended``, ``rating``, ``price`` (voice), ``orders``, ``new``)
and each filter (none; ``specialty``; a voice price range; ``min_rating``; a keyword ``q``):
the *first* page and a *deep* page (page ``--deep-page``, reached by following
``next_cursor``), 20 a page: median and p95 over ``--requests`` requests after ``--warmup``.
Then ``/api/recommendations``.

Baseline, measured in the same run on the same server: the naive way, a route added by the
benchmark that loads every listed companion row (with its rates, profile and figures), drops
blocked ones, filters and sorts in Python, and slices the page at its offset (recommendations:
every listed companion scored by the same pure ``catalog.recommend``).  Pages of both are
checked to hold the same companions in the same order.  Prints a table; writes JSON.

    .venv/bin/python -m bench.catalog [--companions 5000] [--db sqlite postgresql]
        [--requests 40] [--baseline-requests 5] [--deep-page 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bench.catalog_naive import PAGE, naive_routes
from bench.catalog_seed import NOW, make_db, progress, seed
from bench.metering import drop_pg
from kernel.clock import FakeClock
from kernel.logs import configure_logging
from kernel.settings import Settings
from peiliao.app import create_app

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"

SORTS = ["recommended", "rating", "price", "orders", "new"]
FILTERS: dict[str, dict[str, str]] = {
    "none": {},
    "specialty": {"specialty": "游戏陪玩"},
    "price": {"mode": "voice", "min_fen": "100", "max_fen": "300"},
    "rating": {"min_rating": "4.5"},
    "q": {"q": "温柔"},
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# -- timing --------------------------------------------------------------------------------------


async def timed(
    fetch: Callable[[], Awaitable[Any]], warmup: int, requests: int
) -> tuple[list[float], Any]:
    last: Any = None
    for _ in range(warmup):
        last = await fetch()
    samples = []
    for _ in range(requests):
        t = time.perf_counter()
        last = await fetch()
        samples.append((time.perf_counter() - t) * 1000)
    return samples, last


async def interleaved(
    fetch: Callable[[], Awaitable[Any]],
    baseline: Callable[[], Awaitable[Any]],
    args: argparse.Namespace,
) -> tuple[tuple[list[float], Any], tuple[list[float], Any]]:
    """``args.requests`` of ``fetch`` and ``args.baseline_requests`` of ``baseline``, in
    rounds (so a slow moment of the machine hits both), each after its warm-up."""
    await timed(fetch, args.warmup, 0)
    await timed(baseline, 1, 0)
    a: list[float] = []
    b: list[float] = []
    last_a: Any = None
    last_b: Any = None
    rounds = max(1, args.baseline_requests)
    for r in range(rounds):
        share = args.requests * (r + 1) // rounds - args.requests * r // rounds
        samples, last_a = await timed(fetch, 0, share)
        a += samples
        samples, last_b = await timed(baseline, 0, 1)
        b += samples
    return (a, last_a), (b, last_b)


async def get_json(http: Any, path: str, params: dict[str, str], token: str) -> Any:
    resp = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    if resp.status != 200:
        raise RuntimeError(f"{path} {params}: {resp.status} {await resp.text()}")
    return await resp.json()


def _ids(body: Any) -> list[str]:
    return [c["id"] for c in body["companions"]]


async def run_db(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="peiliao-bench-catalog-") as tmp:
        url, pg_name = await make_db(kind, Path(tmp))
        try:
            t = time.perf_counter()
            token = await seed(url, args.companions)
            seed_s = time.perf_counter() - t
            return await measure(kind, url, token, seed_s, args)
        finally:
            if pg_name is not None:
                await drop_pg(pg_name)


async def measure(
    kind: str, url: str, token: str, seed_s: float, args: argparse.Namespace
) -> dict[str, Any]:
    clock = FakeClock(NOW)
    settings = Settings(env="dev", database_url=url, secret_key=SECRET, web_dist_dir="/nonexistent")
    app = create_app(settings, clock=clock)
    naive_routes(app, clock)
    rows: list[dict[str, Any]] = []
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        scenarios = [(sort, name) for sort in SORTS for name in FILTERS]
        for k, (sort, fname) in enumerate(scenarios):
            params = {"sort": sort, "limit": str(PAGE), **FILTERS[fname]}
            if sort == "price":
                params.setdefault("mode", "voice")
            # the deep page's cursor: follow next_cursor from the first page
            cursor: str | None = None
            page = 0
            body = await get_json(http, "/api/companions", params, token)
            while page < args.deep_page and body["next_cursor"] is not None:
                cursor = body["next_cursor"]
                page += 1
                body = await get_json(http, "/api/companions", params | {"cursor": cursor}, token)
            for depth, at, cur in (("first", 0, None), ("deep", page, cursor)):
                if depth == "deep" and page == 0:
                    continue
                progress(f"{kind}: {sort} / {fname} / {depth} ({k + 1}/{len(scenarios)})")
                keyset_params = params | ({"cursor": cur} if cur else {})
                naive_params = params | {"page": str(at)}

                async def keyset(p: dict[str, str] = keyset_params) -> Any:
                    return await get_json(http, "/api/companions", p, token)

                async def naive(p: dict[str, str] = naive_params) -> Any:
                    return await get_json(http, "/bench/naive/companions", p, token)

                (ks, kbody), (ns, nbody) = await interleaved(keyset, naive, args)
                rows.append(
                    {
                        "endpoint": "companions",
                        "sort": sort,
                        "filter": fname,
                        "page": at + 1,
                        "items": len(kbody["companions"]),
                        "median_ms": round(statistics.median(ks), 2),
                        "p95_ms": round(pct(ks, 0.95), 2),
                        "naive_median_ms": round(statistics.median(ns), 2),
                        "naive_p95_ms": round(pct(ns, 0.95), 2),
                        "naive_over_keyset": round(
                            statistics.median(ns) / statistics.median(ks), 1
                        ),
                        "same_page": _ids(kbody) == _ids(nbody),
                    }
                )
        progress(f"{kind}: recommendations")

        async def recs() -> Any:
            return await get_json(http, "/api/recommendations", {"limit": "10"}, token)

        async def naive_recs() -> Any:
            return await get_json(http, "/bench/naive/recommendations", {"limit": "10"}, token)

        (rs, rbody), (ns, nbody) = await interleaved(recs, naive_recs, args)
        got = [r["companion"]["id"] for r in rbody["recommendations"]]
        want = [r["id"] for r in nbody["recommendations"]]
        rows.append(
            {
                "endpoint": "recommendations",
                "sort": "-",
                "filter": "-",
                "page": 1,
                "items": len(got),
                "median_ms": round(statistics.median(rs), 2),
                "p95_ms": round(pct(rs, 0.95), 2),
                "naive_median_ms": round(statistics.median(ns), 2),
                "naive_p95_ms": round(pct(ns, 0.95), 2),
                "naive_over_keyset": round(statistics.median(ns) / statistics.median(rs), 1),
                # bounded candidates vs the whole catalog: how many picks agree
                "same_page": f"{len(set(got) & set(want))}/{len(want)}",
            }
        )
        progress(f"{kind}: done\n")
    return {"db": kind, "companions": args.companions, "seed_s": round(seed_s, 1), "rows": rows}


COLS = [
    "endpoint",
    "sort",
    "filter",
    "page",
    "items",
    "median_ms",
    "p95_ms",
    "naive_median_ms",
    "naive_over_keyset",
    "same_page",
]


def table(rows: list[dict[str, Any]]) -> str:
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in COLS]
    lines = [" | ".join(c.ljust(w) for c, w in zip(COLS, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [
        " | ".join(str(r[c]).ljust(w) for c, w in zip(COLS, widths, strict=True)) for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.catalog",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--companions", type=int, default=5_000)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite"])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--baseline-requests", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--deep-page", type=int, default=10)
    parser.add_argument("--out", default=str(RESULTS / "catalog.json"))
    args = parser.parse_args(argv)
    configure_logging(json_logs=False, level="WARNING")
    runs = [asyncio.run(run_db(kind, args)) for kind in args.db]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "bench": "catalog",
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine(),
                },
                "page_size": PAGE,
                "deep_page": args.deep_page + 1,
                "requests": args.requests,
                "baseline_requests": args.baseline_requests,
                "filters": FILTERS,
                "baseline": "every listed companion row loaded (rates, profile, figures), "
                "blocked ones dropped, filtered, sorted and sliced in Python; recommendations: "
                "every listed companion scored by catalog.recommend",
                "runs": runs,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    for run in runs:
        print(f"\n{run['db']}: {run['companions']:,} companions (seeded in {run['seed_s']} s)")
        print(table(run["rows"]))
    print(f"wrote {out}", file=sys.stderr)
    same = all(r["same_page"] is True for run in runs for r in run["rows"] if r["sort"] != "-")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
