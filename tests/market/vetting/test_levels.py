"""Levels: the thresholds (each at its boundary), levels only rising, promotion lowering the
commission of new sessions (not of running ones), GET /api/levels and GET /api/me/level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from market.vetting.keys import VETTING
from market.vetting.levels import (
    THRESHOLDS,
    Figures,
    earned,
    next_level,
    progress,
    promotion,
    rank,
)
from metering.tariff import COMMISSION_BP, Level
from store.models import MeteredSession
from store.models.reviews import CompanionStats
from tests.harness.rig import Person, Rig, request_id
from tests.market.vetting.conftest import call, code

SENIOR = Figures(minutes=3_000, reviews=20, rating_x100=460)
GOLD = Figures(minutes=12_000, reviews=100, rating_x100=480)


def test_each_threshold_holds_at_its_boundary() -> None:
    assert earned(Figures(0, 0, 0)) is Level.NEWCOMER
    assert earned(SENIOR) is Level.SENIOR
    assert earned(GOLD) is Level.GOLD
    for short in (
        Figures(2_999, 20, 460),
        Figures(3_000, 19, 460),
        Figures(3_000, 20, 459),
    ):
        assert earned(short) is Level.NEWCOMER, short
    for short in (
        Figures(11_999, 100, 480),
        Figures(12_000, 99, 480),
        Figures(12_000, 100, 479),
    ):
        assert earned(short) is Level.SENIOR, short
    # all of a level's criteria, not most of them
    assert earned(Figures(1_000_000, 1_000, 459)) is Level.NEWCOMER


def test_levels_only_rise() -> None:
    assert promotion(Level.NEWCOMER, SENIOR) is Level.SENIOR
    assert promotion(Level.NEWCOMER, GOLD) is Level.GOLD  # straight to gold
    assert promotion(Level.SENIOR, SENIOR) is None
    assert promotion(Level.GOLD, SENIOR) is None  # a dip never demotes
    assert promotion(Level.SENIOR, Figures(0, 0, 0)) is None
    assert next_level(Level.NEWCOMER) is Level.SENIOR and next_level(Level.GOLD) is None


@given(
    st.sampled_from(list(Level)),
    st.integers(0, 50_000),
    st.integers(0, 500),
    st.integers(0, 500),
)
def test_promotion_never_lowers_and_is_what_was_earned(
    current: Level, minutes: int, reviews: int, rating: int
) -> None:
    figures = Figures(minutes, reviews, rating)
    up = promotion(current, figures)
    if up is None:
        assert rank(earned(figures)) <= rank(current)
    else:
        assert up is earned(figures) and rank(up) > rank(current)
    # more of everything never earns less
    assert rank(earned(Figures(minutes + 1, reviews + 1, rating + 1))) >= rank(earned(figures))


def test_progress_names_the_next_level_and_what_is_met() -> None:
    p = progress(Level.NEWCOMER, Figures(3_500, 5, 470))
    assert p.next is Level.SENIOR and p.next_thresholds == THRESHOLDS[Level.SENIOR]
    assert p.met == {"minutes": True, "reviews": False, "rating": True}
    top = progress(Level.GOLD, GOLD)
    assert top.next is None and top.met == {}


async def set_stats(rig: Rig, who: Person, f: Figures) -> None:
    async with rig.db.writing() as s:
        row = await s.get(CompanionStats, who.user_id)
        if row is None:
            row = CompanionStats(user_id=who.user_id, rating_sum=0, orders=0)
            s.add(row)
        row.minutes, row.rating_count, row.rating_x100 = f.minutes, f.reviews, f.rating_x100
        row.updated_at = rig.clock.now()


async def a_call(rig: Rig, comp: Person) -> str:
    """A text call from a new funded customer to ``comp``, accepted; its id."""
    cust = await rig.person(fund_fen=10_000)
    comp_sock = await rig.connect(comp, "companion")
    await comp_sock.ok("presence:set", {"accepting": True})
    cust_sock = await rig.connect(cust, "customer")
    ack = await cust_sock.ok(
        "call:request",
        {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
    )
    call_id: str = ack["call"]["call_id"]
    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.ok("call:hangup", {"call_id": call_id})
    await comp_sock.sio.disconnect()
    await cust_sock.sio.disconnect()
    return call_id


async def commission_of(rig: Rig, call_id: str) -> int:
    async with rig.db.reading() as s:
        bp = await s.scalar(
            select(MeteredSession.commission_bp).where(MeteredSession.id == call_id)
        )
    assert bp is not None
    return bp


async def test_promotion_lowers_the_commission_of_new_sessions(rig: Rig) -> None:
    comp = await rig.person("companion")
    service = rig.app[VETTING]
    before = await a_call(rig, comp)
    assert await commission_of(rig, before) == COMMISSION_BP[Level.NEWCOMER]

    await set_stats(rig, comp, Figures(2_999, 20, 460))
    assert await service.promote(comp.user_id) is None
    await set_stats(rig, comp, SENIOR)
    assert await service.promote(comp.user_id) is Level.SENIOR
    assert await service.promote(comp.user_id) is None  # once
    after = await a_call(rig, comp)
    assert await commission_of(rig, after) == COMMISSION_BP[Level.SENIOR] == 2500
    assert await commission_of(rig, before) == 3000  # a past session keeps its terms

    # wider bounds now: a senior may set prices a newcomer may not
    resp = await rig.http.put(
        "/api/me/rates",
        json={"text_fen_per_min": 400, "voice_fen_per_min": 900, "video_fen_per_min": 1800},
        headers={"Authorization": f"Bearer {comp.token}"},
    )
    assert resp.status == 200, await resp.text()

    await set_stats(rig, comp, Figures(2_000, 10, 300))  # worse figures: the level stays
    assert await service.promote(comp.user_id) is None
    status, body = await call(rig, "GET", "/api/me/level", comp)
    assert status == 200 and body["level"] == "senior"

    customer = await rig.person()
    assert await service.promote(customer.user_id) is None  # not a companion: nothing


async def test_my_level_shows_progress_and_is_for_companions(rig: Rig) -> None:
    comp = await rig.person("companion")
    status, body = await call(rig, "GET", "/api/me/level", comp)
    assert status == 200
    assert body == {
        "level": "newcomer",
        "label": "新人",
        "commission_bp": 3000,
        "minutes": 0,
        "reviews": 0,
        "rating_x100": 0,
        "next": {
            "name": "senior",
            "label": "资深",
            "thresholds": {"min_minutes": 3000, "min_reviews": 20, "min_rating_x100": 460},
            "met": {"minutes": False, "reviews": False, "rating": False},
        },
    }
    await set_stats(rig, comp, Figures(12_500, 150, 490))
    await rig.app[VETTING].promote(comp.user_id)
    status, body = await call(rig, "GET", "/api/me/level", comp)
    assert (body["level"], body["commission_bp"], body["minutes"], body["next"]) == (
        "gold",
        2000,
        12_500,
        None,
    )
    customer = await rig.person()
    status, body = await call(rig, "GET", "/api/me/level", customer)
    assert (status, code(body)) == (403, "not_companion")


@pytest.mark.parametrize("db_target", ["sqlite"], indirect=True)
async def test_the_levels_table_is_published(rig: Rig) -> None:
    status, body = await call(rig, "GET", "/api/levels", None)
    assert status == 200
    levels = {lv["name"]: lv for lv in body["levels"]}
    assert list(levels) == ["newcomer", "senior", "gold"]
    assert [lv["commission_bp"] for lv in body["levels"]] == [3000, 2500, 2000]
    assert levels["senior"]["label"] == "资深"
    assert levels["gold"]["thresholds"] == {
        "min_minutes": 12_000,
        "min_reviews": 100,
        "min_rating_x100": 480,
    }
    assert levels["newcomer"]["rate_bounds"]["normal"]["voice"] == {"min_fen": 50, "max_fen": 500}
    assert levels["newcomer"]["rate_bounds"]["specialist"]["voice"] == {
        "min_fen": 50,
        "max_fen": 1000,
    }
    assert levels["gold"]["rate_bounds"]["specialist"]["video"] == {"min_fen": 50, "max_fen": 6000}
