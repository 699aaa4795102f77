"""Keeping calls in step when nobody acts on them: ring and away time-outs, calls out of step
with their metered session, companions' claims, processes that died, and the drain.

Every process runs this (``signaling.server`` schedules it); the call's row lock makes that safe.
A call changes only through ``CallService``'s one ``apply``, handed in here with what else the
upkeep needs of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy import select

from kernel.clock import Clock
from kernel.errors import DomainError
from metering.errors import SessionEnded, SessionNotFound
from metering.runner import MeteringRunner
from metering.service import MeteringService, Update
from signaling import lifecycle
from signaling.call_rows import OPEN
from signaling.lifecycle import EndReason, Side, Status
from signaling.presence import Presence
from store import Database
from store.models import Call as CallRow
from store.models import MeteredSession

log = structlog.get_logger(__name__)

#: the one place a call changes: ``(call id, event of (row, now ms)) -> view``
Apply = Callable[[str, Callable[[CallRow, int], lifecycle.Event]], Awaitable[dict[str, Any]]]


def ended_by_metering(reason: str) -> EndReason:
    """Why a call ends when metering ended its session first."""
    return EndReason.SERVER_LOST if reason == "server_lost" else EndReason.FUNDS


def _timeouts(row: CallRow, now_ms: int) -> lifecycle.Event:
    if row.status == Status.RINGING:
        return lifecycle.RingTimeout(now_ms)
    return lifecycle.AwayCheck(now_ms)


class CallUpkeep:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        metering: MeteringService,
        runner: MeteringRunner,
        presence: Presence,
        *,
        owner: str,
        apply: Apply,
        end_billing: Callable[[str, str], Awaitable[None]],
        terminate: Callable[[str, EndReason], Awaitable[dict[str, Any]]],
        away: Callable[[str], Awaitable[None]],
    ) -> None:
        self._db = db
        self._clock = clock
        self._metering = metering
        self._runner = runner
        self._presence = presence
        self._owner = owner
        self._apply = apply
        self._end_billing = end_billing
        self._terminate = terminate
        self._away = away

    async def sweep(self, limit: int = 200) -> int:
        """Ring and away time-outs that are due, and calls out of step with their metered
        session.  Safe in every process at once.  Returns how many calls it changed."""
        now = self._clock.now()
        changed = 0
        async with self._db.reading() as s:
            due = (
                await s.scalars(
                    select(CallRow.id)
                    .where(CallRow.status.in_(OPEN), CallRow.check_at <= now)
                    .limit(limit)
                )
            ).all()
            # Ended calls whose billing did not end (the process died between the two).
            unsettled = (
                await s.execute(
                    select(CallRow.id, CallRow.end_reason)
                    .join(MeteredSession, MeteredSession.id == CallRow.id)
                    .where(CallRow.status == "ended", MeteredSession.status != "ended")
                    .limit(limit)
                )
            ).all()
            # Open calls whose billing metering ended (funds past the grace, server lost).
            orphaned = (
                await s.execute(
                    select(CallRow.id, MeteredSession.end_reason)
                    .join(MeteredSession, MeteredSession.id == CallRow.id)
                    .where(CallRow.status.in_(OPEN), MeteredSession.status == "ended")
                    .limit(limit)
                )
            ).all()
        # One call's failure must not stop the others (nor the next sweep).
        for call_id in due:
            try:
                await self._apply(call_id, _timeouts)
                changed += 1
            except DomainError:
                continue
            except Exception:
                log.exception("sweep_timeout_failed", call_id=call_id)
        for call_id, reason in unsettled:
            try:
                await self._end_billing(call_id, reason or "ended")
                changed += 1
            except Exception:
                log.exception("sweep_settle_failed", call_id=call_id)
        for call_id, reason in orphaned:
            try:
                await self._terminate(call_id, ended_by_metering(reason or ""))
                changed += 1
            except Exception:
                log.exception("sweep_end_failed", call_id=call_id)
        return changed

    async def keep_claims(self) -> None:
        """For this process's open calls: keep their companions claimed (Redis claims expire),
        and mark away a side whose every device is gone without a disconnect reaching us (the
        process holding its sockets died: its devices expired in Redis)."""
        async with self._db.reading() as s:
            rows = (
                await s.execute(
                    select(
                        CallRow.id, CallRow.customer_id, CallRow.companion_id, CallRow.state
                    ).where(CallRow.status.in_(OPEN), CallRow.owner == self._owner)
                )
            ).all()
        for call_id, customer_id, companion_id, state in rows:
            # Only extend: re-claiming could take back a companion the call just released.
            await self._presence.keep(companion_id, call_id)
            call = lifecycle.Call.from_json(state)
            for side, user in ((Side.CUSTOMER, customer_id), (Side.COMPANION, companion_id)):
                if call.away_since(side) is None and await self._presence.devices(user) == 0:
                    log.warning("devices_vanished", call_id=call_id, user_id=user)
                    await self._away(user)

    async def settle_lost_owner(self, owner: str, at_ms: int) -> list[str]:
        """The process ``owner`` died, its last heartbeat at ``at_ms``: its active calls (it
        ran their billing clocks) end ``server_lost``, settled as of that moment.  Safe to run
        twice, and from several processes (the row lock and the meter's end decide)."""
        async with self._db.reading() as s:
            ids = (
                await s.scalars(
                    select(CallRow.id).where(
                        CallRow.owner == owner, CallRow.status == Status.ACTIVE.value
                    )
                )
            ).all()
        for call_id in ids:
            try:
                # The meter first, as of the death; the call's own end then finds it ended.
                try:
                    update: Update | None = await self._metering.end(
                        call_id, EndReason.SERVER_LOST.value, at_ms
                    )
                except (SessionEnded, SessionNotFound):
                    update = None
                await self._apply(
                    call_id,
                    lambda row, now: lifecycle.Terminate(EndReason.SERVER_LOST, min(at_ms, now)),
                )
                if update is not None:
                    await self._runner.announce(call_id, update)  # final totals to both sides
                log.warning("call_settled_for_lost_process", call_id=call_id, process=owner)
            except DomainError:
                continue
            except Exception:
                log.exception("lost_process_settle_failed", call_id=call_id)
        return list(ids)

    async def end_owned(self) -> list[str]:
        """End this process's open calls (final billing), for the drain."""
        ids = await self.open_owned()
        for call_id in ids:
            try:
                await self._terminate(call_id, EndReason.DRAIN)
            except DomainError:
                continue
        return ids

    async def open_owned(self) -> list[str]:
        """The ringing and active calls this process owns."""
        async with self._db.reading() as s:
            return list(
                (
                    await s.scalars(
                        select(CallRow.id).where(
                            CallRow.status.in_(OPEN), CallRow.owner == self._owner
                        )
                    )
                ).all()
            )
