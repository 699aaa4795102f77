"""HTTP adapter for the catalog: browse and search companions, open one, recommendations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from accounts.views import user_out
from kernel.cursor import BadCursor
from kernel.errors import DomainError
from kernel.http.access import ANYONE, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from market.catalog.errors import Blocked, CompanionNotFound, TooManyFavourites
from market.catalog.keys import CATALOG, FAVOURITES, RECOMMENDER
from market.catalog.listing import Listed, by_presence
from market.catalog.recommend import MAX_LIMIT

api = Api()


class ModeRequired(DomainError):
    code = "mode_required"
    status = 400
    default_message = "sorting by price or a price range needs a mode"


class ListQuery(Strict):
    #: a substring of the nickname, the intro or a specialty (case-insensitive)
    q: Annotated[str, Field(max_length=40)] = ""
    #: exactly one of the companion's specialties (情感倾诉, 游戏陪玩, …)
    specialty: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    gender: Literal["female", "male"] | None = None
    mode: Literal["text", "voice", "video"] | None = None
    #: with ``mode``: at least / at most this price per minute
    min_fen: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    max_fen: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    #: rated, with a (Bayesian) rating of at least this many stars
    min_rating: Annotated[float, Field(ge=0, le=5)] | None = None
    online: bool = False
    #: ``recommended`` (rating plus a bounded boost for new companions), ``rating``,
    #: ``price`` (needs ``mode``; cheapest first), ``orders``, ``new`` (most recently joined)
    #: or ``online`` (the ``new`` order, each page online first, then busy, then offline)
    sort: Literal["recommended", "rating", "price", "orders", "new", "online"] = "recommended"
    cursor: Annotated[str, Field(max_length=300)] | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class RatesView(BaseModel):
    text: int
    voice: int
    video: int


class CompanionOut(BaseModel):
    id: str
    nickname: str
    tags: list[str]
    avatar_url: str | None
    level: str
    #: fen per minute, by mode
    rates: RatesView
    status: str
    gender: str
    intro: str
    specialties: list[str]
    #: the specialist categories a certificate was accepted for
    certified: list[str]
    voice_sample_url: str | None
    #: the Bayesian average × 100 (reviews.rules: unreviewed companions have the prior, 450)
    rating_x100: int
    rating_count: int
    #: completed paid sessions
    orders: int


class CompanionsOut(BaseModel):
    companions: list[CompanionOut]
    next_cursor: str | None


def companion_out(x: Listed) -> CompanionOut:
    public = user_out(x.user)
    profile = x.profile
    voice = profile.voice_sample_version if profile is not None else 0
    return CompanionOut(
        id=public.id,
        nickname=public.nickname,
        tags=public.tags,
        avatar_url=public.avatar_url,
        level=x.rates.level,
        rates=RatesView(
            text=x.rates.text_fen_per_min,
            voice=x.rates.voice_fen_per_min,
            video=x.rates.video_fen_per_min,
        ),
        status=x.status,
        gender=profile.gender if profile is not None else "",
        intro=profile.intro if profile is not None else "",
        specialties=x.specialties,
        certified=list(profile.certified) if profile is not None else [],
        voice_sample_url=f"/api/companions/{x.user.id}/voice-sample?v={voice}" if voice else None,
        rating_x100=x.rating_x100,
        rating_count=x.rating_count,
        orders=x.orders,
    )


@api.route(
    "GET",
    "/api/companions",
    access=access(ANYONE),
    summary="Browse companions: search, filters (specialty, gender, price per mode, rating, "
    "online now), sorts; keyset pages",
    tags=["catalog"],
    query=ListQuery,
    response=CompanionsOut,
    errors=[BadCursor, ModeRequired],
)
async def list_companions(call: Call) -> BaseModel:
    q: ListQuery = call.query
    if q.mode is None and (q.sort == "price" or q.min_fen is not None or q.max_fen is not None):
        raise ModeRequired()
    listed, cursor = await call.request.app[CATALOG].page(
        q=q.q.strip(),
        specialty=q.specialty,
        gender=q.gender,
        mode=q.mode,
        min_fen=q.min_fen,
        max_fen=q.max_fen,
        min_rating_x100=round(q.min_rating * 100) if q.min_rating is not None else None,
        online=q.online,
        sort=q.sort,
        cursor=q.cursor,
        limit=q.limit,
        viewer=call.principal.user_id if call.principal is not None else None,
    )
    if q.sort == "online":
        listed = by_presence(listed)
    return CompanionsOut(companions=[companion_out(x) for x in listed], next_cursor=cursor)


@api.route(
    "GET",
    "/api/companions/{companion_id}",
    access=access(ANYONE, companion_id="public"),
    summary="One companion: profile, prices, rating, orders, online state",
    tags=["catalog"],
    response=CompanionOut,
    errors=[CompanionNotFound],
)
async def get_companion(call: Call) -> BaseModel:
    viewer = call.principal.user_id if call.principal is not None else None
    found = await call.request.app[CATALOG].one(
        call.request.match_info["companion_id"][:32], viewer
    )
    if found is None:
        raise CompanionNotFound()
    return companion_out(found)


# -- recommendations -----------------------------------------------------------------------------


class RecommendationsQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 10
    #: the language of ``reason`` (``reason_code`` and ``params`` are the same in any)
    lang: Literal["zh-CN", "en"] = "zh-CN"


class RecommendationOut(BaseModel):
    companion: CompanionOut
    #: favourite | matches_tag | like_favourite | similar_to_history | talked_before |
    #: new_companion | highly_rated | worth_a_try
    reason_code: str
    #: the values the reason names (tag, nickname, specialty, rating, count)
    params: dict[str, str]
    reason: str


class RecommendationsOut(BaseModel):
    recommendations: list[RecommendationOut]


@api.route(
    "GET",
    "/api/recommendations",
    access=access(USERS),
    summary="Companions for me, each with why (my interest tags, favourites, sessions, "
    "ratings; a new companion in every five)",
    tags=["catalog"],
    query=RecommendationsQuery,
    response=RecommendationsOut,
)
async def recommendations(call: Call) -> BaseModel:
    q: RecommendationsQuery = call.query
    picks = await call.request.app[RECOMMENDER].for_user(call.user.user_id, q.limit)
    return RecommendationsOut(
        recommendations=[
            RecommendationOut(
                companion=companion_out(x),
                reason_code=p.reason_code,
                params=p.params,
                reason=p.reason(q.lang),
            )
            for x, p in picks
        ]
    )


# -- favourites ----------------------------------------------------------------------------------


class FavouritesOut(BaseModel):
    companions: list[CompanionOut]


@api.route(
    "GET",
    "/api/favourites",
    access=access(USERS),
    summary="My favourite companions, newest first, with their online state",
    tags=["catalog"],
    response=FavouritesOut,
)
async def my_favourites(call: Call) -> BaseModel:
    return await _favourites(call)


async def _favourites(call: Call) -> FavouritesOut:
    app = call.request.app
    out = []
    for companion_id, _since in await app[FAVOURITES].of(call.user.user_id):
        found = await app[CATALOG].one(companion_id, call.user.user_id)
        if found is not None:
            out.append(companion_out(found))
    return FavouritesOut(companions=out)


@api.route(
    "PUT",
    "/api/favourites/{companion_id}",
    access=access(USERS, companion_id="public"),
    summary="Keep a companion among my favourites (told when they come online)",
    tags=["catalog"],
    response=FavouritesOut,
    errors=[CompanionNotFound, Blocked, TooManyFavourites],
)
async def add_favourite(call: Call) -> BaseModel:
    await call.request.app[FAVOURITES].add(
        call.user.user_id, call.request.match_info["companion_id"][:32]
    )
    return await _favourites(call)


@api.route(
    "DELETE",
    "/api/favourites/{companion_id}",
    access=access(USERS, companion_id="public"),
    summary="Drop a companion from my favourites",
    tags=["catalog"],
    response=FavouritesOut,
)
async def remove_favourite(call: Call) -> BaseModel:
    await call.request.app[FAVOURITES].remove(
        call.user.user_id, call.request.match_info["companion_id"][:32]
    )
    return await _favourites(call)
