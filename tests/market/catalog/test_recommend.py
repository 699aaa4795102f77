"""Pure discovery rules, no database: the recommended score (new-companion boost), the signed
cursors, and recommendations (scores, reasons, the fair-exposure slot and its rotation)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.cursor import BadCursor, CursorCodec
from market.catalog import ranking
from market.catalog.recommend import (
    GROUP,
    REASON_TEXT,
    Candidate,
    Known,
    Taste,
    recommend,
    score,
)
from market.reviews.rules import bayesian_x100

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)


# -- the recommended score -----------------------------------------------------------------------


def test_a_new_companion_gets_a_bounded_boost_that_shrinks_with_orders() -> None:
    joined = NOW - timedelta(days=3)
    assert ranking.new_boost_x100(joined, 0, NOW) == ranking.MAX_BOOST_X100 == 30
    assert ranking.new_boost_x100(joined, 5, NOW) == 15
    assert ranking.new_boost_x100(joined, 10, NOW) == 0  # the tenth order ends it
    old = NOW - timedelta(days=14, seconds=1)
    assert ranking.new_boost_x100(old, 0, NOW) == 0  # the window ends it
    assert ranking.is_new(NOW - timedelta(days=14), 0, NOW)


def test_the_boost_lifts_an_unknown_above_average_not_above_the_best() -> None:
    new = ranking.recommended_score(bayesian_x100(0, 0), NOW, 0, NOW)
    solid = ranking.recommended_score(bayesian_x100(100, 470), NOW - timedelta(days=90), 100, NOW)
    best = ranking.recommended_score(bayesian_x100(300, 1470), NOW - timedelta(days=90), 300, NOW)
    assert solid < new < best


@given(
    st.integers(100, 500),
    st.integers(0, 60),
    st.integers(0, 1_000),
    st.integers(0, 5_000),
)
def test_hours_online_play_no_part_and_the_boost_stays_bounded(
    rating: int, days: int, orders: int, hours_online: int
) -> None:
    # ``recommended_score`` takes no presence at all: only rating, join date and orders.
    s = ranking.recommended_score(rating, NOW - timedelta(days=days), orders, NOW)
    assert rating <= s <= rating + ranking.MAX_BOOST_X100


# -- cursors ---------------------------------------------------------------------------------------


def test_cursors_round_trip_and_refuse_forgery_or_another_sort() -> None:
    codec = CursorCodec(b"k" * 32)
    token = codec.encode("companions.rating", [487, "usr_1"])
    assert codec.decode("companions.rating", token) == [487, "usr_1"]
    with pytest.raises(BadCursor):
        codec.decode("companions.orders", token)  # made for another sort
    with pytest.raises(BadCursor):
        CursorCodec(b"x" * 32).decode("companions.rating", token)  # another server's key
    body, mac = token.split(".")
    forged = CursorCodec(b"x" * 32).encode("companions.rating", [999, "usr_1"]).split(".")[0]
    for bad in ("", "not-a-cursor", f"{forged}.{mac}", f"{body}.", "é.é", "a" * 400):
        with pytest.raises(BadCursor):
            codec.decode("companions.rating", bad)


# -- recommendations ------------------------------------------------------------------------------


def cand(cid: str, rating: int = 450, **kw: object) -> Candidate:
    fields: dict[str, object] = {
        "nickname": cid.upper(),
        "tags": (),
        "specialties": (),
        "rating_count": 10,
    } | kw
    return Candidate(id=cid, rating_x100=rating, **fields)  # type: ignore[arg-type]


def test_each_tie_to_the_customer_gives_its_reason_and_params() -> None:
    fav = Known("fav", "小美", ("情感倾诉",))
    talked = Known("old", "阿杰", ("游戏陪玩",))
    taste = Taste("me", ("游戏", "外语"), favourites=(fav,), history=(talked,))
    cases = {
        "fav": (cand("fav"), "favourite", {}),
        "tag": (cand("tag", specialties=("外语陪练",)), "matches_tag", {"tag": "外语"}),
        "own": (cand("own", tags=("外语",)), "matches_tag", {"tag": "外语"}),
        "like": (
            cand("like", specialties=("情感倾诉",)),
            "like_favourite",
            {"nickname": "小美", "specialty": "情感倾诉"},
        ),
        "old": (cand("old"), "talked_before", {"nickname": "阿杰"}),
        "rated": (cand("rated", 487), "highly_rated", {"rating": "4.87", "count": "10"}),
        "unrated": (cand("unrated", rating_count=0), "worth_a_try", {}),
        "new": (cand("new", is_new=True, boost_x100=30), "new_companion", {}),
    }
    for c, code, params in cases.values():
        pick = score(taste, c)
        assert (pick.reason_code, pick.params) == (code, params), c.id
        for lang in ("zh-CN", "en"):
            assert pick.reason(lang)  # type: ignore[arg-type]
    similar = score(Taste("me", history=(talked,)), cand("sim", specialties=("游戏陪玩", "闲聊")))
    assert (similar.reason_code, similar.params) == (
        "similar_to_history",
        {"nickname": "阿杰", "specialty": "游戏陪玩"},
    )
    assert "阿杰" in similar.reason("zh-CN") and "阿杰" in similar.reason("en")
    assert set(REASON_TEXT["zh-CN"]) == set(REASON_TEXT["en"])


def test_ties_add_to_the_rating_and_a_favourite_is_named_as_one() -> None:
    fav = Known("f", "F", ("游戏陪玩",))
    taste = Taste("me", ("游戏",), favourites=(fav,))
    plain = score(taste, cand("x", 450))
    matched = score(taste, cand("y", 450, specialties=("游戏陪玩",)))
    both = score(taste, cand("f", 450, specialties=("游戏陪玩",)))
    assert plain.score == 450
    assert matched.score == 450 + 60 + 40  # the tag, and sharing a specialty with a favourite
    assert both.score == 450 + 60 + 80 and both.reason_code == "favourite"
    # a tie does not lift a weak companion over everyone: a 3.9 favourite below a 4.9 + 2 tags
    strong = score(
        Taste("me", ("游戏", "外语")), cand("s", 490, specialties=("游戏陪玩", "外语陪练"))
    )
    weak = score(taste, cand("f", 390))
    assert weak.score < strong.score


def test_picks_are_ordered_by_score_without_the_customer_or_duplicates() -> None:
    pool = [cand("me", 500), cand("a", 480), cand("b", 470), cand("a", 480), cand("c", 460)]
    picks = recommend(Taste("me"), pool, 10)
    assert [p.companion_id for p in picks] == ["a", "b", "c"]
    assert recommend(Taste("me"), pool, 2) == picks[:2]


def _pool(n_old: int, n_new: int) -> list[Candidate]:
    old = [cand(f"old{i:02d}", 490 - i) for i in range(n_old)]
    new = [cand(f"new{i:02d}", 450, is_new=True, rating_count=0) for i in range(n_new)]
    return old + new


@given(st.integers(0, 30), st.integers(0, 8), st.integers(1, 30), st.text(max_size=8))
def test_every_group_of_five_has_a_new_companion_while_there_is_one(
    n_old: int, n_new: int, limit: int, user: str
) -> None:
    pool = _pool(n_old, n_new)
    picks = recommend(Taste(user or "u"), pool, limit)
    ids = [p.companion_id for p in picks]
    assert len(ids) == len(set(ids)) == min(limit, len(pool))
    new_ids = {c.id for c in pool if c.is_new}
    shown_new = 0
    for start in range(0, len(ids), GROUP):
        group = ids[start : start + GROUP]
        if len(group) >= 3 and shown_new < n_new:
            assert any(i in new_ids for i in group), (start, ids)
        shown_new += sum(i in new_ids for i in group)
    for p in picks:
        if p.companion_id in new_ids:
            assert p.reason_code == "new_companion"


def test_the_new_companion_slot_rotates_by_customer_and_day_and_holds_all_day() -> None:
    pool = _pool(20, 6)

    def new_shown(user: str, day: date) -> str:
        picks = recommend(Taste(user, day=day), pool, 5)
        assert [p.companion_id for p in picks[:2]] == ["old00", "old01"]
        assert picks[2].reason_code == "new_companion"
        return picks[2].companion_id

    days = [date(2026, 5, d) for d in range(1, 15)]
    assert len({new_shown("alice", d) for d in days}) >= 3  # not always the same one
    assert len({new_shown(u, days[0]) for u in ("a", "b", "c", "d", "e", "f", "g", "h")}) >= 3
    assert new_shown("alice", days[3]) == new_shown("alice", days[3])  # stable within a day
