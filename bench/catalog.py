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
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import BaseModel
from sqlalchemy import insert, select

from accounts.tokens import hash_token, new_token
from bench.metering import PG_ADMIN, drop_pg
from kernel.clock import FakeClock
from kernel.logs import configure_logging
from kernel.settings import Settings
from market.catalog import ranking
from market.catalog.listing import PRIOR_X100, Listed, companions_query
from market.catalog.recommend import Candidate, Known, Taste, recommend
from market.catalog.recommender import DAY_OFFSET, MAX_FAVOURITES, MAX_HISTORY
from market.catalog.routes import CompanionsOut, companion_out
from market.reviews.rules import bayesian_x100
from market.vetting.specialties import SPECIALTIES
from peiliao.app import create_app
from store import Database
from store.keys import DB
from store.migrate import upgrade
from store.models import AuthSession, Block, CompanionRate, Favourite, MeteredSession, User
from store.models.reviews import CompanionStats
from store.models.vetting import CompanionProfile

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
CUSTOMER = "u0000001"
PAGE = 20
NOW = datetime(2026, 6, 1, tzinfo=UTC)

SORTS = ["recommended", "rating", "price", "orders", "new"]
FILTERS: dict[str, dict[str, str]] = {
    "none": {},
    "specialty": {"specialty": "游戏陪玩"},
    "price": {"mode": "voice", "min_fen": "100", "max_fen": "300"},
    "rating": {"min_rating": "4.5"},
    "q": {"q": "温柔"},
}
_NAMES = [
    "小雨", "阿楠", "晴天", "星河", "木木", "糖糖", "一一", "安然",
    "清风", "七七", "南风", "鹿鹿", "苏苏", "晚晚", "阿树",
]  # fmt: skip
_INTROS = [
    "温柔耐心，擅长倾听，陪你聊到天亮",
    "王者荣耀国服玩家，带你上分",
    "英语专八，口语陪练，纠音",
    "考研上岸学姐，数学和政治都可以问",
    "互联网大厂 HR，简历和面试建议",
    "声音温柔，哄睡助眠，讲故事",
    "心理学硕士，情绪疏导",
    "会唱歌弹吉他，随便点歌",
    "话痨一枚，什么都能聊",
]
_TAGS = ["二次元", "猫奴", "游戏", "音乐", "电影", "旅行", "健身", "读书", "美食"]


def progress(text: str) -> None:
    print(f"\r  {text}\033[K", end="", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# -- the database ----------------------------------------------------------------------------------


async def make_db(kind: str, tmp: Path) -> tuple[str, str | None]:
    """The URL of a fresh, migrated database, and (PostgreSQL) its name, to drop after."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'catalog.db'}"
        name = None
    else:
        import asyncpg

        name = f"peiliao_bench_catalog_{os.getpid()}_{random.randrange(1 << 30):x}"
        conn = await asyncpg.connect(PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    return url, name


def _companion_rows(n: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {"users": [], "rates": [], "profiles": [], "stats": []}
    for i in range(n):
        uid = f"c{i:07d}"
        created = NOW - timedelta(days=rng.uniform(0, 730) ** 1.0)
        rows["users"].append(
            {
                "id": uid,
                "phone": f"19{i:09d}",
                "role": "companion",
                "nickname": f"{rng.choice(_NAMES)}{i}",
                "tags": rng.sample(_TAGS, rng.randint(0, 3)),
                "avatar_version": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
        voice = int(min(1500, max(30, rng.lognormvariate(math.log(200), 0.55))))
        rows["rates"].append(
            {
                "user_id": uid,
                "level": rng.choice(["newcomer", "regular", "gold", "star"]),
                "specialist": rng.random() < 0.1,
                "text_fen_per_min": max(10, voice // 3),
                "voice_fen_per_min": voice,
                "video_fen_per_min": voice * 2,
                "updated_at": created,
            }
        )
        if rng.random() < 0.92:  # the rest joined before vetting existed: no profile
            # approval: most long ago, ~4 % in the last fortnight (new companions)
            if rng.random() < 0.04:
                approved = NOW - timedelta(days=rng.uniform(0, 14))
            else:
                approved = min(NOW, created + timedelta(days=rng.uniform(0, 30)))
            r = rng.random()
            rows["profiles"].append(
                {
                    "user_id": uid,
                    "gender": "female" if r < 0.6 else "male" if r < 0.95 else "",
                    "intro": rng.choice(_INTROS),
                    "specialties": rng.sample(SPECIALTIES, rng.randint(1, 4)),
                    "certified": [],
                    "voice_sample_version": rng.choice([0, 0, 1]),
                    "approved_at": approved,
                    "updated_at": approved,
                }
            )
        if rng.random() < 0.85:  # the rest have had no session nor review yet
            orders = int(rng.paretovariate(1.2)) - 1 if rng.random() < 0.9 else 0
            orders = min(orders, 20_000)
            count = int(orders * rng.uniform(0.2, 0.6))
            mean = rng.uniform(3.4, 5.0)
            stars = min(5 * count, max(count, round(count * mean)))
            rows["stats"].append(
                {
                    "user_id": uid,
                    "rating_count": count,
                    "rating_sum": stars,
                    "rating_x100": bayesian_x100(count, stars),
                    "orders": orders,
                    "minutes": orders * rng.randint(5, 40),
                    "updated_at": NOW,
                }
            )
    return rows


async def seed(url: str, n: int, seed_value: int = 7) -> str:
    """N companions and the customer; returns the customer's login token."""
    rng = random.Random(seed_value)
    rows = _companion_rows(n, rng)
    db = Database(url)
    token = new_token()
    try:
        chunk = 1000
        total = sum(len(v) for v in rows.values())
        done = 0
        for model, key in (
            (User, "users"),
            (CompanionRate, "rates"),
            (CompanionProfile, "profiles"),
            (CompanionStats, "stats"),
        ):
            for lo in range(0, len(rows[key]), chunk):
                part = rows[key][lo : lo + chunk]
                async with db.writing() as s:
                    await s.execute(insert(model), part)
                done += len(part)
                progress(f"seeding: {done:,}/{total:,} rows")
        companions = [u["id"] for u in rows["users"]]
        picked = rng.sample(companions, 20 + 15 + 3)
        favourites, talked, blocked = picked[:20], picked[20:35], picked[35:]
        async with db.writing() as s:
            s.add(
                User(
                    id=CUSTOMER,
                    phone="13800000001",
                    role="customer",
                    nickname="bench customer",
                    tags=["游戏陪玩", "助眠陪伴", "电影"],
                    avatar_version=0,
                    created_at=NOW - timedelta(days=90),
                    updated_at=NOW,
                )
            )
            await s.flush()
            s.add(
                AuthSession(
                    id="s_bench_catalog",
                    token_hash=hash_token(token),
                    user_id=CUSTOMER,
                    created_at=NOW,
                    expires_at=NOW + timedelta(days=30),
                    last_seen_at=NOW,
                    client="cli",
                )
            )
            for k, cid in enumerate(favourites):
                s.add(
                    Favourite(
                        customer_id=CUSTOMER, companion_id=cid, created_at=NOW - timedelta(hours=k)
                    )
                )
            for k in range(30):
                at = NOW - timedelta(days=k + 1)
                s.add(
                    MeteredSession(
                        id=f"ms_bench_{k:03d}",
                        customer_id=CUSTOMER,
                        companion_id=talked[k % len(talked)],
                        mode=rng.choice(["text", "voice", "video"]),
                        rate_fen_per_min=200,
                        commission_bp=3000,
                        status="ended",
                        meter={},
                        charged_fen=200 * (k + 3),
                        billed_minutes=k + 3,
                        heartbeat_at=at,
                        created_at=at - timedelta(minutes=k + 3),
                        ended_at=at,
                        end_reason="hangup",
                        settled_at=at,
                    )
                )
            for cid in blocked:
                s.add(Block(blocker_id=CUSTOMER, blocked_id=cid, created_at=NOW))
        progress(f"seeded {n:,} companions, {total:,} rows\n")
    finally:
        await db.dispose()
    return token


# -- the naive baseline --------------------------------------------------------------------------


def _rating(x: Listed) -> int:
    return x.stats.rating_x100 if x.stats is not None else PRIOR_X100


def _key(sort: str, mode: str, now: datetime) -> Callable[[Listed], Any]:
    if sort == "recommended":
        return lambda x: ranking.recommended_score(_rating(x), x.joined_at, x.orders, now)
    if sort == "rating":
        return _rating
    if sort == "orders":
        return lambda x: x.orders
    if sort == "price":
        return lambda x: getattr(x.rates, f"{mode}_fen_per_min")
    return lambda x: x.joined_at


def _matches(x: Listed, f: dict[str, str]) -> bool:
    if q := f.get("q", "").lower():
        texts = [x.user.nickname, x.profile.intro if x.profile else "", *x.specialties]
        if not any(q in t.lower() for t in texts):
            return False
    if (sp := f.get("specialty")) and sp not in x.specialties:
        return False
    if (g := f.get("gender")) and (x.profile is None or x.profile.gender != g):
        return False
    mode = f.get("mode", "voice")
    price = getattr(x.rates, f"{mode}_fen_per_min")
    if "min_fen" in f and price < int(f["min_fen"]):
        return False
    if "max_fen" in f and price > int(f["max_fen"]):
        return False
    if "min_rating" in f:
        if x.stats is None or x.stats.rating_count <= 0:
            return False
        if x.stats.rating_x100 < round(float(f["min_rating"]) * 100):
            return False
    return True


async def _everyone(db: Database, viewer: str) -> list[Listed]:
    """Every listed companion, blocked ones either way left out (in Python)."""
    async with db.reading() as s:
        rows = (await s.execute(companions_query())).all()
        blocks = (await s.execute(select(Block.blocker_id, Block.blocked_id))).all()
    hidden = {b for a, b in blocks if a == viewer} | {a for a, b in blocks if b == viewer}
    return [Listed(u, r, "offline", p, st) for u, r, p, st in rows if u.id not in hidden]


def naive_routes(app: web.Application, clock: FakeClock) -> None:
    """``/bench/naive/companions`` and ``/bench/naive/recommendations``: the baseline."""

    def reply(model: BaseModel) -> web.Response:
        return web.Response(body=model.model_dump_json(), content_type="application/json")

    async def companions(request: web.Request) -> web.Response:
        f = dict(request.query)
        sort, page = f.pop("sort", "recommended"), int(f.pop("page", "0"))
        everyone = await _everyone(request.app[DB], CUSTOMER)
        key = _key(sort, f.get("mode", "voice"), clock.now())
        chosen = [x for x in everyone if _matches(x, f)]
        chosen.sort(key=lambda x: (key(x), x.user.id), reverse=sort != "price")
        out = chosen[page * PAGE : (page + 1) * PAGE]
        more = len(chosen) > (page + 1) * PAGE
        return reply(
            CompanionsOut(
                companions=[companion_out(x) for x in out], next_cursor="…" if more else None
            )
        )

    async def recommendations(request: web.Request) -> web.Response:
        db, now = request.app[DB], clock.now()
        everyone = {x.user.id: x for x in await _everyone(db, CUSTOMER)}
        async with db.reading() as s:
            user = await s.get(User, CUSTOMER)
            favs = list(
                await s.scalars(
                    select(Favourite.companion_id)
                    .where(Favourite.customer_id == CUSTOMER)
                    .order_by(Favourite.created_at.desc())
                    .limit(MAX_FAVOURITES)
                )
            )
            sessions = (
                await s.execute(
                    select(MeteredSession.companion_id, MeteredSession.ended_at).where(
                        MeteredSession.customer_id == CUSTOMER,
                        MeteredSession.status == "ended",
                        MeteredSession.billed_minutes > 0,
                    )
                )
            ).all()
        last: dict[str, datetime] = {}
        for cid, ended in sessions:
            if ended is not None and (cid not in last or ended > last[cid]):
                last[cid] = ended
        history = sorted(last, key=lambda c: last[c], reverse=True)[:MAX_HISTORY]

        def known(i: str) -> Known:
            x = everyone[i]
            return Known(i, x.user.nickname, tuple(x.specialties))

        taste = Taste(
            user_id=CUSTOMER,
            interest_tags=tuple(user.tags) if user is not None else (),
            favourites=tuple(known(i) for i in favs if i in everyone),
            history=tuple(known(i) for i in history if i in everyone),
            day=(now + DAY_OFFSET).date(),
        )
        candidates = [
            Candidate(
                id=x.user.id,
                nickname=x.user.nickname,
                tags=tuple(x.user.tags),
                specialties=tuple(x.specialties),
                rating_x100=x.rating_x100,
                rating_count=x.rating_count,
                is_new=ranking.is_new(x.joined_at, x.orders, now),
                boost_x100=ranking.new_boost_x100(x.joined_at, x.orders, now),
            )
            for x in everyone.values()
        ]
        picks = recommend(taste, candidates, int(request.query.get("limit", "10")))
        return web.json_response({"recommendations": [{"id": p.companion_id} for p in picks]})

    app.router.add_get("/bench/naive/companions", companions)
    app.router.add_get("/bench/naive/recommendations", recommendations)


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
