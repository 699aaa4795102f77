"""Recommendations for a customer: gather a bounded set of candidates from the database and
let ``catalog.recommend`` (pure) score and order them.

Candidates (each source capped, so the work per request is bounded whatever the catalog's
size): the customer's favourites, the companions of their recent paid sessions, companions
matching their interest tags, the best rated, and the newest (fair exposure).  Blocked pairs
either way are left out, as candidates and as a source of "because you talked with X".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from kernel.clock import Clock
from market.catalog import ranking
from market.catalog.listing import (
    Catalog,
    Listed,
    companions_query,
    has_element,
    joined_sql,
    json_contains,
    orders_sql,
    rating_sql,
)
from market.catalog.recommend import Candidate, Known, Pick, Taste, recommend
from store import Database
from store.models import CompanionRate, Favourite, MeteredSession, User
from store.models.vetting import CompanionProfile

MAX_FAVOURITES = 50
MAX_HISTORY = 20
MAX_PER_SOURCE = 100
#: China Standard Time: the rotation of new companions turns at the customers' midnight
DAY_OFFSET = timedelta(hours=8)


class Recommender:
    def __init__(self, db: Database, catalog: Catalog, clock: Clock) -> None:
        self._db = db
        self._catalog = catalog
        self._clock = clock

    async def for_user(self, user_id: str, limit: int) -> list[tuple[Listed, Pick]]:
        now = self._clock.now()
        async with self._db.reading() as s:
            user = await s.get(User, user_id)
            interest = tuple(user.tags) if user is not None else ()
            favourites = list(
                await s.scalars(
                    select(Favourite.companion_id)
                    .where(Favourite.customer_id == user_id)
                    .order_by(Favourite.created_at.desc())
                    .limit(MAX_FAVOURITES)
                )
            )
            last = func.max(MeteredSession.ended_at)
            history = list(
                await s.scalars(
                    select(MeteredSession.companion_id)
                    .where(
                        MeteredSession.customer_id == user_id,
                        MeteredSession.status == "ended",
                        MeteredSession.billed_minutes > 0,
                    )
                    .group_by(MeteredSession.companion_id)
                    .order_by(last.desc())
                    .limit(MAX_HISTORY)
                )
            )
            ids = companions_query().with_only_columns(User.id)
            best = await s.scalars(ids.order_by(rating_sql.desc(), User.id).limit(MAX_PER_SOURCE))
            since = ranking.new_since(now)
            newest = await s.scalars(
                ids.where(
                    CompanionRate.level == ranking.NEWCOMER,
                    joined_sql >= since,
                    orders_sql < ranking.NEW_MAX_ORDERS,
                )
                .order_by(joined_sql.desc(), User.id)
                .limit(MAX_PER_SOURCE)
            )
            pool = {*favourites, *history, *best, *newest}
            if interest:
                matching = await s.scalars(
                    ids.where(
                        or_(
                            *(json_contains(CompanionProfile.specialties, t) for t in interest),
                            *(has_element(User.tags, t) for t in interest),
                        )
                    )
                    .order_by(rating_sql.desc(), User.id)
                    .limit(MAX_PER_SOURCE)
                )
                pool.update(matching)
        listed = {x.user.id: x for x in await self._catalog.many(sorted(pool), viewer=user_id)}
        taste = Taste(
            user_id=user_id,
            interest_tags=interest,
            favourites=tuple(_known(listed[i]) for i in favourites if i in listed),
            history=tuple(_known(listed[i]) for i in history if i in listed),
            day=(now + DAY_OFFSET).date(),
        )
        picks = recommend(taste, [_candidate(x, now) for x in listed.values()], limit)
        return [(listed[p.companion_id], p) for p in picks]


def _known(x: Listed) -> Known:
    return Known(x.user.id, x.user.nickname, tuple(x.specialties))


def _candidate(x: Listed, now: datetime) -> Candidate:
    return Candidate(
        id=x.user.id,
        nickname=x.user.nickname,
        tags=tuple(x.user.tags),
        specialties=tuple(x.specialties),
        rating_x100=x.rating_x100,
        rating_count=x.rating_count,
        is_new=ranking.is_new(x.joined_at, x.orders, now, level=x.rates.level),
        boost_x100=ranking.new_boost_x100(x.joined_at, x.orders, now, level=x.rates.level),
    )
