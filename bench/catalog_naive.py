"""bench/catalog_naive: the baseline of ``bench.catalog``, the naive way: routes that load
every listed companion row (with its rates, profile and figures), drop blocked ones, filter
and sort in Python and slice the page at its offset; recommendations score every listed
companion with the same pure ``catalog.recommend``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select

from bench.catalog_seed import CUSTOMER
from kernel.clock import FakeClock
from market.catalog import ranking
from market.catalog.listing import PRIOR_X100, Listed, companions_query
from market.catalog.recommend import Candidate, Known, Taste, recommend
from market.catalog.recommender import DAY_OFFSET, MAX_FAVOURITES, MAX_HISTORY
from market.catalog.routes import CompanionsOut, companion_out
from store import Database
from store.keys import DB
from store.models import Block, Favourite, MeteredSession, User

PAGE = 20


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
