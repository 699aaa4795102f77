"""What this process does when another one died, or when it was itself found dead
(``signaling.liveness.ProcessWatch`` finds both and calls these).

- a user whose only devices were on the dead process is away as of its last heartbeat, with a
  short grace to come back through another process (their call, their room seat);
- the sessions the dead process owned are settled as of that moment (calls, rooms);
- a process that was only slow and got reaped counts its sockets again.
"""

from __future__ import annotations

from collections.abc import Callable

from kernel.settings import Settings
from signaling.calls import CallService
from signaling.group_rooms import GroupRooms
from signaling.presence import Presence


class ProcessLoss:
    def __init__(
        self,
        settings: Settings,
        calls: CallService,
        presence: Presence,
        *,
        local: dict[str, set[str]],
        voice_rooms: Callable[[], GroupRooms | None],
    ) -> None:
        self.settings = settings
        self.calls = calls
        self.presence = presence
        self._local = local  # user id → sids on this process (``Logins.local``)
        self._voice_rooms = voice_rooms

    async def user_lost(self, user_id: str, at_ms: int) -> None:
        """``user_id``'s only devices were on a process that died (its last heartbeat at
        ``at_ms``): away from then, with the short grace to come back through another."""
        grace_ms = int(self.settings.process_lost_grace_s * 1000)
        await self.calls.away(user_id, at_ms, grace_ms)
        rooms = self._voice_rooms()
        if rooms is not None:
            await rooms.away(user_id, at_ms)
        status = (await self.presence.statuses([user_id]))[user_id]
        await self.calls.emitter.presence_changed(user_id, status)

    async def process_lost(self, process: str, at_ms: int) -> None:
        await self.calls.settle_lost_owner(process, at_ms)
        rooms = self._voice_rooms()
        if rooms is not None:
            await rooms.settle_lost_owner(process, at_ms)

    async def revived(self) -> None:
        """This process was silent long enough to be found dead (and its devices reaped):
        its sockets count again, and users it brought back are back."""
        for user_id, sids in list(self._local.items()):
            counts = [await self.presence.device_up(user_id, sid) for sid in list(sids)]
            if counts and min(counts) == 1:
                await self.calls.back(user_id)
                rooms = self._voice_rooms()
                if rooms is not None:
                    await rooms.back(user_id)
