"""Text chat in a group voice room: the ``roomchat:*`` events.

Every message goes through 1:1 chat's machinery, not a copy of it: the per-user rate limit
(``signaling.limits``, the chat settings), the chat mute (``accounts`` sanctions), the same
moderation hook (``signaling.chat.Moderation``: the detector with the sender's recent messages
in this room), the same safety flags (``SAFETY_FLAGS``; who in the room hears each is
``ROOM_AUDIENCE``: "other" is everyone but the sender) and the same admin
queue (``ForReview``, the room's id in ``call_id``).

What a room is, and who sits in it, is the voicerooms package's (``RoomTranscript``, registered
with ``RoomChat.serve``): it numbers each message from the room's own counter under the room's
row lock, so a room's messages are gap-free and ordered whichever process stored them, and it
decides what each person may read (the host: the whole chat while the room is open; a member:
what was said since they took their seat, while they sit; admins: all, read-only).  Only the
host and the seated members write; there are no listeners.

Delivery goes to every device of the host and of each seated member (the Socket.IO manager
carries it to other processes), the sender's too, except to people blocked either way with the
sender: they neither get the message nor find it in their history.  Messages of one room sent
on several processes at once may arrive out of order: clients order them by ``seq`` and catch up
with ``roomchat:history {after_seq}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from accounts.service import Principal
from kernel.errors import CodedError, RateLimited
from signaling.chat import SAFETY_FLAGS, ForReview, Moderation
from signaling.errors import MessageBlocked
from signaling.events import handles
from signaling.ids import ClientKey, RoomId, SocketId
from signaling.limits import RateLimiter
from signaling.protocol import (
    RoomChatHistory,
    RoomChatPageAck,
    RoomChatSend,
    RoomChatSendAck,
)

log = structlog.get_logger(__name__)

#: who in the room is told of each safety flag: ``minor`` everyone (a reminder that minors may
#: not use the platform), the others everyone but the sender (the people being protected)
ROOM_AUDIENCE = {"minor": "all", "upsell_banner": "other", "sexual_warning": "other"}


@dataclass(frozen=True, slots=True)
class Seat:
    """``who`` may write in the room now: who hears it (the host and the seated members, in
    that order), and the message they sent already with this ``client_id`` (a resend)."""

    audience: tuple[str, ...]
    stored: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Appended:
    """A message stored: its view, and who was in the room when it was numbered."""

    message: dict[str, Any]
    audience: tuple[str, ...]


class RoomTranscript(Protocol):
    """A room's chat as the voicerooms package keeps it (``voicerooms.chat.RoomTranscript``).
    Each refuses with the rooms' codes: ``room_not_found`` (no such room, or a block between
    you and its host), ``room_closed``, ``not_member``."""

    async def seat(self, who: Principal, room_id: RoomId, client_id: ClientKey) -> Seat: ...

    async def append(
        self, who: Principal, room_id: RoomId, client_id: ClientKey, text: str, action: str
    ) -> Appended:
        """Store one message under the room's lock (a resend returns the first): checked again
        there, so a member removed meanwhile is refused."""
        ...

    async def page(
        self,
        who: Principal,
        room_id: RoomId,
        *,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
    ) -> RoomChatPageAck: ...


#: who of the people in the room some of them are hidden from (blocked either way)
HiddenAmong = Callable[[str, Sequence[str]], Awaitable[set[str]]]


class RoomChat:
    """The ``roomchat:*`` handlers (a holder of ``@handles`` methods, as ``MediaEvents``)."""

    def __init__(
        self,
        emitter: Any,
        moderation: Moderation,
        limiter: RateLimiter,
        hidden_among: HiddenAmong,
        may_send: Callable[[str], Awaitable[None]],
    ) -> None:
        self._emit = emitter
        self._moderation = moderation
        self._limiter = limiter
        self._hidden_among = hidden_among
        #: raises (a mute in force) when the sender may not chat now
        self._may_send = may_send
        self._transcript: RoomTranscript | None = None
        #: called for each message moderation queues for an admin (``ForReview``)
        self.on_review: list[Callable[[ForReview], Awaitable[None]]] = []

    def serve(self, transcript: RoomTranscript) -> None:
        """Serve room chat with the voicerooms package's transcript (its setup registers it)."""
        self._transcript = transcript

    def _rooms(self) -> RoomTranscript:
        if self._transcript is None:
            raise CodedError("rooms_unavailable", "this server has no voice rooms")
        return self._transcript

    @handles("roomchat:send", RoomChatSend)
    async def _send(self, who: Principal, sid: SocketId, p: RoomChatSend) -> RoomChatSendAck:
        return {"message": await self.send(who, p.room_id, p.client_id, p.text)}

    @handles("roomchat:history", RoomChatHistory)
    async def _history(self, who: Principal, sid: SocketId, p: RoomChatHistory) -> RoomChatPageAck:
        return await self._rooms().page(
            who, p.room_id, after_seq=p.after_seq, before_seq=p.before_seq, limit=p.limit
        )

    async def send(
        self, who: Principal, room_id: RoomId, client_id: ClientKey, text: str
    ) -> dict[str, Any]:
        """Check, moderate, store and deliver one message; the stored message (a resend
        returns the first, delivered once)."""
        rooms = self._rooms()
        if not self._limiter.allow(f"roomchat:{who.user_id}"):
            raise RateLimited("you are sending messages too fast; wait a moment")
        seat = await rooms.seat(who, room_id, client_id)  # a non-member is refused here
        if seat.stored is not None:
            return seat.stored
        await self._may_send(who.user_id)
        verdict = await self._moderation.review(who, room_id, text)
        if verdict.action == "block":
            log.info(
                "room_message_blocked",
                room_id=room_id,
                user_id=who.user_id,
                categories=verdict.categories,
            )
            await self._tell_safety(who, room_id, seat.audience, None, verdict.flags)
            if verdict.queue:  # stopped, and an admin looks all the same (sexual content, …)
                await self._queue(
                    ForReview(
                        room_id, who.user_id, None, verdict.categories, verdict.priority, text
                    )
                )
            raise MessageBlocked(verdict.reason or None, categories=list(verdict.categories))
        added = await rooms.append(who, room_id, client_id, verdict.text, verdict.action)
        view, seq = added.message, added.message["seq"]
        hidden = await self._hidden_among(who.user_id, added.audience)
        for user in added.audience:
            if user not in hidden:
                await self._emit.to_user(user, "roomchat:message", view)
        await self._tell_safety(who, room_id, added.audience, seq, verdict.flags, hidden)
        if verdict.warn:
            for user in added.audience:
                if user != who.user_id and user not in hidden:
                    await self._emit.to_user(
                        user,
                        "roomchat:warning",
                        {"room_id": room_id, "seq": seq, "categories": list(verdict.categories)},
                    )
        if verdict.action == "review":
            await self._queue(
                ForReview(room_id, who.user_id, seq, verdict.categories, verdict.priority)
            )
        return view

    async def _queue(self, item: ForReview) -> None:
        for hook in self.on_review:
            try:
                await hook(item)
            except Exception:
                log.exception("room_review_queue_failed", room_id=item.call_id)

    async def _tell_safety(
        self,
        who: Principal,
        room_id: str,
        audience: Sequence[str],
        seq: int | None,
        flags: tuple[str, ...],
        hidden: set[str] | None = None,
    ) -> None:
        """``roomchat:safety`` for each flag moderation raised on a message (``seq``, or
        ``None`` for a blocked one): to everyone in the room, or to everyone but the sender."""
        if not flags:
            return
        if hidden is None:
            hidden = await self._hidden_among(who.user_id, audience)
        for flag in flags:
            told = ROOM_AUDIENCE.get(flag) if flag in SAFETY_FLAGS else None
            if told is None:
                log.warning("unknown_safety_flag", flag=flag)
                continue
            for user in audience:
                if user in hidden or (told == "other" and user == who.user_id):
                    continue
                await self._emit.to_user(
                    user, "roomchat:safety", {"room_id": room_id, "seq": seq, "flag": flag}
                )
