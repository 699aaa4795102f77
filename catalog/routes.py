"""HTTP adapter for the catalog: browse companions, open one."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from accounts.routes import user_out
from catalog.favourites import FavouriteService
from catalog.listing import BadCursor, Catalog, Listed, by_presence
from peiliao.errors import CodedError, DomainError
from peiliao.http.api import Api, Call, Strict

CATALOG = web.AppKey("catalog", Catalog)

api = Api()


class CompanionNotFound(DomainError):
    code = "companion_not_found"
    status = 404
    default_message = "no such companion"


class ListQuery(Strict):
    q: Annotated[str, Field(max_length=40)] = ""
    mode: Literal["text", "voice", "video"] | None = None
    #: with ``mode``: at most this price per minute
    max_fen: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    online: bool = False
    #: ``new`` (most recently joined first) or ``online`` (online, then busy, then offline,
    #: within the page)
    sort: Literal["new", "online"] = "online"
    cursor: Annotated[str, Field(max_length=200)] | None = None
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


class CompanionsOut(BaseModel):
    companions: list[CompanionOut]
    next_cursor: str | None


def companion_out(x: Listed) -> CompanionOut:
    public = user_out(x.user)
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
    )


@api.route(
    "GET",
    "/api/companions",
    summary="Browse companions: search by nickname, price cap per mode, online now",
    tags=["catalog"],
    auth="optional",
    query=ListQuery,
    response=CompanionsOut,
)
async def list_companions(call: Call) -> BaseModel:
    q: ListQuery = call.query
    try:
        listed, cursor = await call.request.app[CATALOG].page(
            q=q.q.strip(),
            mode=q.mode,
            max_fen=q.max_fen,
            online=q.online,
            cursor=q.cursor,
            limit=q.limit,
            viewer=call.principal.user_id if call.principal is not None else None,
        )
    except BadCursor as exc:
        raise CodedError("invalid_cursor", str(exc)) from None
    if q.sort == "online":
        listed = by_presence(listed)
    return CompanionsOut(companions=[companion_out(x) for x in listed], next_cursor=cursor)


@api.route(
    "GET",
    "/api/companions/{companion_id}",
    summary="One companion: profile, prices, online state",
    tags=["catalog"],
    auth="optional",
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


# -- favourites ----------------------------------------------------------------------------------

FAVOURITES = web.AppKey("favourites", FavouriteService)


class FavouritesOut(BaseModel):
    companions: list[CompanionOut]


@api.route(
    "GET",
    "/api/favourites",
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
    summary="Keep a companion among my favourites (told when they come online)",
    tags=["catalog"],
    response=FavouritesOut,
    errors=[CompanionNotFound],
)
async def add_favourite(call: Call) -> BaseModel:
    await call.request.app[FAVOURITES].add(
        call.user.user_id, call.request.match_info["companion_id"][:32]
    )
    return await _favourites(call)


@api.route(
    "DELETE",
    "/api/favourites/{companion_id}",
    summary="Drop a companion from my favourites",
    tags=["catalog"],
    response=FavouritesOut,
)
async def remove_favourite(call: Call) -> BaseModel:
    await call.request.app[FAVOURITES].remove(
        call.user.user_id, call.request.match_info["companion_id"][:32]
    )
    return await _favourites(call)
