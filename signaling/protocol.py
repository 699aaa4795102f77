"""The payload of every client → server Socket.IO event (validated with pydantic, strictly: no
unknown fields, no coercion).  ``docs/protocol.md`` documents them with the server → client
events; a test keeps the two in step."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from pydantic import Field, StringConstraints, model_validator

from accounts.ids import UserId
from kernel.http.models import Strict
from signaling.ids import (
    CALL_ID_PATTERN,
    MEDIA_TARGET_PATTERN,
    ROOM_ID_PATTERN,
    CallId,
    ClientKey,
    MediaTarget,
    RoomId,
)

# The ids as they enter: checked against their pattern, then typed (``signaling.ids``).
CallIdField = Annotated[CallId, StringConstraints(pattern=CALL_ID_PATTERN)]
RoomIdField = Annotated[RoomId, StringConstraints(pattern=ROOM_ID_PATTERN)]
#: media signaling serves a 1:1 call or a group voice room (``vr_…``)
MediaTargetField = Annotated[MediaTarget, StringConstraints(pattern=MEDIA_TARGET_PATTERN)]
UserIdField = Annotated[
    UserId, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
]
ClientKeyField = Annotated[
    ClientKey, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
]
Seq = Annotated[int, Field(ge=0, le=2**31 - 1)]


class PresenceSet(Strict):
    accepting: bool


class PresenceWatch(Strict):
    user_ids: Annotated[list[UserIdField], Field(min_length=1, max_length=50)]


class CallRequest(Strict):
    companion_id: UserIdField
    mode: Literal["text", "voice", "video"]
    #: the client's idempotency key: a resent request returns the same call
    request_id: ClientKeyField


class CallRef(Strict):
    call_id: CallIdField


class ChatSend(Strict):
    call_id: CallIdField
    #: the client's id of this message: a resend is stored and delivered once
    client_id: ClientKeyField
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class ChatHistory(Strict):
    call_id: CallIdField
    after_seq: Seq | None = None
    before_seq: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def one_cursor(self) -> ChatHistory:
        if self.after_seq is not None and self.before_seq is not None:
            raise ValueError("give after_seq or before_seq, not both")
        return self


class ChatMark(Strict):
    call_id: CallIdField
    seq: Seq


class MediaOffer(Strict):
    call_id: MediaTargetField
    #: the client's SDP offer, with its candidates (no trickle yet)
    sdp: Annotated[str, Field(min_length=10, max_length=60_000)]


class MediaCandidate(Strict):
    call_id: MediaTargetField
    #: an ``a=candidate`` value as the browser gives it (``candidate:…``); null or "" ends them
    candidate: Annotated[str, Field(max_length=1_000)] | None
    sdp_mid: Annotated[str, Field(max_length=32)] | None = None
    sdp_mline_index: Annotated[int, Field(ge=0, le=63)] | None = None
    #: the ICE ufrag of the offer it belongs to (a candidate may overtake a new offer)
    ufrag: Annotated[str, Field(max_length=256)] | None = None


class MediaMute(Strict):
    call_id: MediaTargetField
    audio: bool
    video: bool


class MediaRef(Strict):
    call_id: MediaTargetField


class RoomJoin(Strict):
    room_id: RoomIdField
    #: the client's idempotency key: a resent join returns the same membership
    request_id: ClientKeyField


class RoomRef(Strict):
    room_id: RoomIdField


#: a room message's length at most (a 1:1 message may be longer: a room is a group's talk)
ROOM_MESSAGE_MAX_CHARS = 500


class RoomChatSend(Strict):
    room_id: RoomIdField
    #: the client's id of this message: a resend is stored and delivered once
    client_id: ClientKeyField
    text: Annotated[str, Field(min_length=1, max_length=ROOM_MESSAGE_MAX_CHARS)]

    @model_validator(mode="after")
    def not_blank(self) -> RoomChatSend:
        if not self.text.strip():
            raise ValueError("text is blank")
        return self


class RoomChatHistory(Strict):
    room_id: RoomIdField
    after_seq: Seq | None = None
    before_seq: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def one_cursor(self) -> RoomChatHistory:
        if self.after_seq is not None and self.before_seq is not None:
            raise ValueError("give after_seq or before_seq, not both")
        return self


# -- acks: what a handler answers (the server adds ``"ok": true``) ----------------------------

#: a view the service builds (a call, a message, a room, an ICE server): a JSON object
View = dict[str, object]
#: ``{customer: {delivered, read}, companion: {delivered, read}}``
Receipts = dict[str, dict[str, int]]


class Done(TypedDict):
    """An ack with nothing but ``ok``."""


class PresenceSetAck(TypedDict):
    status: str


class PresenceWatchAck(TypedDict):
    statuses: dict[str, str]


class CallAck(TypedDict):
    call: View


class OpenCallAck(TypedDict):
    call: View | None


class ChatSendAck(TypedDict):
    message: View
    #: what moderation found in it (``mask``: why parts were replaced), for the sender's eyes
    categories: list[str]


class ChatPageAck(TypedDict):
    call_id: str
    messages: list[View]
    last_seq: int
    receipts: Receipts


class ChatReceiptsAck(TypedDict):
    call_id: str
    receipts: Receipts


class ChatTypingAck(TypedDict):
    call_id: str


class MediaAnswerAck(TypedDict):
    sdp: str
    type: Literal["answer"]


class MediaConfigAck(TypedDict):
    ice_servers: list[View]
    ttl_s: int


class RoomJoinAck(TypedDict):
    room: View
    session_id: str


class RoomAck(TypedDict):
    room: View


class OpenRoomAck(TypedDict):
    room: View | None


class RoomChatSendAck(TypedDict):
    message: View


class RoomChatPageAck(TypedDict):
    room_id: str
    messages: list[View]
    #: the room's last seq (the messages of people blocked either way with you are left out)
    last_seq: int
    #: what you may read starts after this seq (where the chat stood when you sat down)
    from_seq: int


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
    "roomchat:send": RoomChatSend,
    "roomchat:history": RoomChatHistory,
}

#: every server → client event
SERVER_EVENTS = (
    "session:hello",
    "session:revoked",
    "call:incoming",
    "call:update",
    "call:ring_stop",
    "call:safety_notice",
    "chat:message",
    "chat:receipt",
    "chat:typing",
    "chat:warning",
    "chat:safety",
    "session:meter",
    "session:notice",
    "session:fair",
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
    "roomchat:message",
    "roomchat:safety",
    "roomchat:warning",
)
