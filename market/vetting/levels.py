"""Companion levels (newcomer → senior → gold): what each takes, and promotion.

Pure: no I/O.  A level is earned when all three figures reach its thresholds: billed minutes of
completed sessions, the number of reviews and the Bayesian average rating ×100 (the reviews
package keeps them in ``CompanionStats``).  Levels only rise automatically: a companion whose
rating dips keeps their level (a bad week should not cut their prices and raise the platform's
commission mid-month); an admin demotes, if ever, by hand.

Why these thresholds:

- senior, 3,000 min (50 h of paid talk, a few months part-time), 20 reviews (enough that the
  Bayesian average has moved off its prior), rating ≥ 4.60 (well above the prior's mean, so
  it is earned, not inherited): the lower commission and the doubled price ceiling are for
  companions customers come back to;
- gold, 12,000 min (200 h), 100 reviews, rating ≥ 4.80: the top of the catalog, where the
  price ceiling triples; four times the senior work and a rating only steady quality keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from metering.tariff import COMMISSION_BP, Level


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_minutes: int
    min_reviews: int
    #: the Bayesian average rating × 100 (460 = 4.60 stars)
    min_rating_x100: int


@dataclass(frozen=True, slots=True)
class Figures:
    """A companion's running figures (``CompanionStats``)."""

    minutes: int
    reviews: int
    rating_x100: int


#: lowest first; each level's thresholds are all above the previous one's
ORDER: tuple[Level, ...] = (Level.NEWCOMER, Level.SENIOR, Level.GOLD)
THRESHOLDS: dict[Level, Thresholds] = {
    Level.NEWCOMER: Thresholds(0, 0, 0),
    Level.SENIOR: Thresholds(min_minutes=3_000, min_reviews=20, min_rating_x100=460),
    Level.GOLD: Thresholds(min_minutes=12_000, min_reviews=100, min_rating_x100=480),
}
LABELS: dict[Level, str] = {Level.NEWCOMER: "新人", Level.SENIOR: "资深", Level.GOLD: "金牌"}

assert set(ORDER) == set(THRESHOLDS) == set(COMMISSION_BP) == set(Level)
assert all(
    getattr(THRESHOLDS[lo], f) <= getattr(THRESHOLDS[hi], f)
    for lo, hi in pairwise(ORDER)
    for f in ("min_minutes", "min_reviews", "min_rating_x100")
)


def rank(level: Level) -> int:
    return ORDER.index(level)


def meets(figures: Figures, t: Thresholds) -> bool:
    return (
        figures.minutes >= t.min_minutes
        and figures.reviews >= t.min_reviews
        and figures.rating_x100 >= t.min_rating_x100
    )


def earned(figures: Figures) -> Level:
    """The highest level whose thresholds ``figures`` all reach."""
    best = Level.NEWCOMER
    for level in ORDER:
        if meets(figures, THRESHOLDS[level]):
            best = level
    return best


def promotion(current: Level, figures: Figures) -> Level | None:
    """The level to rise to, or ``None`` (already there or higher: levels never fall here)."""
    target = earned(figures)
    return target if rank(target) > rank(current) else None


def next_level(current: Level) -> Level | None:
    i = rank(current)
    return ORDER[i + 1] if i + 1 < len(ORDER) else None


@dataclass(frozen=True, slots=True)
class Progress:
    level: Level
    figures: Figures
    #: ``None`` at the top
    next: Level | None
    next_thresholds: Thresholds | None
    #: per criterion (minutes, reviews, rating): reached for the next level
    met: dict[str, bool]


def progress(current: Level, figures: Figures) -> Progress:
    up = next_level(current)
    if up is None:
        return Progress(current, figures, None, None, {})
    t = THRESHOLDS[up]
    return Progress(
        current,
        figures,
        up,
        t,
        {
            "minutes": figures.minutes >= t.min_minutes,
            "reviews": figures.reviews >= t.min_reviews,
            "rating": figures.rating_x100 >= t.min_rating_x100,
        },
    )
