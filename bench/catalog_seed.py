"""bench/catalog_seed: the database ``bench.catalog`` measures: a fresh, migrated SQLite or
PostgreSQL database (``make_db``), seeded with N companions (rates, vetting profiles,
figures with a realistic spread) and one customer with favourites, past sessions and blocks
(``seed``)."""

from __future__ import annotations

import math
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from accounts.tokens import hash_token, new_token
from bench.metering import PG_ADMIN
from market.reviews.rules import bayesian_x100
from market.vetting.specialties import SPECIALTIES
from store import Database
from store.migrate import upgrade
from store.models import AuthSession, Block, CompanionRate, Favourite, MeteredSession, User
from store.models.reviews import CompanionStats
from store.models.vetting import CompanionProfile

CUSTOMER = "u0000001"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
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
