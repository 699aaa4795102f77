"""Discovery over HTTP on both databases: keyword search (nickname, intro, specialties),
filters, every sort with keyset pages that neither repeat nor skip, signed cursors, the
companion page's profile fields, and recommendations with their reasons."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, update

from market.catalog import ranking
from metering.keys import METERING
from metering.tariff import Rates
from store.models import CompanionRate, User
from store.models.reviews import CompanionStats
from store.models.vetting import CompanionProfile
from tests.harness import bearer
from tests.harness.rig import Person, Rig
from tests.market.reviews.helpers import code, get, rename, review, session_row


async def companion(
    rig: Rig,
    nickname: str,
    *,
    rates: Rates | None = None,
    profile: dict[str, Any] | None = None,
    approved_days_ago: float | None = None,
    stats: tuple[int, int, int] | None = None,
    tags: list[str] | None = None,
) -> Person:
    """A listed companion; with ``profile`` (CompanionProfile fields, as vetting writes them on
    approval) and ``stats`` ((rating_x100, rating_count, orders), as reviews.stats writes them)."""
    comp = await rig.person("companion")
    await rename(rig, comp, nickname)
    if rates is not None:
        await rig.app[METERING].set_rates(comp.user_id, rates)
    if tags is not None:
        resp = await rig.http.patch("/api/me", json={"tags": tags}, headers=bearer(comp.token))
        assert resp.status == 200, await resp.text()
    now = rig.clock.now()
    async with rig.db.writing() as s:
        if profile is not None or approved_days_ago is not None:
            s.add(
                CompanionProfile(
                    user_id=comp.user_id,
                    **{
                        "gender": "",
                        "intro": "",
                        "specialties": [],
                        "certified": [],
                        "voice_sample_version": 0,
                    }
                    | (profile or {}),
                    approved_at=now - timedelta(days=approved_days_ago or 0),
                    updated_at=now,
                )
            )
        if stats is not None:
            rating, count, orders = stats
            s.add(
                CompanionStats(
                    user_id=comp.user_id,
                    rating_count=count,
                    rating_sum=count * 5,
                    rating_x100=rating,
                    orders=orders,
                    minutes=orders * 10,
                    updated_at=now,
                )
            )
    return comp


async def ids(rig: Rig, **query: Any) -> list[str]:
    status, body = await get(rig, "/api/companions", **query)
    assert status == 200, body
    return [c["id"] for c in body["companions"]]


async def browse(rig: Rig, between_pages: Any = None, **query: Any) -> list[str]:
    """Every page of a listing, 2 at a time; ``between_pages`` runs after each page."""
    seen: list[str] = []
    cursor = None
    for _ in range(30):
        status, body = await get(
            rig, "/api/companions", limit=2, **query, **({"cursor": cursor} if cursor else {})
        )
        assert status == 200, body
        seen += [c["id"] for c in body["companions"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between_pages is not None:
            await between_pages()
    raise AssertionError("too many pages")


async def test_search_filters_and_the_companion_page(rig: Rig) -> None:
    alice = await companion(
        rig,
        "Alice",
        rates=Rates(100, 300, 600),
        profile={
            "gender": "female",
            "intro": "擅长倾听，也喜欢 JAZZ 和 100% 真诚",
            "specialties": ["情感倾诉", "助眠陪伴"],
            "certified": ["心理咨询"],
            "voice_sample_version": 2,
        },
        approved_days_ago=30,
    )
    bob = await companion(
        rig,
        "Bob",
        rates=Rates(200, 500, 900),
        profile={"gender": "male", "intro": "Gamer", "specialties": ["游戏陪玩"]},
        approved_days_ago=30,
    )
    carol = await companion(rig, "Carol")  # no profile: listed with empty fields
    everyone = {alice.user_id, bob.user_id, carol.user_id}
    assert set(await ids(rig)) == everyone

    assert await ids(rig, q="jazz") == [alice.user_id]  # the intro, any case
    assert await ids(rig, q="游戏") == [bob.user_id]  # a specialty (stored as JSON)
    assert set(await ids(rig, q="陪")) == {alice.user_id, bob.user_id}
    assert await ids(rig, q="BO") == [bob.user_id]  # the nickname
    assert await ids(rig, q="100%") == [alice.user_id]  # % is literal
    assert await ids(rig, q="6e") == []  # not inside the JSON's \u escapes
    assert await ids(rig, q="_") == []

    assert await ids(rig, specialty="游戏陪玩") == [bob.user_id]
    assert await ids(rig, specialty="游戏") == []  # a specialty is matched whole
    assert await ids(rig, gender="female") == [alice.user_id]
    assert await ids(rig, gender="male") == [bob.user_id]
    assert (await get(rig, "/api/companions", gender="other"))[0] == 400

    assert await ids(rig, mode="voice", min_fen=400) == [bob.user_id]
    assert set(await ids(rig, mode="voice", max_fen=400)) == {alice.user_id, carol.user_id}
    assert await ids(rig, mode="video", min_fen=700, max_fen=900) == [bob.user_id]
    for query in ({"min_fen": 1}, {"max_fen": 1}, {"sort": "price"}):
        status, err = await get(rig, "/api/companions", **query)
        assert (status, code(err)) == (400, "mode_required")

    assert await ids(rig, min_rating=4.5) == []  # nobody is rated yet
    cust = await rig.person()
    await review(rig, cust, await session_row(rig, cust, bob), 5)
    assert await ids(rig, min_rating=4.5) == [bob.user_id]  # 4.52
    assert await ids(rig, min_rating=4.53) == []
    assert (await get(rig, "/api/companions", min_rating=6))[0] == 400

    _, page = await get(rig, f"/api/companions/{alice.user_id}")
    assert {k: page[k] for k in ("gender", "specialties", "certified", "voice_sample_url")} == {
        "gender": "female",
        "specialties": ["情感倾诉", "助眠陪伴"],
        "certified": ["心理咨询"],
        "voice_sample_url": f"/api/companions/{alice.user_id}/voice-sample?v=2",
    }
    assert page["intro"].startswith("擅长倾听") and page["level"] == "newcomer"
    _, page = await get(rig, f"/api/companions/{carol.user_id}")
    assert (page["intro"], page["specialties"], page["voice_sample_url"]) == ("", [], None)
    assert (page["rating_x100"], page["rating_count"], page["orders"]) == (450, 0, 0)
    _, page = await get(rig, f"/api/companions/{bob.user_id}")
    assert (page["rating_x100"], page["rating_count"], page["orders"]) == (452, 1, 1)
    _, listed = await get(rig, "/api/companions", q="Bob")
    assert listed["companions"][0] == page | {"status": "offline"}  # the same summary


SORTS: list[dict[str, Any]] = [
    {"sort": "recommended"},
    {"sort": "rating"},
    {"sort": "orders"},
    {"sort": "new"},
    {"sort": "price", "mode": "voice"},
    {"sort": "online"},
]


@pytest.mark.both_databases
async def test_each_sort_pages_without_repeats_or_gaps(rig: Rig) -> None:
    # Ties on purpose (the same rating, orders and price): pages break them by id.
    specs = [
        # nickname, voice price, approved days ago (None: no profile), (rating, count, orders)
        ("old-best", 500, 90, (488, 300, 400)),
        ("old-good", 300, 60, (470, 50, 60)),
        ("old-good-2", 300, 60, (470, 50, 60)),
        ("new-none", 300, 3, None),
        ("new-some", 400, 10, (460, 2, 4)),
        ("legacy", 200, None, (450, 0, 12)),
        ("weak", 100, 40, (390, 30, 30)),
    ]
    made: dict[str, Person] = {}
    for name, voice, days, stats in specs:
        made[name] = await companion(
            rig,
            name,
            rates=Rates(100, voice, 900),
            approved_days_ago=days,
            profile={} if days is not None else None,
            stats=stats,
        )
        rig.clock.advance(1)
    by_id = {p.user_id: name for name, p in made.items()}

    now = rig.clock.now()
    async with rig.db.reading() as s:
        rows = (
            await s.execute(
                select(User.id, User.created_at, CompanionProfile.approved_at).outerjoin(
                    CompanionProfile, CompanionProfile.user_id == User.id
                )
            )
        ).all()
    joined = {by_id[uid]: approved or created for uid, created, approved in rows if uid in by_id}
    info = {name: (voice, stats or (450, 0, 0)) for name, voice, _, stats in specs}

    def key(sort: str, name: str) -> Any:
        voice, (rating, _, orders) = info[name]
        uid, at = made[name].user_id, joined[name]
        return {
            "recommended": (-ranking.recommended_score(rating, at, orders, now), _desc(uid)),
            "rating": (-rating, _desc(uid)),
            "orders": (-orders, _desc(uid)),
            "price": (voice, uid),
        }.get(sort, (-at.timestamp(), _desc(uid)))

    for query in SORTS:
        seen = [by_id[i] for i in await browse(rig, **query)]
        assert sorted(seen) == sorted(made), query  # each exactly once
        if query["sort"] != "online":  # online orders each page by presence (all offline here)
            assert seen == sorted(made, key=partial(key, query["sort"])), query
        if query["sort"] == "recommended":
            # the new companion with no orders rides its boost above the 4.70s, not the best
            assert seen.index("new-none") < seen.index("old-good") and seen[0] == "old-best"


def _desc(user_id: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in user_id)


@pytest.mark.both_databases
async def test_pages_hold_while_companions_move_and_cursors_are_checked(rig: Rig) -> None:
    made = [
        await companion(rig, f"C{i}", stats=(480 - 5 * i, 10, i), approved_days_ago=30)
        for i in range(6)
    ]
    moving = made[5]
    calls = 0

    async def promote_the_last() -> None:
        # Between pages the last-ranked companion overtakes everyone: it may show twice or
        # not at all (documented); every companion whose rating held shows exactly once.
        nonlocal calls
        calls += 1
        async with rig.db.writing() as s:
            await s.execute(
                update(CompanionStats)
                .where(CompanionStats.user_id == moving.user_id)
                .values(rating_x100=499 - calls)
            )

    seen = await browse(rig, promote_the_last, sort="rating")
    steady = [p.user_id for p in made[:5]]
    assert [i for i in seen if i in steady] == steady

    # A recommended browse keeps the time of its first page: a boost that expires meanwhile
    # does not reorder the rest of the pages (browsing anonymously: logins idle out).
    fresh = await companion(rig, "fresh", approved_days_ago=13.99)

    async def two_days_pass() -> None:
        rig.clock.advance(2 * 86_400)

    before = await browse(rig, sort="recommended")
    during = await browse(rig, two_days_pass, sort="recommended")
    assert during == before and fresh.user_id in during

    status, first = await get(rig, "/api/companions", sort="rating", limit=2)
    cursor = first["next_cursor"]
    for query in (
        {"sort": "orders", "cursor": cursor},  # made for another sort
        {"sort": "rating", "cursor": cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")},
        {"sort": "rating", "cursor": "not-a-cursor"},
        {"sort": "price", "mode": "voice", "cursor": cursor},
    ):
        status, err = await get(rig, "/api/companions", **query)
        assert (status, code(err)) == (400, "bad_cursor"), query


async def test_recommendations_with_reasons(rig: Rig) -> None:
    cust = await rig.person()
    resp = await rig.http.patch("/api/me", json={"tags": ["游戏"]}, headers=bearer(cust.token))
    assert resp.status == 200
    old = 60
    gamer = await companion(
        rig,
        "玩家",
        profile={"specialties": ["游戏陪玩"]},
        approved_days_ago=old,
        stats=(470, 20, 30),
    )
    fav = await companion(
        rig,
        "小美",
        profile={"specialties": ["情感倾诉"]},
        approved_days_ago=old,
        stats=(480, 20, 30),
    )
    like_fav = await companion(
        rig,
        "温柔",
        profile={"specialties": ["情感倾诉"]},
        approved_days_ago=old,
        stats=(475, 20, 30),
    )
    talked = await companion(
        rig,
        "阿杰",
        profile={"specialties": ["外语陪练"]},
        approved_days_ago=old,
        stats=(440, 20, 30),
    )
    similar = await companion(
        rig,
        "Emma",
        profile={"specialties": ["外语陪练"]},
        approved_days_ago=old,
        stats=(460, 20, 30),
    )
    blocked = await companion(
        rig,
        "拉黑",
        profile={"specialties": ["游戏陪玩"]},
        approved_days_ago=old,
        stats=(499, 20, 30),
    )
    newbie = await companion(rig, "新人", profile={}, approved_days_ago=1)
    own_tag = await companion(
        rig, "标签", approved_days_ago=old, stats=(400, 20, 30), tags=["游戏"]
    )
    fillers = [
        await companion(rig, f"老手{i}", profile={}, approved_days_ago=old, stats=(490, 99, 99))
        for i in range(3)
    ]
    h = bearer(cust.token)
    assert (await rig.http.put(f"/api/favourites/{fav.user_id}", headers=h)).status == 200
    await session_row(rig, cust, talked)
    resp = await rig.http.post(
        "/api/blocks", json={"user_id": cust.user_id}, headers=bearer(blocked.token)
    )
    assert resp.status == 200

    status, body = await get(rig, "/api/recommendations", cust, limit=10)
    assert status == 200, body
    recs = body["recommendations"]
    got = {r["companion"]["id"]: (r["reason_code"], r["params"]) for r in recs}
    assert got[gamer.user_id] == ("matches_tag", {"tag": "游戏"})
    assert got[fav.user_id] == ("favourite", {})
    assert got[like_fav.user_id] == (
        "like_favourite",
        {"nickname": "小美", "specialty": "情感倾诉"},
    )
    assert got[similar.user_id] == (
        "similar_to_history",
        {"nickname": "阿杰", "specialty": "外语陪练"},
    )
    assert got[talked.user_id] == ("talked_before", {"nickname": "阿杰"})
    assert got[newbie.user_id] == ("new_companion", {})
    assert got[own_tag.user_id] == ("matches_tag", {"tag": "游戏"})  # their own tags
    assert blocked.user_id not in got and cust.user_id not in got
    assert {f.user_id for f in fillers} <= set(got)
    top5 = [r["companion"]["id"] for r in recs[:5]]
    assert newbie.user_id in top5  # one slot in every five for a new companion
    by_id = {r["companion"]["id"]: r for r in recs}
    assert by_id[gamer.user_id]["reason"] == "符合你的兴趣标签「游戏」"
    _, en = await get(rig, "/api/recommendations", cust, limit=10, lang="en")
    en_by_id = {r["companion"]["id"]: r for r in en["recommendations"]}
    assert en_by_id[similar.user_id]["reason"] == "Because you talked with 阿杰 (外语陪练)"
    assert en_by_id[gamer.user_id]["companion"]["specialties"] == ["游戏陪玩"]

    assert (await rig.http.get("/api/recommendations")).status == 401
    for limit in (0, 51):
        assert (await get(rig, "/api/recommendations", cust, limit=limit))[0] == 400


async def go_online(rig: Rig, who: Person) -> None:
    sock = await rig.connect(who, who.user_id)
    await sock.ok("presence:set", {"accepting": True})


@pytest.mark.both_databases
async def test_recommended_lists_those_online_first_then_the_score_across_pages(rig: Rig) -> None:
    # Scores: best > good > fair > weak; only "fair" and "weak" are online.
    made = {
        name: await companion(rig, name, stats=stats, approved_days_ago=60)
        for name, stats in (
            ("best", (490, 40, 50)),
            ("good", (470, 40, 50)),
            ("fair", (460, 40, 50)),
            ("weak", (400, 40, 50)),
            ("meh", (420, 40, 50)),
        )
    }
    by_id = {p.user_id: n for n, p in made.items()}
    for name in ("weak", "fair"):
        await go_online(rig, made[name])
    # limit 2: the first pass fills a page, then the second pass starts from the top
    seen = [by_id[i] for i in await browse(rig, sort="recommended")]
    assert seen == ["fair", "weak", "best", "good", "meh"]
    status, first = await get(rig, "/api/companions")
    assert status == 200
    assert [(c["id"], c["status"]) for c in first["companions"][:2]] == [
        (made["fair"].user_id, "online"),
        (made["weak"].user_id, "online"),
    ]
    # online only: the first pass alone, in score order
    assert [by_id[i] for i in await browse(rig, sort="recommended", online="true")] == [
        "fair",
        "weak",
    ]
    # other sorts take no presence: rating stays rating
    assert [by_id[i] for i in await browse(rig, sort="rating")] == [
        "best",
        "good",
        "fair",
        "meh",
        "weak",
    ]


@pytest.mark.both_databases
async def test_a_senior_or_gold_companion_is_never_new_nor_boosted(rig: Rig) -> None:
    cust = await rig.person()
    fresh_gold = await companion(rig, "金牌新来", approved_days_ago=1, stats=(452, 1, 1))
    fresh_newcomer = await companion(rig, "新人", approved_days_ago=1, stats=(452, 1, 1))
    async with rig.db.writing() as s:
        await s.execute(
            update(CompanionRate)
            .where(CompanionRate.user_id == fresh_gold.user_id)
            .values(level="gold")
        )
    # the same figures: the newcomer rides the boost above the gold companion
    assert await ids(rig) == [fresh_newcomer.user_id, fresh_gold.user_id]
    status, body = await get(rig, "/api/recommendations", cust)
    assert status == 200, body
    reasons = {r["companion"]["id"]: r["reason_code"] for r in body["recommendations"]}
    assert reasons[fresh_newcomer.user_id] == "new_companion"
    assert reasons[fresh_gold.user_id] == "highly_rated"
    now = rig.clock.now()
    assert ranking.recommended_score(452, now, 1, now, level="gold") == 452
    assert ranking.recommended_score(452, now, 1, now) == 452 + 27
