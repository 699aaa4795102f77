"""Appeals: the shell around ``appeals.rules``: the customer appeals an ended session, the
companion responds once, an admin decides once and the refund goes through metering.

A decision runs in three steps, because the refund is metering's own transaction:

1. *claim* (one transaction, the appeal row locked): an open appeal becomes ``deciding`` with
   the decision and its refund amount written on it; a concurrent different decision is refused
   (``appeal_deciding``), the same one sent again carries on with the stored claim;
2. *refund*: ``MeteringService.refund_session(key="appeal-<id>")``, idempotent by its key;
   a refusal (e.g. the companion already withdrew the earnings) puts the appeal back to
   ``open`` and the error goes back to the admin;
3. *record* (one transaction): ``decided``, with the audit line ``appeal.decide``.

A crash between the steps leaves the appeal ``deciding``; sending the same decision again
finishes it without a second refund.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.log import AuditLog
from kernel.clock import Clock
from kernel.errors import DomainError, InvalidInput
from market.appeals import rules
from market.appeals.errors import (
    AlreadyAppealed,
    AlreadyResponded,
    AppealDecided,
    AppealDeciding,
    AppealedSessionNotFound,
    AppealNotFound,
    AppealWindowClosed,
    InvalidDecision,
    InvalidRefundAmount,
    InvalidText,
    NothingToAppeal,
    NothingToRefund,
    NotTheCompanion,
    SessionNotEnded,
    TooManyOpenAppeals,
)
from metering.service import MeteringService
from store import Database
from store.models import Message, MeteredSession, User
from store.models.appeals import Appeal

log = structlog.get_logger(__name__)

MAX_PAGE = 100
ADMIN_MAX_PAGE = 50

_REFUSALS: dict[str, type[DomainError]] = {
    "session_not_ended": SessionNotEnded,
    "nothing_to_appeal": NothingToAppeal,
    "appeal_window_closed": AppealWindowClosed,
    "nothing_to_refund": NothingToRefund,
    "invalid_refund_amount": InvalidRefundAmount,
    "amount_required": InvalidDecision,
    "amount_not_expected": InvalidDecision,
    "invalid_outcome": InvalidDecision,
}


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """The session an appeal is about, as the ledger knows it."""

    id: str
    mode: str
    rate_fen_per_min: int
    billed_minutes: int
    charged_fen: int
    refunded_fen: int
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    seq: int
    sender_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AppealView:
    id: str
    session: SessionFigures
    customer_id: str
    customer_nickname: str
    companion_id: str
    companion_nickname: str
    reason: str
    text: str
    #: open | decided (a decision being carried out is still open to the parties)
    status: str
    response_text: str
    responded_at: datetime | None
    outcome: str | None
    refund_fen: int
    decision_reason: str
    decided_at: datetime | None
    created_at: datetime
    #: admins only: who decided (or is deciding), and whether a decision is under way
    decided_by: str | None
    deciding: bool
    #: admins only, while ``deciding``: the decision under way (send it again to finish it)
    deciding_outcome: str | None
    deciding_refund_fen: int
    #: admins only: the session's chat, its last ``TRANSCRIPT_MAX_MESSAGES`` messages
    transcript: tuple[TranscriptLine, ...] = ()
    transcript_truncated: bool = False


class AppealService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        metering: MeteringService,
        audit: AuditLog,
        policy: rules.Policy,
    ) -> None:
        self._db = db
        self._clock = clock
        self._metering = metering
        self._audit = audit
        self._policy = policy

    # -- the customer ---------------------------------------------------------------------------

    async def appeal(
        self, customer_id: str, session_id: str, reason: str, text: str, request_id: str
    ) -> AppealView:
        """Appeal ``session_id``.  A resend with the same ``request_id`` returns the appeal."""
        clean = rules.clean_text(text, rules.TEXT_MIN_CHARS, rules.TEXT_MAX_CHARS)
        if clean is None:
            raise InvalidText(
                f"describe the problem in {rules.TEXT_MIN_CHARS}-{rules.TEXT_MAX_CHARS} characters"
            )
        if reason not in rules.REASONS:
            raise InvalidInput(f"the reason is one of {', '.join(rules.REASONS)}")
        now = self._clock.now()
        try:
            async with self._db.writing() as s:
                session = await s.get(MeteredSession, session_id)
                if session is None or session.customer_id != customer_id:
                    raise AppealedSessionNotFound()  # someone else's session does not exist
                # One customer's appeals are counted and created one at a time.
                await s.execute(select(User.id).where(User.id == customer_id).with_for_update())
                existing = await s.scalar(select(Appeal).where(Appeal.session_id == session_id))
                if existing is not None:
                    if existing.request_key == request_id:
                        return (await self._views(s, [existing]))[0]
                    raise AlreadyAppealed()
                refusal = rules.why_not_appealable(
                    status=session.status,
                    ended_at=session.ended_at,
                    charged_fen=session.charged_fen,
                    refunded_fen=session.refunded_fen,
                    now=now,
                    policy=self._policy,
                )
                if refusal is not None:
                    raise _REFUSALS[refusal]()
                open_count = await s.scalar(
                    select(func.count())
                    .select_from(Appeal)
                    .where(Appeal.customer_id == customer_id, Appeal.status != "decided")
                )
                if (open_count or 0) >= self._policy.max_open:
                    raise TooManyOpenAppeals(max_open=self._policy.max_open)
                row = Appeal(
                    id="apl_" + secrets.token_hex(12),
                    session_id=session_id,
                    customer_id=customer_id,
                    companion_id=session.companion_id,
                    request_key=request_id,
                    reason=reason,
                    text=clean,
                    status="open",
                    response_text="",
                    refund_fen=0,
                    decision_reason="",
                    created_at=now,
                )
                s.add(row)
                await s.flush()
                view = (await self._views(s, [row]))[0]
        except IntegrityError:
            raise AlreadyAppealed() from None
        log.info("appeal_opened", appeal_id=view.id, session_id=session_id, reason=reason)
        return view

    # -- the companion --------------------------------------------------------------------------

    async def respond(self, appeal_id: str, user_id: str, text: str) -> AppealView:
        """The companion's one response, while the appeal is open.  The same text sent again
        returns the appeal; another text is refused."""
        clean = rules.clean_text(text, 1, rules.RESPONSE_MAX_CHARS)
        if clean is None:
            raise InvalidText(f"respond in 1-{rules.RESPONSE_MAX_CHARS} characters")
        async with self._db.writing() as s:
            row = await s.get(Appeal, appeal_id, with_for_update=True)
            if row is None or user_id not in (row.customer_id, row.companion_id):
                raise AppealNotFound()
            if user_id != row.companion_id:
                raise NotTheCompanion()
            if row.responded_at is not None:
                if row.response_text == clean:
                    return (await self._views(s, [row]))[0]
                raise AlreadyResponded()
            if row.status != "open":
                raise AppealDecided("the appeal is no longer open")
            row.response_text = clean
            row.responded_at = self._clock.now()
            return (await self._views(s, [row]))[0]

    # -- reading --------------------------------------------------------------------------------

    async def mine(self, user_id: str, limit: int = MAX_PAGE) -> list[AppealView]:
        """Appeals I made or that are about my sessions as a companion, newest first."""
        async with self._db.reading() as s:
            rows = (
                await s.scalars(
                    select(Appeal)
                    .where(or_(Appeal.customer_id == user_id, Appeal.companion_id == user_id))
                    .order_by(Appeal.created_at.desc(), Appeal.id.desc())
                    .limit(min(limit, MAX_PAGE))
                )
            ).all()
            return await self._views(s, rows)

    async def get(self, appeal_id: str, user_id: str, *, admin: bool) -> AppealView:
        """One appeal, for either party or an admin (with the transcript); 404 for others."""
        async with self._db.reading() as s:
            row = await s.get(Appeal, appeal_id)
            if row is None or not (admin or user_id in (row.customer_id, row.companion_id)):
                raise AppealNotFound()
            return (await self._views(s, [row], transcript=admin))[0]

    async def queue(
        self, status: str, *, limit: int = 20, after: tuple[datetime, str] | None = None
    ) -> list[AppealView]:
        """Admin: open (waiting or being decided) or decided appeals, oldest first, with the
        session's figures and chat; ``after`` (created_at, id) continues after that appeal."""
        statuses = ("open", "deciding") if status == "open" else ("decided",)
        stmt = select(Appeal).where(Appeal.status.in_(statuses))
        if after is not None:
            at, after_id = after
            stmt = stmt.where(
                or_(Appeal.created_at > at, and_(Appeal.created_at == at, Appeal.id > after_id))
            )
        async with self._db.reading() as s:
            rows = (
                await s.scalars(
                    stmt.order_by(Appeal.created_at, Appeal.id).limit(min(limit, ADMIN_MAX_PAGE))
                )
            ).all()
            return await self._views(s, rows, transcript=True)

    # -- the admin's decision -------------------------------------------------------------------

    async def decide(
        self, appeal_id: str, admin_id: str, outcome: str, amount_fen: int | None, reason: str
    ) -> AppealView:
        """Decide an appeal (see the module's docstring for the steps).  Deciding a decided
        appeal again is refused (``appeal_decided``) unless it is the same decision, which
        returns the appeal as it is: no second refund, no second audit line."""
        clean = rules.clean_text(reason, 1, rules.DECISION_REASON_MAX_CHARS)
        if clean is None:
            raise InvalidText(f"give the reason in 1-{rules.DECISION_REASON_MAX_CHARS} characters")
        claim = await self._claim(appeal_id, admin_id, outcome, amount_fen, clean)
        if isinstance(claim, AppealView):
            return claim  # decided already, with this decision
        session_id, refund_fen = claim
        if refund_fen > 0:
            try:
                await self._metering.refund_session(
                    session_id,
                    refund_fen,
                    key=f"appeal-{appeal_id}",
                    reason=f"appeal {appeal_id}: {outcome}",
                )
            except DomainError as exc:
                # Refused before anything was posted: the appeal is open again.
                await self._release(appeal_id, outcome, refund_fen)
                log.warning("appeal_refund_refused", appeal_id=appeal_id, code=exc.code)
                raise
        return await self._record(appeal_id)

    async def _claim(
        self, appeal_id: str, admin_id: str, outcome: str, amount_fen: int | None, reason: str
    ) -> AppealView | tuple[str, int]:
        async with self._db.writing() as s:
            row = await s.get(Appeal, appeal_id, with_for_update=True)
            if row is None:
                raise AppealNotFound()
            same = rules.same_decision(row.outcome, row.refund_fen, outcome, amount_fen)
            if row.status == "decided":
                if same:
                    return (await self._views(s, [row], transcript=True))[0]
                raise AppealDecided()
            if row.status == "deciding":
                if not same:
                    raise AppealDeciding(outcome=row.outcome, refund_fen=row.refund_fen)
                return row.session_id, row.refund_fen
            session = await s.get(MeteredSession, row.session_id)
            assert session is not None  # a foreign key
            refund = rules.refund_for(
                outcome, amount_fen, session.charged_fen - session.refunded_fen
            )
            if refund.error is not None:
                raise _REFUSALS[refund.error](
                    refundable_fen=session.charged_fen - session.refunded_fen
                )
            row.status = "deciding"
            row.outcome = outcome
            row.refund_fen = refund.amount_fen
            row.decision_reason = reason
            row.decided_by = admin_id
            return row.session_id, refund.amount_fen

    async def _release(self, appeal_id: str, outcome: str, refund_fen: int) -> None:
        async with self._db.writing() as s:
            row = await s.get(Appeal, appeal_id, with_for_update=True)
            if row is None or row.status != "deciding":
                return
            if (row.outcome, row.refund_fen) != (outcome, refund_fen):
                return
            row.status = "open"
            row.outcome = None
            row.refund_fen = 0
            row.decision_reason = ""
            row.decided_by = None

    async def _record(self, appeal_id: str) -> AppealView:
        now = self._clock.now()
        async with self._db.writing() as s:
            row = await s.get(Appeal, appeal_id, with_for_update=True)
            assert row is not None and row.decided_by is not None
            if row.status == "deciding":
                row.status = "decided"
                row.decided_at = now
                await self._audit.record(
                    key=f"appeal.decide:{row.id}",
                    admin_id=row.decided_by,
                    action="appeal.decide",
                    subject_type="appeal",
                    subject_id=row.id,
                    detail={
                        "session_id": row.session_id,
                        "outcome": row.outcome,
                        "refund_fen": row.refund_fen,
                        "reason": row.decision_reason,
                    },
                    s=s,
                )
                log.info(
                    "appeal_decided",
                    appeal_id=row.id,
                    session_id=row.session_id,
                    outcome=row.outcome,
                    refund_fen=row.refund_fen,
                )
            return (await self._views(s, [row], transcript=True))[0]

    # -- views ----------------------------------------------------------------------------------

    async def _views(
        self, s: AsyncSession, rows: Sequence[Appeal], *, transcript: bool = False
    ) -> list[AppealView]:
        if not rows:
            return []
        sessions = {
            m.id: m
            for m in await s.scalars(
                select(MeteredSession).where(MeteredSession.id.in_({r.session_id for r in rows}))
            )
        }
        people = {r.customer_id for r in rows} | {r.companion_id for r in rows}
        nicknames = {
            str(uid): str(nick)
            for uid, nick in await s.execute(
                select(User.id, User.nickname).where(User.id.in_(people))
            )
        }
        out = []
        for r in rows:
            m = sessions[r.session_id]
            lines: list[TranscriptLine] = []
            truncated = False
            if transcript:
                lines, truncated = await _transcript(s, r.session_id)
            decided = r.status == "decided"
            out.append(
                AppealView(
                    id=r.id,
                    session=SessionFigures(
                        id=m.id,
                        mode=m.mode,
                        rate_fen_per_min=m.rate_fen_per_min,
                        billed_minutes=m.billed_minutes,
                        charged_fen=m.charged_fen,
                        refunded_fen=m.refunded_fen,
                        ended_at=m.ended_at,
                    ),
                    customer_id=r.customer_id,
                    customer_nickname=nicknames.get(r.customer_id, ""),
                    companion_id=r.companion_id,
                    companion_nickname=nicknames.get(r.companion_id, ""),
                    reason=r.reason,
                    text=r.text,
                    status="decided" if decided else "open",
                    response_text=r.response_text,
                    responded_at=r.responded_at,
                    outcome=r.outcome if decided else None,
                    refund_fen=r.refund_fen if decided else 0,
                    decision_reason=r.decision_reason if decided else "",
                    decided_at=r.decided_at,
                    created_at=r.created_at,
                    decided_by=r.decided_by,
                    deciding=r.status == "deciding",
                    deciding_outcome=r.outcome if r.status == "deciding" else None,
                    deciding_refund_fen=r.refund_fen if r.status == "deciding" else 0,
                    transcript=tuple(lines),
                    transcript_truncated=truncated,
                )
            )
        return out


async def _transcript(s: AsyncSession, call_id: str) -> tuple[list[TranscriptLine], bool]:
    """The last messages of the call (its id is the session's), oldest first, and whether
    there were more."""
    cap = rules.TRANSCRIPT_MAX_MESSAGES
    rows: list[Any] = list(
        (
            await s.execute(
                select(Message.seq, Message.sender_id, Message.body, Message.created_at)
                .where(Message.call_id == call_id)
                .order_by(Message.seq.desc())
                .limit(cap + 1)
            )
        ).all()
    )
    truncated = len(rows) > cap
    lines = [TranscriptLine(seq, sender, body, at) for seq, sender, body, at in rows[:cap]]
    return lines[::-1], truncated
