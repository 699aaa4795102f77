"""The ``recommended`` order of the catalog, with no I/O.

Score = the Bayesian rating × 100 (``reviews.rules.bayesian_x100``: an unreviewed companion
has the prior, 4.50) plus a bounded boost for new companions, so that someone approved last
week with no orders is seen at all (fair exposure) instead of starting behind everyone with a
record.  Hours online play no part: ranking by them would reward leaving the app open, not
good sessions.

The boost: a companion is *new* for ``NEW_WINDOW_DAYS`` after they joined (their first
approval; before vetting existed, their account's creation) while they have fewer than
``NEW_MAX_ORDERS`` orders and their level is still ``newcomer`` (a senior or gold companion
has a record the level stands for, wherever it was earned: they are neither boosted nor
called 新人); the boost is ``NEW_BOOST_PER_ORDER_X100`` for each order short of
that, at most +0.30 stars, shrinking as orders come in.  +0.30 lifts an unknown (4.50) to just
above a solid 4.75, not above the best-rated; it ends by itself with the window or the tenth
order, so nobody keeps it.  The catalog's SQL computes the same score
(``catalog.listing._recommended_score``); a test holds the two together.

Presence comes before the score: in the ``recommended`` order of the catalog the companions
online now (free to take a call) are listed first, each group then by this score
(:func:`presence_first`; the catalog pages it in two passes, ``catalog.listing``).  The score
itself takes no presence, so leaving the app open still earns nothing beyond being found while
one is actually there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

NEW_WINDOW_DAYS = 14
NEW_MAX_ORDERS = 10
NEW_BOOST_PER_ORDER_X100 = 3
MAX_BOOST_X100 = NEW_MAX_ORDERS * NEW_BOOST_PER_ORDER_X100
#: the only level that can be new (metering.tariff.Level.NEWCOMER)
NEWCOMER = "newcomer"

T = TypeVar("T")


def new_since(now: datetime) -> datetime:
    """Companions who joined at or after this are new (given few orders)."""
    return now - timedelta(days=NEW_WINDOW_DAYS)


def is_new(joined_at: datetime, orders: int, now: datetime, *, level: str = NEWCOMER) -> bool:
    return level == NEWCOMER and joined_at >= new_since(now) and orders < NEW_MAX_ORDERS


def new_boost_x100(
    joined_at: datetime, orders: int, now: datetime, *, level: str = NEWCOMER
) -> int:
    if not is_new(joined_at, orders, now, level=level):
        return 0
    return NEW_BOOST_PER_ORDER_X100 * (NEW_MAX_ORDERS - max(orders, 0))


def recommended_score(
    rating_x100: int, joined_at: datetime, orders: int, now: datetime, *, level: str = NEWCOMER
) -> int:
    """The ``recommended`` sort key within a presence group (higher first; ties by id)."""
    return rating_x100 + new_boost_x100(joined_at, orders, now, level=level)


def presence_first(ranked: Sequence[T], online: Callable[[T], bool]) -> list[T]:
    """``ranked`` (already in score order) with those online first, each group keeping its
    order: the ``recommended`` order of the catalog, as its two passes page it."""
    return [x for x in ranked if online(x)] + [x for x in ranked if not online(x)]
