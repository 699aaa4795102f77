"""Group voice rooms as signaling sees them: the interface its handlers use
(``market.voicerooms.service.VoiceRoomService`` implements it; the voicerooms package's setup
registers it with ``Signaling.serve_group_rooms``), and how a room's id is told from a call's."""

from __future__ import annotations

from typing import Any, Protocol

from accounts.service import Principal
from signaling.ids import ClientKey, RoomId

#: a group voice room's id starts so (``media:*`` events serve rooms and 1:1 calls)
ROOM_PREFIX = "vr_"


class GroupRooms(Protocol):
    """Group voice rooms as the handlers need them (``voicerooms.service.VoiceRoomService``)."""

    async def join(
        self, who: Principal, room_id: RoomId, request_key: ClientKey
    ) -> dict[str, Any]: ...

    async def leave(self, who: Principal, room_id: RoomId) -> dict[str, Any]: ...

    async def current(self, user_id: str) -> dict[str, Any] | None: ...

    async def media_home(self, who: Principal, room_id: RoomId) -> str:
        """The process holding the room's media, if ``who`` is in the open room."""
        ...

    async def participants(self, room_id: RoomId) -> list[str]: ...

    async def away(self, user_id: str, at_ms: int | None = None) -> None: ...

    async def back(self, user_id: str) -> None: ...

    async def settle_lost_owner(self, owner: str, at_ms: int) -> list[str]: ...
