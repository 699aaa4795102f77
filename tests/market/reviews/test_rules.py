"""The pure rules of reviews: the Bayesian rating, stars, tags, text and the review window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.reviews import rules
from market.reviews.rules import RuleError, bayesian_x100, review_window

WEEK_S = 7 * 86_400
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_three_fives_rank_below_three_hundred_four_point_nines() -> None:
    three_fives = bayesian_x100(3, 15)
    many_good = bayesian_x100(300, 1470)  # a mean of 4.9 over 300 reviews
    assert three_fives < many_good
    assert (three_fives, many_good) == (457, 488)


def test_no_reviews_is_the_prior_and_one_review_moves_it_a_little() -> None:
    assert bayesian_x100(0, 0) == rules.PRIOR_MEAN_X100 == 450
    assert bayesian_x100(1, 5) == 452  # (20·4.5 + 5) / 21 = 4.524
    assert bayesian_x100(1, 1) == 433  # (90 + 1) / 21 = 4.333
    with pytest.raises(ValueError):
        bayesian_x100(-1, 0)


@given(st.integers(0, 5_000), st.data())
def test_the_rating_lies_between_the_prior_and_the_mean(n: int, data: st.DataObject) -> None:
    stars = data.draw(st.integers(n, 5 * n))  # each review 1-5 stars
    got = bayesian_x100(n, stars)
    if n == 0:
        assert got == 450
        return
    mean_x100 = 100 * stars / n
    low, high = sorted((450, mean_x100))
    assert low - 0.5 <= got <= high + 0.5


@given(st.integers(0, 1_000), st.integers(0, 1_000))
def test_one_more_review_moves_the_rating_toward_its_stars(n: int, extra: int) -> None:
    stars = min(5 * n, max(n, extra))
    before = bayesian_x100(n, stars)
    assert bayesian_x100(n + 1, stars + 5) >= before
    assert bayesian_x100(n + 1, stars + 1) <= before


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_stars_outside_one_to_five_are_refused(stars: int) -> None:
    with pytest.raises(RuleError) as err:
        rules.check_stars(stars)
    assert err.value.code == "invalid_stars"


def test_tags_are_from_the_fixed_list_at_most_five_duplicates_dropped() -> None:
    assert rules.clean_tags(["耐心", "专业", "耐心"]) == ["耐心", "专业"]
    with pytest.raises(RuleError) as err:
        rules.clean_tags(["耐心", "很帅"])
    assert err.value.code == "unknown_review_tag"
    with pytest.raises(RuleError) as err:
        rules.clean_tags(list(rules.REVIEW_TAGS[:6]))
    assert err.value.code == "too_many_review_tags"
    assert len(rules.clean_tags(list(rules.REVIEW_TAGS[:5]))) == 5


def test_text_is_trimmed_and_capped() -> None:
    assert rules.clean_text("  很好  ", 500) == "很好"
    assert rules.clean_text("字" * 500, 500) == "字" * 500
    with pytest.raises(RuleError) as err:
        rules.clean_text("字" * 301, rules.MAX_REPLY_CHARS)
    assert err.value.code == "text_too_long"


def test_the_window_opens_at_a_paid_end_and_closes_after_seven_days() -> None:
    assert review_window("running", 3, None, T0, WEEK_S).code == "session_not_ended"
    assert review_window("ended", 0, T0, T0, WEEK_S).code == "session_not_paid"
    just_in = review_window("ended", 1, T0, T0 + timedelta(days=7, seconds=-1), WEEK_S)
    assert just_in.open and just_in.until == T0 + timedelta(days=7)
    closed = review_window("ended", 1, T0, T0 + timedelta(days=7), WEEK_S)
    assert not closed.open and closed.code == "review_window_closed"
    assert review_window("ended", 1, T0, T0 + timedelta(days=8), WEEK_S).code == (
        "review_window_closed"
    )


def test_anonymous_authors_are_shown_as_anonymous() -> None:
    assert rules.display_name("小明", anonymous=True) == "匿名"
    assert rules.display_name("小明", anonymous=False) == "小明"
