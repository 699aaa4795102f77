"""Calls: the shell around the pure lifecycle (``signaling.lifecycle``).

Every event on a call is one database transaction that locks the call's row, runs
``lifecycle.step`` and saves the result; what the step asks for (stop ringing, start, pause or end
billing, free the companion) is carried out after the commit, and both sides are told.  If this
process dies between the commit and those actions, the sweep (``signaling.call_upkeep``, run by
every process) reconciles a call with its metered session: an ended call whose session still
runs is settled, an active call whose session metering ended (no money, server lost) is ended.

Which process does what, with several processes: the one that takes ``call:request`` rings
(``signaling.ringing``, admitted by ``signaling.admission``); the one where the companion accepts
becomes the call's ``owner``: it runs the billing clock (``MeteringRunner``) and keeps the
companion's claim alive in Redis.  Time-outs (ring, away) are found by whichever process sweeps
first; the row lock makes that safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy import select

from accounts.service import Principal
from kernel.clock import Clock
from kernel.events import EventBus
from metering.errors import SessionEnded, SessionNotFound
from metering.meters import MeterKind
from metering.runner import MeteringRunner
from metering.service import MeteringService, Notice, SessionView, Update, from_ms, to_ms
from metering.tariff import Mode
from signaling import lifecycle
from signaling.call_rows import OPEN, load_view, readable_call, side_of
from signaling.call_upkeep import CallUpkeep, ended_by_metering
from signaling.domain_events import CallEnded
from signaling.errors import CallNotFound, CallRefused, NotParticipant
from signaling.lifecycle import EndReason, Side, Status
from signaling.presence import Presence
from signaling.ringing import Ringing
from store import Database
from store.models import Call as CallRow

log = structlog.get_logger(__name__)

_PARTICIPANTS_CACHED = 50_000


class Emitter(Protocol):
    """Where events to clients go (the Socket.IO server, across processes via its manager)."""

    async def to_user(self, user_id: str, event: str, data: dict[str, Any]) -> None: ...

    async def presence_changed(self, user_id: str, status: str) -> None: ...


class Blocks(Protocol):
    """Whether either of two users blocked the other (``moderation.blocks.BlockService``)."""

    async def between(self, a: str, b: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Transition:
    row_id: str
    customer_id: str
    companion_id: str
    mode: str
    before: lifecycle.Call
    after: lifecycle.Call
    actions: list[lifecycle.Action]
    view: dict[str, Any]
    owner: str = ""


class CallService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        metering: MeteringService,
        runner: MeteringRunner,
        presence: Presence,
        emitter: Emitter,
        blocks: Blocks,
        events: EventBus,
        *,
        policy: lifecycle.Policy | None = None,
        owner: str = "local",
    ) -> None:
        self._db = db
        self._clock = clock
        self._metering = metering
        self._runner = runner
        self._presence = self.presence = presence
        self._emit = self.emitter = emitter
        self._blocks = blocks
        self.blocks = blocks  # who may see whom (presence), as well as who may call whom
        self.policy = policy or lifecycle.Policy()
        self.owner = owner
        self.draining = False
        self._participants: dict[str, tuple[str, str]] = {}
        self._status: dict[str, str] = {}
        self._carrying: set[asyncio.Task[None]] = set()
        #: ``CallEnded`` goes here when a call ends (its media room closes, its booking ends, …)
        self._events = events
        #: called with (call id, notice kind) for metering's notices (the relay pauses)
        self.on_notice_hooks: list[Callable[[str, str], Awaitable[None]]] = []
        #: told to both parties when a voice/video call starts (``signaling.call_evidence``)
        self.safety_notice: dict[str, Any] | None = None
        self._ringing = Ringing(
            db,
            clock,
            metering,
            presence,
            emitter,
            blocks,
            policy=self.policy,
            owner=owner,
            draining=lambda: self.draining,
        )
        self._upkeep = CallUpkeep(
            db,
            clock,
            metering,
            runner,
            presence,
            owner=owner,
            apply=self._apply,
            end_billing=self._end_billing,
            terminate=self.terminate,
            away=self.away,
        )

    def now_ms(self) -> int:
        return to_ms(self._clock.now())

    # -- requests (signaling.ringing) -------------------------------------------------------------

    async def request(
        self,
        who: Principal,
        companion_id: str,
        mode: Mode,
        request_key: str,
        *,
        rate_fen_per_min: int | None = None,
        kind: MeterKind = MeterKind.CALL,
    ) -> dict[str, Any]:
        """Ring ``companion_id`` for a ``mode`` session, the first minute reserved; or refuse
        with nothing held.  A resent request (same ``request_key``) returns the same call.
        ``rate_fen_per_min``: a price the server fixed earlier (a booking's), else the
        companion's current one; ``kind``: what the customer's meter bills (a booking's call).
        A customer with an open session (a call, a room seat) is refused ``already_in_call``."""
        return await self._ringing.request(
            who, companion_id, mode, request_key, rate_fen_per_min, kind
        )

    # -- participants' events ---------------------------------------------------------------------

    async def accept(self, who: Principal, call_id: str, device: str) -> dict[str, Any]:
        view = await self._act(
            who, call_id, Side.COMPANION, lambda now: lifecycle.Accept(device, now)
        )
        if view["status"] != Status.ACTIVE:  # it had rung out: the accept timed it out
            raise CallRefused("call_ended", f"the call has ended ({view['end_reason']})")
        return view

    async def decline(self, who: Principal, call_id: str) -> dict[str, Any]:
        return await self._act(who, call_id, Side.COMPANION, lifecycle.Decline)

    async def cancel(self, who: Principal, call_id: str) -> dict[str, Any]:
        return await self._act(who, call_id, Side.CUSTOMER, lifecycle.Cancel)

    async def hangup(self, who: Principal, call_id: str) -> dict[str, Any]:
        return await self._act(who, call_id, None, lambda now, side: lifecycle.Hangup(side, now))

    async def get(self, who: Principal, call_id: str) -> dict[str, Any]:
        async with self._db.reading() as s:
            return await load_view(s, await readable_call(s, who, call_id))

    async def open_call_of(self, user_id: str) -> dict[str, Any] | None:
        """The user's ringing or active call, if any (a reconnecting client resumes it)."""
        async with self._db.reading() as s:
            row = await s.scalar(
                select(CallRow).where(
                    (CallRow.customer_id == user_id) | (CallRow.companion_id == user_id),
                    CallRow.status.in_(OPEN),
                )
            )
            return await load_view(s, row) if row is not None else None

    async def terminate(self, call_id: str, reason: EndReason) -> dict[str, Any]:
        """End a call from outside its participants: metering, moderation, an admin, drain."""
        return await self._apply(call_id, lambda row, now: lifecycle.Terminate(reason, now))

    async def media_flow(self, call_id: str, flowing: bool) -> None:
        """The relay's report on a voice or video call: media now flows both ways (bill), or
        has stopped from one side (pause; both sides are told the peer is reconnecting)."""
        async with self._db.reading() as s:
            owner = await s.scalar(select(CallRow.owner).where(CallRow.id == call_id))
        step = self._metering.media_up if flowing else self._metering.media_down
        try:
            update = await step(call_id)
        except (SessionEnded, SessionNotFound):
            return
        await self._deliver(call_id, update, owner)
        for user in await self.participants(call_id):
            await self._emit.to_user(user, "media:state", {"call_id": call_id, "flowing": flowing})

    async def away(
        self, user_id: str, at_ms: int | None = None, timeout_ms: int | None = None
    ) -> None:
        """Every device of ``user_id`` disconnected: pause their open call's billing, from
        ``at_ms`` (default now; the last heartbeat of the process that held their sockets, if
        it died) — and end the call if they are not back within ``timeout_ms`` (default the
        policy's away time-out)."""

        def away_event(side: Side, now_ms: int) -> lifecycle.Event:
            since = now_ms if at_ms is None else min(at_ms, now_ms)
            return lifecycle.Away(side, since, timeout_ms)

        await self._presence_event(user_id, away_event)

    async def back(self, user_id: str) -> None:
        await self._presence_event(user_id, lifecycle.Back)

    async def _presence_event(
        self, user_id: str, make: Callable[[Side, int], lifecycle.Event]
    ) -> None:
        view = await self.open_call_of(user_id)
        if view is None:
            return
        try:
            await self._apply(
                view["call_id"], lambda row, now: make(side_of(row, user_id) or Side.CUSTOMER, now)
            )
        except CallRefused:
            return

    async def _act(
        self, who: Principal, call_id: str, side: Side | None, make: Callable[..., Any]
    ) -> dict[str, Any]:
        def event(row: CallRow, now: int) -> lifecycle.Event:
            mine = side_of(row, who.user_id)
            if mine is None:
                raise NotParticipant()
            if side is not None and mine is not side:
                raise NotParticipant(f"only the {side.value} may do this")
            made: lifecycle.Event = make(now) if side is not None else make(now, mine)
            return made

        return await self._apply(call_id, event)

    # -- the one place where a call changes -------------------------------------------------------

    async def _apply(
        self, call_id: str, event_of: Callable[[CallRow, int], lifecycle.Event]
    ) -> dict[str, Any]:
        now_ms = self.now_ms()
        async with self._db.writing() as s:
            row = await s.get(CallRow, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound()
            event = event_of(row, now_ms)
            before = lifecycle.Call.from_json(row.state)
            try:
                after, actions = lifecycle.step(before, event, self.policy)
            except lifecycle.CallError as exc:
                raise CallRefused(exc.code, exc.message) from None
            if after != before:
                self._save(row, after, actions)
            view = await load_view(s, row)
            self._remember_status(row.id, row.status)
            t = Transition(
                row.id,
                row.customer_id,
                row.companion_id,
                row.mode,
                before,
                after,
                actions,
                view,
                row.owner,
            )
        if after != before:
            log.info(
                "call_changed",
                call_id=call_id,
                on=type(event).__name__,
                status=after.status.value,
                end_reason=after.end_reason.value if after.end_reason else None,
            )
            # Committed: what it asks for must happen even if the caller's wait is cancelled
            # (a handler time-out, a disconnect), so it runs in a task of its own.
            task = asyncio.create_task(self._carry_out(t), name=f"call-actions-{call_id}")
            self._carrying.add(task)
            task.add_done_callback(self._carrying.discard)
            await asyncio.shield(task)
        return view

    def _save(self, row: CallRow, after: lifecycle.Call, actions: list[lifecycle.Action]) -> None:
        row.state = after.to_json()
        row.status = after.status.value
        deadline = lifecycle.next_deadline_ms(after, self.policy)
        row.check_at = from_ms(deadline) if deadline is not None else None
        if after.accepted_ms is not None and row.accepted_at is None:
            row.accepted_at = from_ms(after.accepted_ms)
            row.owner = self.owner  # the accepting process runs the billing clock
        if after.ended_ms is not None:
            row.ended_at = from_ms(after.ended_ms)
            row.end_reason = after.end_reason.value if after.end_reason else None

    async def _carry_out(self, t: Transition) -> None:
        text = t.mode == Mode.TEXT
        for action in t.actions:
            try:
                match action:
                    case lifecycle.StopRinging():
                        await self._emit.to_user(t.companion_id, "call:ring_stop", t.view)
                    case lifecycle.StartBilling(paused):
                        # Text is connected from accept to end (unless it starts paused: the
                        # customer's return sends media up); voice/video: media reports flow.
                        if text and not paused:
                            update = await self._metering.media_up(t.row_id)
                            await self._deliver(t.row_id, update, t.owner)
                        elif t.owner == self.owner:
                            view = await self._metering.view(t.row_id)
                            self._runner.track(t.row_id, Update(view))
                        if not text and self.safety_notice is not None:
                            # Before any media: the last 2 minutes are kept briefly for safety
                            # reports (``signaling.call_evidence``); both parties are told.
                            notice = {"call_id": t.row_id, **self.safety_notice}
                            for user in (t.customer_id, t.companion_id):
                                await self._emit.to_user(user, "call:safety_notice", notice)
                    case lifecycle.PauseBilling(at_ms):
                        update = await self._metering.media_down(t.row_id, at_ms)
                        await self._deliver(t.row_id, update, t.owner)
                    case lifecycle.ResumeBilling():
                        if text:
                            update = await self._metering.media_up(t.row_id)
                            await self._deliver(t.row_id, update, t.owner)
                    case lifecycle.EndBilling(reason):
                        await self._end_billing(t.row_id, reason.value)
                        await self._events.publish(CallEnded(t.row_id))
                    case lifecycle.ReleaseCompanion():
                        await self._presence.release(t.companion_id, t.row_id)
                        status = (await self._presence.statuses([t.companion_id]))[t.companion_id]
                        await self._emit.presence_changed(t.companion_id, status)
            except (SessionEnded, SessionNotFound):
                continue  # metering ended it already (funds, recovery): nothing to do
            except Exception:
                # The sweep reconciles the call with its metered session later.
                log.exception("call_action_failed", call_id=t.row_id, action=repr(action))
        for user in (t.customer_id, t.companion_id):
            await self._emit.to_user(user, "call:update", t.view)

    async def _end_billing(self, call_id: str, reason: str) -> None:
        try:
            update = await self._metering.end(call_id, reason)
        except SessionEnded:
            self._runner.untrack(call_id)
            return
        await self._deliver(call_id, update)

    async def _deliver(self, call_id: str, update: Update, owner: str | None = None) -> None:
        """Pass a metering update on: the call's owner runs its billing clock; another process
        that applied an event only tells both sides (the owner's runner picks the change up)."""
        if owner is None or owner == self.owner:
            await self._runner.deliver(call_id, update)
        else:
            self._runner.untrack(call_id)
            await self._runner.announce(call_id, update)

    async def participants(self, call_id: str) -> tuple[str, str]:
        """(customer, companion) of a call; they never change, so this process remembers them
        (bounded) and asks the database only once per call."""
        hit = self._participants.get(call_id)
        if hit is not None:
            return hit
        async with self._db.reading() as s:
            row = (
                await s.execute(
                    select(CallRow.customer_id, CallRow.companion_id, CallRow.status).where(
                        CallRow.id == call_id
                    )
                )
            ).first()
        if row is None:
            raise CallNotFound()
        pair = (str(row[0]), str(row[1]))
        if len(self._participants) >= _PARTICIPANTS_CACHED:
            self._participants.pop(next(iter(self._participants)))
        self._participants[call_id] = pair
        self._remember_status(call_id, str(row[2]))
        return pair

    async def media_home(self, call_id: str) -> tuple[str, str, str]:
        """(status, mode, owner) of a call, for media signaling: its room lives on the owner
        (the accepting process).  Read fresh each time: a handful of media messages per call."""
        async with self._db.reading() as s:
            row = (
                await s.execute(
                    select(CallRow.status, CallRow.mode, CallRow.owner).where(CallRow.id == call_id)
                )
            ).first()
        if row is None:
            raise CallNotFound()
        return (str(row[0]), str(row[1]), str(row[2] or ""))

    async def active_status(self, call_id: str) -> str:
        """The call's status for ephemeral things (typing indicators): "active" as this process
        last saw it is trusted (it may have ended elsewhere a moment ago); anything else is read
        again, since another process may have just accepted it."""
        status = self._status.get(call_id)
        if status == Status.ACTIVE:
            return status
        async with self._db.reading() as s:
            fresh = await s.scalar(select(CallRow.status).where(CallRow.id == call_id))
        if fresh is None:
            raise CallNotFound()
        self._remember_status(call_id, fresh)
        return str(fresh)

    def _remember_status(self, call_id: str, status: str) -> None:
        if call_id not in self._status and len(self._status) >= _PARTICIPANTS_CACHED:
            self._status.pop(next(iter(self._status)))
        self._status[call_id] = status

    # -- metering's side --------------------------------------------------------------------------

    async def on_notice(self, call_id: str, notice: Notice) -> None:
        """Metering's notices: paused / resumed / low balance go to both sides; ``ended`` (the
        grace for a top-up ran out, or the session was recovered) ends the call."""
        async with self._db.reading() as s:
            row = await s.get(CallRow, call_id)
        if row is None:
            return
        payload = {"call_id": call_id, "kind": notice.kind, "reason": notice.reason}
        for user in (row.customer_id, row.companion_id):
            await self._emit.to_user(user, "session:notice", payload)
        for hook in self.on_notice_hooks:
            await hook(call_id, notice.kind)
        if notice.kind == "ended" and row.status != Status.ENDED:
            await self.terminate(call_id, ended_by_metering(notice.reason))

    async def on_update(self, call_id: str, update: Update) -> None:
        """Live spend: the customer sees the full view, the companion the billed minutes and
        what they earned so far."""
        try:
            customer_id, companion_id = await self.participants(call_id)
        except CallNotFound:
            return
        for_customer, for_companion = _meters(call_id, update.view)
        await self._emit.to_user(customer_id, "session:meter", for_customer)
        await self._emit.to_user(companion_id, "session:meter", for_companion)

    async def meter_of(self, call_id: str, user_id: str) -> dict[str, Any] | None:
        """The call's ``session:meter`` as ``user_id`` sees it now (a page that connects again
        mid-call shows the spend so far at once), or None when no session bills it yet."""
        try:
            customer_id, _companion_id = await self.participants(call_id)
            view = await self._metering.view(call_id)
        except (CallNotFound, SessionNotFound):
            return None
        for_customer, for_companion = _meters(call_id, view)
        return for_customer if user_id == customer_id else for_companion

    # -- housekeeping (signaling.call_upkeep) -----------------------------------------------------

    async def sweep(self, limit: int = 200) -> int:
        """Ring and away time-outs that are due, and calls out of step with their metered
        session.  Safe in every process at once.  Returns how many calls it changed."""
        return await self._upkeep.sweep(limit)

    async def keep_claims(self) -> None:
        """Keep this process's companions claimed; mark away a side whose devices vanished."""
        await self._upkeep.keep_claims()

    async def settle_lost_owner(self, owner: str, at_ms: int) -> list[str]:
        """The process ``owner`` died, its last heartbeat at ``at_ms``: its active calls end
        ``server_lost``, settled as of that moment (safe twice, and from several processes)."""
        return await self._upkeep.settle_lost_owner(owner, at_ms)

    async def drain(self) -> list[str]:
        """End this process's open calls (final billing); refuse new ones from now on."""
        self.draining = True
        return await self._upkeep.end_owned()

    async def open_owned(self) -> list[str]:
        """The ringing and active calls this process owns."""
        return await self._upkeep.open_owned()


def _meters(call_id: str, v: SessionView) -> tuple[dict[str, Any], dict[str, Any]]:
    """``session:meter`` for the customer (the full view) and for the companion (the billed
    minutes and what they earned so far: never the customer's balance)."""
    return {"call_id": call_id, **v.for_customer()}, {
        "call_id": call_id,
        "status": v.status,
        "rate_fen_per_min": v.rate_fen_per_min,
        "billed_minutes": v.billed_minutes,
        "earned_fen": v.earned_fen,
    }
