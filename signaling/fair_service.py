"""Fair service, the shell around ``signaling.fairness``: gather what the server observed of an
ended 1:1 call, judge it once, refund the customer automatically when the rule says so, and tell
both sides.

Facts come from the edges, as billing's do: the relay hands over its talk traces when a call's
media room closes (``Rooms.on_talk`` → :meth:`FairService.talk_recorded`, on the process that
held the room); a text call's messages are in the database.  Whichever of "the call ended"
(``CallEnded``) and "the traces are in" comes last triggers :meth:`FairService.assess`.

Idempotent everywhere: the refund is metering's refund under the key ``fair``
(``refund:<session>:fair``, a transfer id: posted at most once, by whichever process gets there
first, however often it is retried); the judgement is written once (the row is locked and
``decided_at`` set in the same transaction as the audit line ``fair.refund``, keyed by session).
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.log import AuditLog
from kernel.clock import Clock
from kernel.errors import DomainError
from metering.billing_clock import Meter, connected_intervals
from metering.service import MeteringService, to_ms
from signaling.fairness import (
    Assessment,
    FairRule,
    VoiceTrace,
    assess_text,
    assess_voice,
    minute_spans,
)
from signaling.ringing import is_call_id
from store import Database
from store.db import upsert
from store.models import Call as CallRow
from store.models import Entry, Message, MeteredSession
from store.models.fairness import SessionFairness

log = structlog.get_logger(__name__)

#: the refund's key: its transfer is ``refund:<session>:fair``
REFUND_KEY = "fair"
#: who the audit log names for the automatic decision
SYSTEM_ACTOR = "system"
#: sessions the companion's averages are taken over
RECENT_SESSIONS = 20


def summary(row: SessionFairness) -> dict[str, Any]:
    """What both sides of a session see of its judgement (no names: ids and figures only)."""
    a = _assessment(row)
    return {
        "session_id": row.session_id,
        "mode": row.mode,
        "decided": row.decided_at is not None,
        "billed_minutes": row.billed_minutes,
        "flagged_minutes": len(row.flagged or []),
        "talk_share_percent": a.talk_share_percent,
        "companion_voiced_ms": row.companion_voiced_ms,
        "customer_voiced_ms": row.customer_voiced_ms,
        "reply_count": row.reply_count,
        "reply_median_ms": row.reply_median_ms,
        "reply_p90_ms": row.reply_p90_ms,
        "refund_fen": row.refund_fen,
        "decided_at": row.decided_at,
    }


def _assessment(row: SessionFairness) -> Assessment:
    return Assessment(
        mode=row.mode,
        billed_minutes=row.billed_minutes,
        flagged=tuple(row.flagged or ()),
        companion_voiced_ms=row.companion_voiced_ms,
        customer_voiced_ms=row.customer_voiced_ms,
        reply_count=row.reply_count,
        reply_median_ms=row.reply_median_ms,
        reply_p90_ms=row.reply_p90_ms,
        refund_fen=row.refund_fen,
    )


class FairService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        metering: MeteringService,
        audit: AuditLog,
        emit: Any,
        rule: FairRule,
    ) -> None:
        self._db = db
        self._clock = clock
        self._metering = metering
        self._audit = audit
        #: ``to_user(user_id, event, data)``: the Socket.IO emitter
        self._emit = emit
        self.rule = rule

    # -- facts --------------------------------------------------------------------------------

    async def talk_recorded(self, call_id: str, traces: dict[str, tuple[int, bytes]]) -> None:
        """The relay closed a call's media room: keep who spoke when, then judge the call."""
        if not is_call_id(call_id):
            return
        async with self._db.writing() as s:
            call = await s.get(CallRow, call_id)
            if call is None:
                return
            talk = {user: VoiceTrace(o, v).to_json() for user, (o, v) in traces.items()}
            await upsert(s, SessionFairness, self._ids(call) | {"talk": talk})
        await self.assess(call_id)

    async def call_ended(self, call_id: str) -> None:
        await self.assess(call_id)

    # -- the judgement ------------------------------------------------------------------------

    async def assess(self, call_id: str) -> dict[str, Any] | None:
        """Judge an ended call once its facts are in (None: not yet, or nothing to judge);
        refund the customer as the rule says; tell both sides.  Safe to repeat anywhere."""
        if not self.rule.enabled or not is_call_id(call_id):
            return None
        async with self._db.reading() as s:
            call = await s.get(CallRow, call_id)
            session = await s.get(MeteredSession, call_id)
            fair = await s.get(SessionFairness, call_id)
            if call is None or session is None or session.status != "ended":
                return None
            if fair is not None and fair.decided_at is not None:
                return None
            if session.billed_minutes <= 0:
                return None  # nothing was paid for: nothing to judge
            meter = Meter.from_json(session.meter)
            end_ms = meter.ended_at_ms
            if end_ms is None:
                end_ms = to_ms(session.ended_at) if session.ended_at else meter.now_ms
            spans = minute_spans(connected_intervals(meter, end_ms), session.billed_minutes)
            cash_minutes = session.charged_fen // max(1, session.rate_fen_per_min)
            money = {
                "rate_fen_per_min": session.rate_fen_per_min,
                "cash_minutes": cash_minutes,
                "refundable_fen": session.charged_fen - session.refunded_fen,
            }
            if call.mode == "text":
                messages = await self._messages(s, call)
                assessment = assess_text(self.rule, spans, messages, end_ms, **money)
            else:
                if fair is None or fair.talk is None:
                    return None  # the relay's traces come when its room closes
                traces = {u: VoiceTrace.from_json(t) for u, t in fair.talk.items()}
                assessment = assess_voice(
                    self.rule,
                    call.mode,
                    spans,
                    traces.get(call.companion_id),
                    traces.get(call.customer_id),
                    **money,
                )
        if assessment.refund_fen > 0:
            try:
                await self._metering.refund_session(
                    call_id,
                    assessment.refund_fen,
                    key=REFUND_KEY,
                    reason=f"fair service: {len(assessment.flagged)} of "
                    f"{assessment.billed_minutes} minutes silent or unresponsive",
                )
            except DomainError as exc:
                # Refunded meanwhile (an appeal), or the companion's earnings are gone: the
                # judgement stands, the money is what the ledger says.
                log.warning("fair_refund_refused", session_id=call_id, code=exc.code)
        return await self._record(call, assessment)

    async def _messages(self, s: AsyncSession, call: CallRow) -> list[tuple[int, bool]]:
        rows = await s.execute(
            select(Message.created_at, Message.sender_id)
            .where(Message.call_id == call.id)
            .order_by(Message.seq)
        )
        return [(to_ms(at), sender == call.companion_id) for at, sender in rows.all()]

    async def _record(self, call: CallRow, a: Assessment) -> dict[str, Any] | None:
        async with self._db.writing() as s:
            await upsert(s, SessionFairness, self._ids(call))
            row = await s.get(SessionFairness, call.id, with_for_update=True)
            assert row is not None
            if row.decided_at is not None:
                return None  # another process (or a retry) recorded it
            refunded = await self._refunded(s, call.id)
            row.decided_at = self._clock.now()
            row.billed_minutes = a.billed_minutes
            row.flagged = list(a.flagged)
            row.companion_voiced_ms = a.companion_voiced_ms
            row.customer_voiced_ms = a.customer_voiced_ms
            row.reply_count = a.reply_count
            row.reply_median_ms = a.reply_median_ms
            row.reply_p90_ms = a.reply_p90_ms
            row.refund_fen = refunded
            row.rule = self.rule.to_json()
            if refunded > 0:
                await self._audit.record(
                    key=f"fair.refund:{call.id}",
                    admin_id=SYSTEM_ACTOR,
                    action="fair.refund",
                    subject_type="session",
                    subject_id=call.id,
                    detail={
                        "automatic": True,
                        "mode": call.mode,
                        "refund_fen": refunded,
                        "billed_minutes": a.billed_minutes,
                        "flagged": list(a.flagged),
                        "rule": self.rule.to_json(),
                    },
                    s=s,
                )
            view = summary(row)
        log.info(
            "session_judged",
            session_id=call.id,
            mode=call.mode,
            billed_minutes=a.billed_minutes,
            flagged=len(a.flagged),
            refund_fen=refunded,
        )
        payload = {"call_id": call.id, **view, "decided_at": to_ms(view["decided_at"])}
        for user in (call.customer_id, call.companion_id):
            await self._emit.to_user(user, "session:fair", payload)
        return view

    async def _refunded(self, s: AsyncSession, session_id: str) -> int:
        """What the ``fair`` refund transfer gave back (0: none was posted)."""
        total = await s.scalar(
            select(func.coalesce(func.sum(Entry.amount_fen), 0)).where(
                Entry.transfer_id == f"refund:{session_id}:{REFUND_KEY}", Entry.amount_fen > 0
            )
        )
        return int(total or 0)

    @staticmethod
    def _ids(call: CallRow) -> dict[str, Any]:
        return {
            "session_id": call.id,
            "customer_id": call.customer_id,
            "companion_id": call.companion_id,
            "mode": call.mode,
        }

    # -- reading ------------------------------------------------------------------------------

    async def mine(
        self, user_id: str, role: str, session_ids: list[str] | None, limit: int
    ) -> list[dict[str, Any]]:
        """The judged sessions of ``user_id`` as ``role``: those named, else the latest."""
        side = SessionFairness.customer_id if role == "customer" else SessionFairness.companion_id
        stmt = select(SessionFairness).where(
            side == user_id, SessionFairness.decided_at.is_not(None)
        )
        if session_ids is not None:
            stmt = stmt.where(SessionFairness.session_id.in_(session_ids))
        stmt = stmt.order_by(SessionFairness.decided_at.desc()).limit(limit)
        async with self._db.reading() as s:
            return [summary(r) for r in (await s.scalars(stmt)).all()]


def averages(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A companion's figures over the given sessions: the mean talk share of the voice/video
    ones, the median of the text ones' median reply times, flagged minutes and refunds."""
    shares = [r["talk_share_percent"] for r in rows if r["talk_share_percent"] is not None]
    replies = sorted(r["reply_median_ms"] for r in rows if r["reply_median_ms"] is not None)
    return {
        "sessions": len(rows),
        "talk_share_percent": round(sum(shares) / len(shares)) if shares else None,
        "reply_median_ms": replies[(len(replies) - 1) // 2] if replies else None,
        "billed_minutes": sum(r["billed_minutes"] for r in rows),
        "flagged_minutes": sum(r["flagged_minutes"] for r in rows),
        "refunded_sessions": sum(1 for r in rows if r["refund_fen"] > 0),
        "refund_fen": sum(r["refund_fen"] for r in rows),
    }
