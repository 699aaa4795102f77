"""HTTP adapter for signaling: companions' online state for listings (live updates come over
Socket.IO with ``presence:watch``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from kernel.http.access import USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from signaling.keys import CALLS

api = Api()


class PresenceQuery(Strict):
    #: comma-separated user ids, at most 50
    ids: Annotated[str, Field(min_length=1, max_length=50 * 33, pattern=r"^[A-Za-z0-9_,-]+$")]


class PresenceOut(BaseModel):
    statuses: dict[str, str]


@api.route(
    "GET",
    "/api/presence",
    access=access(USERS),
    summary="Online state (online, busy, offline) of up to 50 users",
    tags=["presence"],
    query=PresenceQuery,
    response=PresenceOut,
)
async def get_presence(call: Call) -> BaseModel:
    q: PresenceQuery = call.query
    ids = list(dict.fromkeys(i for i in q.ids.split(",") if i))[:50]
    calls, me = call.request.app[CALLS], call.user.user_id
    # As over the socket (presence:watch): a block either way hides whether they are online.
    hidden = {uid for uid in ids if uid != me and await calls.blocks.between(me, uid)}
    statuses = await calls.presence.statuses([uid for uid in ids if uid not in hidden])
    return PresenceOut(statuses=statuses | dict.fromkeys(hidden, "offline"))
