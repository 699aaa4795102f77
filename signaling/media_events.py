"""The ``media:*`` socket events: WebRTC negotiation with the relay (offer, candidate), mute
state, and the ICE servers, for an active voice/video call or an open group voice room.

A call's or room's media lives on its owner process; ``signaling.media_route`` carries the
request there.  ``call_id`` is a room id (``vr_…``) for the host and the members of a room.
"""

from __future__ import annotations

from collections.abc import Callable

import socketio

from accounts.service import Principal
from kernel.errors import CodedError
from signaling.calls import CallService
from signaling.errors import NotChatting, NotParticipant
from signaling.events import handles
from signaling.group_rooms import ROOM_PREFIX, GroupRooms
from signaling.ids import MediaTarget, RoomId, SocketId
from signaling.media_route import MediaRoute
from signaling.protocol import (
    Done,
    MediaAnswerAck,
    MediaCandidate,
    MediaConfigAck,
    MediaMute,
    MediaOffer,
    MediaRef,
)


class MediaEvents:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        calls: CallService,
        media: MediaRoute | None,
        group: Callable[[], GroupRooms],
    ) -> None:
        self.sio = sio
        self.calls = calls
        self.media = media
        #: the group voice rooms, or the ``rooms_unavailable`` refusal
        self._group = group

    async def _media_call(self, who: Principal, call_id: MediaTarget) -> tuple[str, str]:
        """(mode, owner) of an active voice/video call ``who`` takes part in, or of an open
        voice room ``who`` hosts or is a member of."""
        if call_id.startswith(ROOM_PREFIX):
            owner = await self._group().media_home(who, RoomId(call_id))
            if self.media is None:
                raise CodedError("media_unavailable", "this server does not relay media")
            return "voice", owner
        if who.user_id not in await self.calls.participants(call_id):
            raise NotParticipant()
        status, mode, owner = await self.calls.media_home(call_id)
        if status != "active":
            raise NotChatting("media can be negotiated only once the call is accepted")
        if mode not in ("voice", "video"):
            raise CodedError("not_a_media_call", "this is a text session")
        if self.media is None:
            raise CodedError("media_unavailable", "this server does not relay media")
        return mode, owner

    @handles("media:offer", MediaOffer)
    async def offer(self, who: Principal, sid: SocketId, p: MediaOffer) -> MediaAnswerAck:
        mode, owner = await self._media_call(who, p.call_id)
        assert self.media is not None
        answer = await self.media.call(
            owner, "answer", call_id=p.call_id, mode=mode, user_id=who.user_id, sdp=p.sdp
        )
        return {"sdp": answer["sdp"], "type": "answer"}

    @handles("media:candidate", MediaCandidate)
    async def candidate(self, who: Principal, sid: SocketId, p: MediaCandidate) -> Done:
        mode, owner = await self._media_call(who, p.call_id)
        assert self.media is not None
        await self.media.call(
            owner,
            "candidate",
            call_id=p.call_id,
            mode=mode,
            user_id=who.user_id,
            candidate=p.candidate,
            sdp_mid=p.sdp_mid,
            sdp_mline_index=p.sdp_mline_index,
            ufrag=p.ufrag,
        )
        return {}

    @handles("media:mute", MediaMute)
    async def mute(self, who: Principal, sid: SocketId, p: MediaMute) -> Done:
        _, owner = await self._media_call(who, p.call_id)
        assert self.media is not None
        await self.media.call(
            owner, "mute", call_id=p.call_id, user_id=who.user_id, audio=p.audio, video=p.video
        )
        state = {"call_id": p.call_id, "user_id": who.user_id, "audio": p.audio, "video": p.video}
        peers = (
            await self._group().participants(RoomId(p.call_id))
            if p.call_id.startswith(ROOM_PREFIX)
            else await self.calls.participants(p.call_id)
        )
        for user in peers:
            if user != who.user_id:
                await self.sio.emit("media:peer", state, room=f"user:{user}")
        return {}

    @handles("media:config", MediaRef)
    async def config(self, who: Principal, sid: SocketId, p: MediaRef) -> MediaConfigAck:
        """The ICE servers for this call's peer connection, with TURN credentials for ``who``
        (while it rings, too: a client may prepare its connection before the answer), or for
        an open voice room ``who`` is in."""
        if p.call_id.startswith(ROOM_PREFIX):
            await self._group().media_home(who, RoomId(p.call_id))
        else:
            if who.user_id not in await self.calls.participants(p.call_id):
                raise NotParticipant()
            status, mode, _ = await self.calls.media_home(p.call_id)
            if status not in ("ringing", "active"):
                raise CodedError("call_ended", "this call has ended")
            if mode not in ("voice", "video"):
                raise CodedError("not_a_media_call", "this is a text session")
        ice = self.media.rooms.ice if self.media is not None else None
        if ice is None:
            raise CodedError("media_unavailable", "this server does not relay media")
        now_s = self.calls.now_ms() // 1000
        return {"ice_servers": ice.client_servers(who.user_id, now_s), "ttl_s": ice.turn_ttl_s}
