"""HTTP adapter for voice rooms: open one (a companion), browse the open ones, see one, close
one (its host or an admin).  Joining and leaving are Socket.IO events (``room:join``,
``room:leave``: ``docs/protocol.md``), since a member needs a live connection for media."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from accounts.roles import Role
from kernel.cursor import MAX_CURSOR_CHARS, BadCursor
from kernel.http.access import ANYONE, COMPANIONS, USERS, access
from kernel.http.api import CURSORS, Api, Call
from kernel.http.models import Strict, Within
from market.voicerooms.errors import (
    CapacityOutOfBounds,
    HostInCall,
    NotCompanion,
    NotRoomHost,
    RateOutOfBounds,
    RoomAlreadyOpen,
    RoomNotFound,
    TitleCharacters,
    TitleContactDetails,
    TitleLength,
    TooManyRooms,
)
from market.voicerooms.keys import VOICE_ROOMS
from market.voicerooms.rules import MAX_CAPACITY, MIN_CAPACITY
from market.voicerooms.views import RoomView
from metering.errors import RatesNotSet
from metering.rate_fields import rate_field
from metering.tariff import Mode
from signaling.errors import Draining

api = Api()


class OpenIn(Strict):
    #: 1..30 characters once trimmed; no contact details (checked by the server)
    title: Annotated[str, Field(max_length=200)]
    #: fixed for the room's life; within the host's voice bounds for their level
    rate_fen_per_min: Annotated[int, rate_field(Mode.VOICE)]
    #: people at most, the host included
    capacity: Annotated[
        int, Within(MIN_CAPACITY, MAX_CAPACITY, "capacity_out_of_bounds", "a room's capacity")
    ]


class ListQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=50)] = 20
    #: the ``next_cursor`` of the previous page
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_CHARS)] | None = None


class HostOut(BaseModel):
    id: str
    nickname: str
    avatar_url: str | None


class MemberOut(BaseModel):
    user_id: str
    nickname: str
    #: ``host`` or ``member``
    role: str


class RoomCardOut(BaseModel):
    id: str
    title: str
    rate_fen_per_min: int
    #: members in the room now (the host not counted)
    listeners: int
    #: people at most, the host included
    capacity: int
    host: HostOut
    created_at: datetime


class RoomOut(RoomCardOut):
    status: str
    #: the host first, then the members in join order (to those in the room, its host and
    #: admins; anyone else gets the host only, and ``listeners`` counts the rest)
    members: list[MemberOut]
    closed_at: datetime | None
    #: ``host``, ``admin``, ``away``, ``media_lost``, ``server_lost``, ``drain``
    close_reason: str | None
    #: the host's share of the room's sessions so far (host and admins only; else null)
    earned_fen: int | None = None


class RoomsOut(BaseModel):
    rooms: list[RoomCardOut]
    next_cursor: str | None


def card_out(v: RoomView) -> RoomCardOut:
    return RoomCardOut(
        id=v.room_id,
        title=v.title,
        rate_fen_per_min=v.rate_fen_per_min,
        listeners=v.listeners,
        capacity=v.capacity,
        host=HostOut(id=v.host.user_id, nickname=v.host.nickname, avatar_url=v.host.avatar_url),
        created_at=v.created_at,
    )


async def room_out(call: Call, v: RoomView) -> RoomOut:
    """The room as the caller may see it: members by name to those in it, the host and admins
    (``RoomView.sees_members``); the earnings to the host and admins."""
    earned: int | None = None
    who = call.principal
    if who is not None and (who.user_id == v.host.user_id or who.role == Role.ADMIN):
        earned, _ = await call.request.app[VOICE_ROOMS].earnings(v.room_id, v.host.user_id)
    named = v.sees_members(who.user_id if who else None, who.role if who else None)
    return RoomOut(
        **card_out(v).model_dump(),
        status=v.status,
        members=[MemberOut(**m) for m in v.payload(members=named)["members"]],
        closed_at=v.closed_at,
        close_reason=v.close_reason,
        earned_fen=earned,
    )


def _room_id(call: Call) -> str:
    return call.request.match_info["room_id"][:40]


@api.route(
    "POST",
    "/api/voice-rooms",
    access=access(COMPANIONS, refuse=NotCompanion),
    summary="Open a group voice room (a companion): title, rate per minute, capacity",
    tags=["voice rooms"],
    body=OpenIn,
    response=RoomOut,
    status=201,
    errors=[
        NotCompanion,
        TitleLength,
        TitleCharacters,
        TitleContactDetails,
        RateOutOfBounds,
        CapacityOutOfBounds,
        RatesNotSet,
        RoomAlreadyOpen,
        HostInCall,
        TooManyRooms,
        Draining,
    ],
)
async def open_room(call: Call) -> BaseModel:
    body: OpenIn = call.body
    view = await call.request.app[VOICE_ROOMS].open(
        call.user, body.title, body.rate_fen_per_min, body.capacity
    )
    return await room_out(call, view)


@api.route(
    "GET",
    "/api/voice-rooms",
    access=access(ANYONE),
    summary="Open voice rooms, newest first (none whose host and you blocked either way)",
    tags=["voice rooms"],
    query=ListQuery,
    response=RoomsOut,
    errors=[BadCursor],
)
async def list_rooms(call: Call) -> BaseModel:
    q: ListQuery = call.query
    viewer = call.principal.user_id if call.principal is not None else None
    cursors = call.request.app[CURSORS]
    after = cursors.decode_keyset("voice_rooms.open", q.cursor) if q.cursor else None
    rooms, more = await call.request.app[VOICE_ROOMS].page(viewer, q.limit, after)
    last = rooms[-1] if more and rooms else None
    cursor = (
        cursors.encode_keyset("voice_rooms.open", last.created_at, last.room_id) if last else None
    )
    return RoomsOut(rooms=[card_out(v) for v in rooms], next_cursor=cursor)


@api.route(
    "GET",
    "/api/voice-rooms/{room_id}",
    access=access(ANYONE, room_id="public"),
    summary="One voice room with its members (closed ones: their host, members and admins)",
    tags=["voice rooms"],
    response=RoomOut,
    errors=[RoomNotFound],
)
async def get_room(call: Call) -> BaseModel:
    view = await call.request.app[VOICE_ROOMS].visible(call.principal, _room_id(call))
    return await room_out(call, view)


@api.route(
    "POST",
    "/api/voice-rooms/{room_id}/close",
    access=access(USERS, room_id=("host", "admin")),
    summary="Close a voice room (its host, or an admin: audit-logged); every session ends",
    tags=["voice rooms"],
    response=RoomOut,
    errors=[RoomNotFound, NotRoomHost],
)
async def close_room(call: Call) -> BaseModel:
    view = await call.request.app[VOICE_ROOMS].close_by(call.user, _room_id(call))
    return await room_out(call, view)
