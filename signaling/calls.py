"""Calls: the shell around the pure lifecycle (``signaling.lifecycle``).

Every event on a call is one database transaction that locks the call's row, runs
``lifecycle.step`` and saves the result; what the step asks for (stop ringing, start, pause or end
billing, free the companion) is carried out after the commit, and both sides are told.  If this
process dies between the commit and those actions, the sweep (``sweep``, run by every process)
reconciles a call with its metered session: an ended call whose session still runs is settled,
an active call whose session metering ended (no money, server lost) is ended.

Which process does what, with several processes: the one that takes ``call:request`` rings;
the one where the companion accepts becomes the call's ``owner``: it runs the billing clock
(``MeteringRunner``) and keeps the companion's claim alive in Redis.  Time-outs (ring, away) are
found by whichever process sweeps first; the row lock makes that safe.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.roles import Role
from accounts.service import Principal
from kernel.clock import Clock
from kernel.errors import DomainError
from metering.errors import SessionEnded, SessionNotFound
from metering.meters import MeterKind
from metering.runner import MeteringRunner
from metering.service import MeteringService, Notice, Update, from_ms, to_ms
from metering.tariff import Mode
from signaling import lifecycle
from signaling.errors import (
    AlreadyInCall,
    Blocked,
    CallNotFound,
    CallRefused,
    CompanionBusy,
    CompanionOffline,
    Draining,
    NotCallable,
    NotParticipant,
)
from signaling.lifecycle import EndReason, Side, Status
from signaling.presence import ONLINE, Presence
from store import Database
from store.models import Call as CallRow
from store.models import MeteredSession, User
from store.models.voicerooms import VoiceRoomMember

log = structlog.get_logger(__name__)

_OPEN = (Status.RINGING.value, Status.ACTIVE.value)
_PARTICIPANTS_CACHED = 50_000


class Emitter(Protocol):
    """Where events to clients go (the Socket.IO server, across processes via its manager)."""

    async def to_user(self, user_id: str, event: str, data: dict[str, Any]) -> None: ...

    async def presence_changed(self, user_id: str, status: str) -> None: ...


class Blocks(Protocol):
    """Whether either of two users blocked the other (``moderation.blocks.BlockService``)."""

    async def between(self, a: str, b: str) -> bool: ...


def side_of(row: CallRow, user_id: str) -> Side | None:
    if user_id == row.customer_id:
        return Side.CUSTOMER
    if user_id == row.companion_id:
        return Side.COMPANION
    return None


async def readable_call(s: Any, who: Principal, call_id: str) -> CallRow:
    """The call, for a participant or an admin (read-only); else a refusal."""
    row: CallRow | None = await s.get(CallRow, call_id)
    if row is None:
        raise CallNotFound()
    if side_of(row, who.user_id) is None and who.role is not Role.ADMIN:
        raise NotParticipant()
    return row


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
        self._requests: dict[str, asyncio.Lock] = {}
        self._participants: dict[str, tuple[str, str]] = {}
        self._status: dict[str, str] = {}
        self._carrying: set[asyncio.Task[None]] = set()
        #: called with the call id when a call ends (the media relay closes its room)
        self.on_end: list[Callable[[str], Awaitable[None]]] = []
        #: called with (call id, notice kind) for metering's notices (the relay pauses)
        self.on_notice_hooks: list[Callable[[str, str], Awaitable[None]]] = []

    def now_ms(self) -> int:
        return to_ms(self._clock.now())

    # -- requests ---------------------------------------------------------------------------

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
        # One request of a customer at a time in this process, so that a resend waits for the
        # first and finds its call (across processes, the unique request key decides).
        lock = self._requests.setdefault(who.user_id, asyncio.Lock())
        try:
            async with lock:
                return await self._request(
                    who, companion_id, mode, request_key, rate_fen_per_min, kind
                )
        finally:
            if not lock.locked() and not lock._waiters:
                self._requests.pop(who.user_id, None)

    async def _request(
        self,
        who: Principal,
        companion_id: str,
        mode: Mode,
        request_key: str,
        rate_fen_per_min: int | None = None,
        kind: MeterKind = MeterKind.CALL,
    ) -> dict[str, Any]:
        async with self._db.reading() as s:
            existing = await s.scalar(
                select(CallRow).where(
                    CallRow.customer_id == who.user_id, CallRow.request_key == request_key
                )
            )
            if existing is not None:
                return await self._view(s, existing)
            companion = await s.get(User, companion_id)
            mine = await s.scalar(
                select(CallRow.id).where(
                    CallRow.customer_id == who.user_id, CallRow.status.in_(_OPEN)
                )
            )
            # A seat in a group voice room is an open session too: one meter at a time.  (These
            # are the early, friendly refusals; metering's row per customer is the guarantee.)
            seated = await s.scalar(
                select(VoiceRoomMember.id).where(
                    VoiceRoomMember.user_id == who.user_id, VoiceRoomMember.status == "joined"
                )
            )
        if self.draining:
            raise Draining()
        if who.role is not Role.CUSTOMER:
            raise NotCallable("only customers can request sessions")
        if companion is None or companion.role != Role.COMPANION or companion_id == who.user_id:
            raise NotCallable()
        if mine is not None or seated is not None:
            raise AlreadyInCall()
        if await self._blocks.between(who.user_id, companion_id):
            raise Blocked()
        status = (await self._presence.statuses([companion_id]))[companion_id]
        if status != ONLINE:
            raise CompanionBusy() if status == "busy" else CompanionOffline()
        call_id = "call_" + uuid.uuid4().hex
        if await self._presence.claim(companion_id, call_id) != call_id:
            raise CompanionBusy()
        try:
            return await self._ring(
                who, companion_id, mode, request_key, call_id, rate_fen_per_min, kind
            )
        except BaseException:
            async with self._db.reading() as s:
                stored = await s.get(CallRow, call_id)
            if stored is None:  # the call was never written: nothing holds the companion
                await self._presence.release(companion_id, call_id)
            raise

    async def _ring(
        self,
        who: Principal,
        companion_id: str,
        mode: Mode,
        request_key: str,
        call_id: str,
        rate_fen_per_min: int | None = None,
        kind: MeterKind = MeterKind.CALL,
    ) -> dict[str, Any]:
        now = self._clock.now()
        state = lifecycle.ringing(to_ms(now), self.policy)
        # Reserve minute 1 first: no money, no ringing (and nothing written by a refusal).  A
        # customer whose meter is open (a racing call or room seat) is refused here,
        # ``MeterBusy``: ``already_in_call``.
        opened = await self._metering.open_session(
            call_id, who.user_id, companion_id, mode, rate_fen_per_min=rate_fen_per_min, kind=kind
        )
        try:
            return await self._store_ringing(
                who, companion_id, mode, request_key, call_id, opened, state, now
            )
        except BaseException:
            # Whatever stopped the call being written, minute 1 must not stay held (if the call
            # was written after all, the sweep settles it with the call).
            async with self._db.reading() as s:
                written = await s.get(CallRow, call_id)
            if written is None:
                await asyncio.shield(self._metering.end(call_id, EndReason.UNFUNDED.value))
            raise

    async def _store_ringing(
        self,
        who: Principal,
        companion_id: str,
        mode: Mode,
        request_key: str,
        call_id: str,
        opened: Any,
        state: lifecycle.Call,
        now: Any,
    ) -> dict[str, Any]:
        try:
            async with self._db.writing() as s:
                row = CallRow(
                    id=call_id,
                    customer_id=who.user_id,
                    companion_id=companion_id,
                    request_key=request_key,
                    mode=mode.value,
                    rate_fen_per_min=opened.rate_fen_per_min,
                    status=state.status.value,
                    state=state.to_json(),
                    check_at=from_ms(state.ring_deadline_ms),
                    owner=self.owner,
                    created_at=now,
                )
                s.add(row)
                await s.flush()
                view = await self._view(s, row)
        except IntegrityError:
            async with self._db.reading() as s:
                again = await s.scalar(
                    select(CallRow).where(
                        CallRow.customer_id == who.user_id, CallRow.request_key == request_key
                    )
                )
                if again is not None:  # the same request, sent twice at once
                    return await self._view(s, again)
                mine = await s.scalar(
                    select(CallRow.id).where(
                        CallRow.customer_id == who.user_id, CallRow.status.in_(_OPEN)
                    )
                )
            raise AlreadyInCall() if mine else CompanionBusy() from None
        log.info("call_ringing", call_id=call_id, mode=mode.value, user_id=who.user_id)
        await self._emit.presence_changed(companion_id, "busy")
        await self._emit.to_user(companion_id, "call:incoming", view)
        await self._emit.to_user(who.user_id, "call:update", view)
        return view

    # -- participants' events ---------------------------------------------------------------

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
            return await self._view(s, await readable_call(s, who, call_id))

    async def open_call_of(self, user_id: str) -> dict[str, Any] | None:
        """The user's ringing or active call, if any (a reconnecting client resumes it)."""
        async with self._db.reading() as s:
            row = await s.scalar(
                select(CallRow).where(
                    (CallRow.customer_id == user_id) | (CallRow.companion_id == user_id),
                    CallRow.status.in_(_OPEN),
                )
            )
            return await self._view(s, row) if row is not None else None

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

    # -- the one place where a call changes ---------------------------------------------------

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
            view = await self._view(s, row)
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
                    case lifecycle.PauseBilling(at_ms):
                        update = await self._metering.media_down(t.row_id, at_ms)
                        await self._deliver(t.row_id, update, t.owner)
                    case lifecycle.ResumeBilling():
                        if text:
                            update = await self._metering.media_up(t.row_id)
                            await self._deliver(t.row_id, update, t.owner)
                    case lifecycle.EndBilling(reason):
                        await self._end_billing(t.row_id, reason.value)
                        for hook in self.on_end:
                            await hook(t.row_id)
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

    # -- metering's side ----------------------------------------------------------------------

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
            await self.terminate(call_id, _ended_by_metering(notice.reason))

    async def on_update(self, call_id: str, update: Update) -> None:
        """Live spend: the customer sees the full view, the companion the billed minutes and
        what they earned so far."""
        v = update.view
        try:
            customer_id, companion_id = await self.participants(call_id)
        except CallNotFound:
            return
        await self._emit.to_user(
            customer_id,
            "session:meter",
            {"call_id": call_id, **v.for_customer()},
        )
        await self._emit.to_user(
            companion_id,
            "session:meter",
            {
                "call_id": call_id,
                "status": v.status,
                "rate_fen_per_min": v.rate_fen_per_min,
                "billed_minutes": v.billed_minutes,
                "earned_fen": v.earned_fen,
            },
        )

    # -- housekeeping -----------------------------------------------------------------------

    async def sweep(self, limit: int = 200) -> int:
        """Ring and away time-outs that are due, and calls out of step with their metered
        session.  Safe in every process at once.  Returns how many calls it changed."""
        now = self._clock.now()
        changed = 0
        async with self._db.reading() as s:
            due = (
                await s.scalars(
                    select(CallRow.id)
                    .where(CallRow.status.in_(_OPEN), CallRow.check_at <= now)
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
                    .where(CallRow.status.in_(_OPEN), MeteredSession.status == "ended")
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
                await self.terminate(call_id, _ended_by_metering(reason or ""))
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
                    ).where(CallRow.status.in_(_OPEN), CallRow.owner == self.owner)
                )
            ).all()
        for call_id, customer_id, companion_id, state in rows:
            # Only extend: re-claiming could take back a companion the call just released.
            await self._presence.keep(companion_id, call_id)
            call = lifecycle.Call.from_json(state)
            for side, user in ((Side.CUSTOMER, customer_id), (Side.COMPANION, companion_id)):
                if call.away_since(side) is None and await self._presence.devices(user) == 0:
                    log.warning("devices_vanished", call_id=call_id, user_id=user)
                    await self.away(user)

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

    async def drain(self) -> list[str]:
        """End this process's open calls (final billing); refuse new ones from now on."""
        self.draining = True
        ids = await self.open_owned()
        for call_id in ids:
            try:
                await self.terminate(call_id, EndReason.DRAIN)
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
                            CallRow.status.in_(_OPEN), CallRow.owner == self.owner
                        )
                    )
                ).all()
            )

    # -- views -------------------------------------------------------------------------------

    async def _view(self, s: Any, row: CallRow) -> dict[str, Any]:
        names = dict(
            (
                await s.execute(
                    select(User.id, User.nickname).where(
                        User.id.in_([row.customer_id, row.companion_id])
                    )
                )
            ).all()
        )
        return call_view(row, names)


def _ended_by_metering(reason: str) -> EndReason:
    """Why a call ends when metering ended its session first."""
    return EndReason.SERVER_LOST if reason == "server_lost" else EndReason.FUNDS


def _timeouts(row: CallRow, now_ms: int) -> lifecycle.Event:
    if row.status == Status.RINGING:
        return lifecycle.RingTimeout(now_ms)
    return lifecycle.AwayCheck(now_ms)


def call_view(row: CallRow, names: dict[str, str]) -> dict[str, Any]:
    """What both participants see of a call (no phone numbers, no balances)."""
    c = lifecycle.Call.from_json(row.state)
    return {
        "call_id": row.id,
        "status": c.status.value,
        "mode": row.mode,
        "rate_fen_per_min": row.rate_fen_per_min,
        "customer": {"id": row.customer_id, "nickname": names.get(row.customer_id, "")},
        "companion": {"id": row.companion_id, "nickname": names.get(row.companion_id, "")},
        "created_ms": c.created_ms,
        "ring_deadline_ms": c.ring_deadline_ms,
        "accepted_ms": c.accepted_ms,
        "accepted_device": c.accepted_device,
        "ended_ms": c.ended_ms,
        "end_reason": c.end_reason.value if c.end_reason else None,
        "ended_by": c.ended_by,
        "away": {
            "customer": c.customer_away_ms is not None,
            "companion": c.companion_away_ms is not None,
        },
        "last_seq": row.last_seq,
    }
