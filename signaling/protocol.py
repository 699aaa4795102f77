"""The payload of every client → server Socket.IO event (validated with pydantic, strictly: no
unknown fields, no coercion).  ``docs/protocol.md`` documents them with the server → client
events; a test keeps the two in step."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from kernel.http.models import Strict

CallId = Annotated[str, Field(pattern=r"^call_[0-9a-f]{32}$")]
RoomId = Annotated[str, Field(pattern=r"^vr_[0-9a-f]{32}$")]
#: media signaling serves a 1:1 call or a group voice room (``vr_…``)
MediaTarget = Annotated[str, Field(pattern=r"^(call|vr)_[0-9a-f]{32}$")]
UserIdField = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ClientKey = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Seq = Annotated[int, Field(ge=0, le=2**31 - 1)]


class PresenceSet(Strict):
    accepting: bool


class PresenceWatch(Strict):
    user_ids: Annotated[list[UserIdField], Field(min_length=1, max_length=50)]


class CallRequest(Strict):
    companion_id: UserIdField
    mode: Literal["text", "voice", "video"]
    #: the client's idempotency key: a resent request returns the same call
    request_id: ClientKey


class CallRef(Strict):
    call_id: CallId


class ChatSend(Strict):
    call_id: CallId
    #: the client's id of this message: a resend is stored and delivered once
    client_id: ClientKey
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class ChatHistory(Strict):
    call_id: CallId
    after_seq: Seq | None = None
    before_seq: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def one_cursor(self) -> ChatHistory:
        if self.after_seq is not None and self.before_seq is not None:
            raise ValueError("give after_seq or before_seq, not both")
        return self


class ChatMark(Strict):
    call_id: CallId
    seq: Seq


class MediaOffer(Strict):
    call_id: MediaTarget
    #: the client's SDP offer, with its candidates (no trickle yet)
    sdp: Annotated[str, Field(min_length=10, max_length=60_000)]


class MediaCandidate(Strict):
    call_id: MediaTarget
    #: an ``a=candidate`` value as the browser gives it (``candidate:…``); null or "" ends them
    candidate: Annotated[str, Field(max_length=1_000)] | None
    sdp_mid: Annotated[str, Field(max_length=32)] | None = None
    sdp_mline_index: Annotated[int, Field(ge=0, le=63)] | None = None
    #: the ICE ufrag of the offer it belongs to (a candidate may overtake a new offer)
    ufrag: Annotated[str, Field(max_length=256)] | None = None


class MediaMute(Strict):
    call_id: MediaTarget
    audio: bool
    video: bool


class MediaRef(Strict):
    call_id: MediaTarget


class RoomJoin(Strict):
    room_id: RoomId
    #: the client's idempotency key: a resent join returns the same membership
    request_id: ClientKey


class RoomRef(Strict):
    room_id: RoomId


#: every client → server event and its payload model (None: no payload)
EVENTS: dict[str, type[Strict] | None] = {
    "presence:set": PresenceSet,
    "presence:watch": PresenceWatch,
    "presence:unwatch": PresenceWatch,
    "call:request": CallRequest,
    "call:accept": CallRef,
    "call:decline": CallRef,
    "call:cancel": CallRef,
    "call:hangup": CallRef,
    "call:get": CallRef,
    "call:current": None,
    "chat:send": ChatSend,
    "chat:history": ChatHistory,
    "chat:delivered": ChatMark,
    "chat:read": ChatMark,
    "chat:typing": CallRef,
    "admin:end": CallRef,
    "media:offer": MediaOffer,
    "media:candidate": MediaCandidate,
    "media:mute": MediaMute,
    "media:config": MediaRef,
    "room:join": RoomJoin,
    "room:leave": RoomRef,
    "room:current": None,
}

#: every server → client event
SERVER_EVENTS = (
    "session:hello",
    "session:revoked",
    "call:incoming",
    "call:update",
    "call:ring_stop",
    "chat:message",
    "chat:receipt",
    "chat:typing",
    "chat:warning",
    "session:meter",
    "session:notice",
    "presence:update",
    "favourite:online",
    "application:decided",
    "review:received",
    "appeal:updated",
    "ticket:updated",
    "booking:updated",
    "booking:reminder",
    "booking:due",
    "server:draining",
    "media:state",
    "media:slots",
    "media:peer",
    "room:update",
    "room:left",
    "room:meter",
    "room:notice",
)
