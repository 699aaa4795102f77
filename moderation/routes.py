"""HTTP adapter for moderation: block and unblock users, list whom I blocked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field

from moderation.blocks import BlockService
from moderation.errors import CannotBlockSelf, UserNotFound
from peiliao.http.api import Api, Call, Strict

BLOCKS = web.AppKey("blocks", BlockService)

api = Api()
UserIdField = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class BlockIn(Strict):
    user_id: UserIdField


class BlockedOut(BaseModel):
    user_id: str
    nickname: str
    since: datetime


class BlocksOut(BaseModel):
    blocked: list[BlockedOut]


@api.route(
    "POST",
    "/api/blocks",
    summary="Block a user: neither of you can call the other",
    tags=["safety"],
    body=BlockIn,
    response=BlocksOut,
    errors=[CannotBlockSelf, UserNotFound],
)
async def block_user(call: Call) -> BaseModel:
    body: BlockIn = call.body
    blocks = call.request.app[BLOCKS]
    await blocks.block(call.user.user_id, body.user_id)
    return await _list(blocks, call.user.user_id)


@api.route(
    "DELETE",
    "/api/blocks/{user_id}",
    summary="Unblock a user",
    tags=["safety"],
    response=BlocksOut,
)
async def unblock_user(call: Call) -> BaseModel:
    blocks = call.request.app[BLOCKS]
    await blocks.unblock(call.user.user_id, call.request.match_info["user_id"][:32])
    return await _list(blocks, call.user.user_id)


@api.route("GET", "/api/blocks", summary="Users I blocked", tags=["safety"], response=BlocksOut)
async def list_blocks(call: Call) -> BaseModel:
    return await _list(call.request.app[BLOCKS], call.user.user_id)


async def _list(blocks: BlockService, user_id: str) -> BlocksOut:
    return BlocksOut(
        blocked=[
            BlockedOut(user_id=u, nickname=n, since=t)
            for u, n, t in await blocks.blocked_by(user_id)
        ]
    )
