"""Ringing: a customer's request for a session, up to the companion's phone ringing.

The shell around the pure admission (``signaling.admission``): the facts of the request are read
(the caller's open sessions, the callee's role, blocks, presence), ``admission.decide`` admits or
refuses; an admitted request claims the companion, reserves minute 1 of the customer's meter and
writes the ringing call, in that order, undoing what it did if a later step fails.  The call's
life from then on is ``signaling.calls``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.service import Principal
from kernel.clock import Clock
from kernel.errors import DomainError
from metering.meters import MeterKind
from metering.service import MeteringService, from_ms, to_ms
from metering.tariff import Mode
from signaling import admission, lifecycle
from signaling.call_rows import OPEN, load_view
from signaling.errors import AlreadyInCall, CompanionBusy
from signaling.lifecycle import EndReason
from signaling.presence import Presence
from store import Database
from store.models import Call as CallRow
from store.models import User
from store.models.voicerooms import VoiceRoomMember

if TYPE_CHECKING:
    from signaling.calls import Blocks, Emitter

log = structlog.get_logger(__name__)


#: a 1:1 call's id (and its metered session's): this prefix and 32 hex digits
CALL_PREFIX = "call_"


def is_call_id(value: str) -> bool:
    """Whether a (metered session) id is a 1:1 call's."""
    return value.startswith(CALL_PREFIX)


class Ringing:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        metering: MeteringService,
        presence: Presence,
        emitter: Emitter,
        blocks: Blocks,
        *,
        policy: lifecycle.Policy,
        owner: str,
        draining: Callable[[], bool],
    ) -> None:
        self._db = db
        self._clock = clock
        self._metering = metering
        self._presence = presence
        self._emit = emitter
        self._blocks = blocks
        self._policy = policy
        self._owner = owner
        self._draining = draining
        self._requests: dict[str, asyncio.Lock] = {}

    async def request(
        self,
        who: Principal,
        companion_id: str,
        mode: Mode,
        request_key: str,
        rate_fen_per_min: int | None = None,
        kind: MeterKind = MeterKind.CALL,
    ) -> dict[str, Any]:
        """``CallService.request``."""
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
                return await load_view(s, existing)
            companion = await s.get(User, companion_id)
            mine = await s.scalar(
                select(CallRow.id).where(
                    CallRow.customer_id == who.user_id, CallRow.status.in_(OPEN)
                )
            )
            # A seat in a group voice room is an open session too: one meter at a time.  (These
            # are the early, friendly refusals; metering's row per customer is the guarantee.)
            seated = await s.scalar(
                select(VoiceRoomMember.id).where(
                    VoiceRoomMember.user_id == who.user_id, VoiceRoomMember.status == "joined"
                )
            )
        draining = self._draining()
        blocked = await self._blocks.between(who.user_id, companion_id)
        status = (await self._presence.statuses([companion_id]))[companion_id]
        verdict = admission.decide(
            admission.Facts(
                caller_id=who.user_id,
                caller_role=who.role,
                companion_id=companion_id,
                companion_role=companion.role if companion is not None else None,
                caller_in_session=mine is not None or seated is not None,
                blocked=blocked,
                companion_status=status,
                draining=draining,
            )
        )
        if isinstance(verdict, DomainError):
            raise verdict
        call_id = CALL_PREFIX + uuid.uuid4().hex
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
        state = lifecycle.ringing(to_ms(now), self._policy)
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
                    owner=self._owner,
                    created_at=now,
                )
                s.add(row)
                await s.flush()
                view = await load_view(s, row)
        except IntegrityError:
            async with self._db.reading() as s:
                again = await s.scalar(
                    select(CallRow).where(
                        CallRow.customer_id == who.user_id, CallRow.request_key == request_key
                    )
                )
                if again is not None:  # the same request, sent twice at once
                    return await load_view(s, again)
                mine = await s.scalar(
                    select(CallRow.id).where(
                        CallRow.customer_id == who.user_id, CallRow.status.in_(OPEN)
                    )
                )
            raise AlreadyInCall() if mine else CompanionBusy() from None
        log.info("call_ringing", call_id=call_id, mode=mode.value, user_id=who.user_id)
        await self._emit.presence_changed(companion_id, "busy")
        await self._emit.to_user(companion_id, "call:incoming", view)
        await self._emit.to_user(who.user_id, "call:update", view)
        return view
