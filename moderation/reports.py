"""Reports: a user reports another user, optionally one session with them or one message of it,
with a reason; the report goes to the admin queue with the evidence the server holds (the
session, the reported message and the messages around it) attached at once, so it survives chat
retention and cannot be forged by the reporter.  Each report joins a case
(``moderation.casebook``): admins decide cases, and a case's decision decides its reports.

Rules: only a participant of the session may report it, and only the other participant; a
message must be the other participant's; reporting the same thing twice returns the first
report; at most ``MAX_OPEN_PER_REPORTER`` open reports per reporter (a flood protects nobody).

A message of a voice room's chat is reported the same way, the room's id (``vr_…``) in
``call_id``: by someone who was in the room when it was said (its host, or a member seated then),
about its sender; the evidence is the room and the messages around it.  A voice room is reported
by one of its messages (the room alone is not a session between two people).

A review (``reviews``) is reported by anyone logged in but its author: a report whose
``call_key`` is the reviewed session and whose ``message_seq`` is ``REVIEW_SEQ`` (-1), the
target the review's author, the evidence the review as stored; automatic moderation queues a
review or reply the same way (no reporter, reason "auto").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.errors import CodedError, DomainError
from moderation.casebook import attach
from moderation.errors import UserNotFound
from store import Database
from store.models import Call, Message, Report, User
from store.models.voicerooms import VoiceRoom, VoiceRoomMember, VoiceRoomMessage

REASONS = ("harassment", "contact_request", "offline_meeting", "upselling", "minor", "other")
#: why a review is reported
REVIEW_REASONS = ("false_review", "harassment", "contact_request", "upselling", "other")
#: ``Report.message_seq`` of a report about the review of the session ``call_key``: not 0 (the
#: session itself) nor a message's seq (>= 1), so the three never share a unique key
REVIEW_SEQ = -1
STATUSES = ("open", "resolved", "dismissed")
MAX_OPEN_PER_REPORTER = 20
#: messages either side of a reported one, or the last ones of a reported session
CONTEXT_MESSAGES = 10


class ReportedSessionNotFound(DomainError):
    code = "call_not_found"
    status = 404
    default_message = "no such session"


class ReportNotFound(DomainError):
    code = "report_not_found"
    status = 404
    default_message = "no such report"


@dataclass(frozen=True, slots=True)
class ReportView:
    id: str
    reporter_id: str | None  # None: automatic moderation
    target_id: str
    call_id: str | None
    message_seq: int | None
    reason: str
    details: str
    evidence: dict[str, Any]
    status: str
    created_at: datetime
    decided_by: str | None
    decision_note: str
    priority: str = "normal"


#: the admin queue's order: the most urgent first, then the oldest
PRIORITIES = ("high", "normal", "low")


def view(r: Report) -> ReportView:
    return ReportView(
        id=r.id,
        reporter_id=r.reporter_id,
        target_id=r.target_id,
        call_id=r.call_key or None,
        message_seq=r.message_seq or None,
        reason=r.reason,
        details=r.details,
        evidence=dict(r.evidence),
        status=r.status,
        created_at=r.created_at,
        decided_by=r.decided_by,
        decision_note=r.decision_note,
        priority=r.priority or "normal",
    )


class ReportService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def report(
        self,
        reporter_id: str,
        target_id: str,
        reason: str,
        details: str = "",
        call_id: str | None = None,
        message_seq: int | None = None,
    ) -> ReportView:
        if reason not in REASONS:
            raise CodedError("invalid_reason", f"the reason must be one of {', '.join(REASONS)}")
        if target_id == reporter_id:
            raise CodedError("cannot_report_self", "you cannot report yourself")
        if message_seq is not None and call_id is None:
            raise CodedError("invalid_input", "a reported message needs its session (call_id)")
        if call_id is not None and is_room(call_id) and message_seq is None:
            raise CodedError("invalid_input", "a voice room is reported by one of its messages")
        key = (reporter_id, target_id, call_id or "", message_seq or 0)
        async with self._db.writing() as s:
            if await s.get(User, target_id) is None:
                raise UserNotFound()
            existing = await s.scalar(
                select(Report).where(
                    Report.reporter_id == key[0],
                    Report.target_id == key[1],
                    Report.call_key == key[2],
                    Report.message_seq == key[3],
                )
            )
            if existing is not None:
                return view(existing)
            await _within_open_cap(s, reporter_id)
            evidence: dict[str, Any] = {}
            if call_id is not None:
                evidence = await self._evidence(s, reporter_id, target_id, call_id, message_seq)
            row = Report(
                id="rpt_" + secrets.token_hex(12),
                reporter_id=reporter_id,
                target_id=target_id,
                call_key=key[2],
                message_seq=key[3],
                reason=reason,
                details=details.strip(),
                evidence=evidence,
                status="open",
                created_at=self._clock.now(),
            )
            await attach(s, row)
            s.add(row)
            try:
                await s.flush()
            except IntegrityError:
                raise CodedError("report_exists", "this was reported already") from None
            return view(row)

    async def _evidence(
        self, s: Any, reporter_id: str, target_id: str, call_id: str, seq: int | None
    ) -> dict[str, Any]:
        if is_room(call_id):
            return await _room_evidence(s, reporter_id, target_id, call_id, seq)
        call = await s.get(Call, call_id)
        if call is None:
            raise ReportedSessionNotFound()
        if {reporter_id, target_id} != {call.customer_id, call.companion_id}:
            raise CodedError(
                "not_participant", "only the two participants of a session may report it"
            )
        query = select(Message).where(Message.call_id == call_id)
        if seq is not None:
            reported = await s.scalar(query.where(Message.seq == seq))
            if reported is None or reported.sender_id != target_id:
                raise CodedError(
                    "message_not_found", "no such message of the reported user in that session"
                )
            query = query.where(
                Message.seq >= seq - CONTEXT_MESSAGES, Message.seq <= seq + CONTEXT_MESSAGES
            ).order_by(Message.seq)
        else:
            query = query.order_by(Message.seq.desc()).limit(CONTEXT_MESSAGES * 2)
        messages = sorted((await s.scalars(query)).all(), key=lambda m: m.seq)
        return {
            "call": {
                "id": call.id,
                "mode": call.mode,
                "status": call.status,
                "customer_id": call.customer_id,
                "companion_id": call.companion_id,
                "created_at": call.created_at.isoformat(),
                "end_reason": call.end_reason,
            },
            "reported_seq": seq,
            "messages": [
                {
                    "seq": m.seq,
                    "sender_id": m.sender_id,
                    "text": m.body,
                    "moderation": m.action,
                    "at": m.created_at.isoformat(),
                }
                for m in messages
            ],
        }

    async def flag(
        self,
        call_id: str,
        sender_id: str,
        seq: int | None,
        categories: tuple[str, ...],
        *,
        priority: str = "normal",
        blocked_text: str | None = None,
    ) -> ReportView:
        """Automatic moderation queued a message for an admin: a report with no reporter
        (``reason`` "auto", the categories as details), with the same evidence.  A delivered
        message is named by ``seq``; a blocked one was never stored, so its text is kept in the
        evidence (``blocked``) beside the conversation's last messages."""
        if priority not in PRIORITIES:
            raise ValueError(f"priority {priority!r}")
        async with self._db.writing() as s:
            if is_room(call_id):
                evidence = await _room_evidence(s, None, sender_id, call_id, seq)
            else:
                call = await s.get(Call, call_id)
                if call is None:
                    raise ReportedSessionNotFound()
                other = call.companion_id if sender_id == call.customer_id else call.customer_id
                evidence = await self._evidence(s, other, sender_id, call_id, seq)
            now = self._clock.now()
            if blocked_text is not None:
                evidence["blocked"] = {
                    "sender_id": sender_id,
                    "text": blocked_text,
                    "at": now.isoformat(),
                }
            row = Report(
                id="rpt_" + secrets.token_hex(12),
                reporter_id=None,
                target_id=sender_id,
                call_key=call_id,
                message_seq=seq or 0,
                reason="auto",
                details=", ".join(categories),
                evidence=evidence,
                status="open",
                created_at=now,
                priority=priority,
            )
            await attach(s, row)
            s.add(row)
            return view(row)

    async def report_review(
        self,
        reporter_id: str,
        target_id: str,
        session_id: str,
        reason: str,
        details: str,
        evidence: dict[str, Any],
    ) -> ReportView:
        """Report the review of ``session_id`` written by ``target_id``; ``evidence`` is the
        review as the server stores it.  Once per reporter and review (a resend returns the
        first report); the open-report cap applies."""
        if reason not in REVIEW_REASONS:
            raise CodedError(
                "invalid_reason", f"the reason must be one of {', '.join(REVIEW_REASONS)}"
            )
        if target_id == reporter_id:
            raise CodedError("cannot_report_self", "you cannot report your own review")
        async with self._db.writing() as s:
            existing = await s.scalar(
                select(Report).where(
                    Report.reporter_id == reporter_id,
                    Report.target_id == target_id,
                    Report.call_key == session_id,
                    Report.message_seq == REVIEW_SEQ,
                )
            )
            if existing is not None:
                return view(existing)
            await _within_open_cap(s, reporter_id)
            row = self._review_report(reporter_id, target_id, session_id, reason, details)
            row.evidence = evidence
            await attach(s, row)
            s.add(row)
            try:
                await s.flush()
            except IntegrityError:
                raise CodedError("report_exists", "this was reported already") from None
            return view(row)

    async def flag_review(
        self,
        target_id: str,
        session_id: str,
        categories: tuple[str, ...],
        evidence: dict[str, Any],
        s: AsyncSession | None = None,
    ) -> None:
        """Automatic moderation queued a review (or its reply, ``target_id`` the companion) for
        an admin, inside ``s`` when given (the review and its flag commit together)."""
        row = self._review_report(None, target_id, session_id, "auto", ", ".join(categories))
        row.evidence = evidence
        if s is not None:
            await attach(s, row)
            s.add(row)
            return
        async with self._db.writing() as own:
            await attach(own, row)
            own.add(row)

    def _review_report(
        self, reporter_id: str | None, target_id: str, session_id: str, reason: str, details: str
    ) -> Report:
        return Report(
            id="rpt_" + secrets.token_hex(12),
            reporter_id=reporter_id,
            target_id=target_id,
            call_key=session_id,
            message_seq=REVIEW_SEQ,
            reason=reason,
            details=details.strip(),
            status="open",
            created_at=self._clock.now(),
        )

    async def note_media(self, report_id: str, outcome: str) -> ReportView:
        """Record what became of the reported call's media evidence (``media``: kept, nothing
        kept, or reported too late), for the admin who reads the case."""
        async with self._db.writing() as s:
            row = await s.get(Report, report_id, with_for_update=True)
            if row is None:
                raise ReportNotFound()
            row.evidence = {**dict(row.evidence), "media": {"outcome": outcome}}
            return view(row)

    async def queue(self, status: str = "open", limit: int = 100) -> list[ReportView]:
        async with self._db.reading() as s:
            rows = (
                await s.scalars(
                    select(Report)
                    .where(Report.status == status)
                    .order_by(
                        case(
                            *((Report.priority == p, i) for i, p in enumerate(PRIORITIES)),
                            else_=len(PRIORITIES),
                        ),
                        Report.created_at,
                    )
                    .limit(limit)
                )
            ).all()
        return [view(r) for r in rows]

    async def nicknames(self, reports: list[ReportView]) -> dict[str, str]:
        """The nicknames of the people these reports name (for admins: who, not just an id)."""
        ids = {r.target_id for r in reports} | {r.reporter_id for r in reports if r.reporter_id}
        if not ids:
            return {}
        async with self._db.reading() as s:
            rows = (await s.execute(select(User.id, User.nickname).where(User.id.in_(ids)))).all()
        return {uid: nickname for uid, nickname in rows}

    async def mine(self, reporter_id: str, limit: int = 100) -> list[ReportView]:
        async with self._db.reading() as s:
            rows = (
                await s.scalars(
                    select(Report)
                    .where(Report.reporter_id == reporter_id)
                    .order_by(Report.created_at.desc())
                    .limit(limit)
                )
            ).all()
        return [view(r) for r in rows]

    async def decide(self, report_id: str, admin_id: str, status: str, note: str) -> ReportView:
        if status not in ("resolved", "dismissed"):
            raise CodedError("invalid_input", "a decision resolves or dismisses a report")
        async with self._db.writing() as s:
            row = await s.get(Report, report_id, with_for_update=True)
            if row is None:
                raise ReportNotFound()
            if row.status != "open":
                raise CodedError("report_decided", f"this report was {row.status} already")
            row.status = status
            row.decided_by = admin_id
            row.decided_at = self._clock.now()
            row.decision_note = note.strip()
            return view(row)


def is_room(call_id: str) -> bool:
    """A voice room's id (``vr_…``), reported or flagged as a call's is."""
    return call_id.startswith("vr_")


async def _room_evidence(
    s: AsyncSession, reporter_id: str | None, target_id: str, room_id: str, seq: int | None
) -> dict[str, Any]:
    """The room and the messages around message ``seq`` (``target_id``'s), or its last ones
    when ``seq`` is None (a blocked message, never stored).  A reporter (``None``: automatic
    moderation) must have been in the room when it was said: its host, or seated then."""
    room = await s.get(VoiceRoom, room_id)
    if room is None:
        raise ReportedSessionNotFound()
    query = select(VoiceRoomMessage).where(VoiceRoomMessage.room_id == room_id)
    if seq is not None:
        reported = await s.scalar(query.where(VoiceRoomMessage.seq == seq))
        if reported is None or reported.sender_id != target_id:
            raise CodedError(
                "message_not_found", "no such message of the reported user in that room"
            )
        if reporter_id is not None and reporter_id != room.host_id:
            seats = (
                await s.scalars(
                    select(VoiceRoomMember).where(
                        VoiceRoomMember.room_id == room_id,
                        VoiceRoomMember.user_id == reporter_id,
                    )
                )
            ).all()
            if not any(
                m.chat_from_seq < seq and (m.left_at is None or m.left_at >= reported.created_at)
                for m in seats
            ):
                raise CodedError(
                    "not_participant", "only those in the room when it was said may report it"
                )
        query = query.where(
            VoiceRoomMessage.seq >= seq - CONTEXT_MESSAGES,
            VoiceRoomMessage.seq <= seq + CONTEXT_MESSAGES,
        )
    else:
        query = query.order_by(VoiceRoomMessage.seq.desc()).limit(CONTEXT_MESSAGES * 2)
    messages = sorted((await s.scalars(query)).all(), key=lambda m: m.seq)
    return {
        "room": {
            "id": room.id,
            "title": room.title,
            "status": room.status,
            "host_id": room.host_id,
            "created_at": room.created_at.isoformat(),
            "close_reason": room.close_reason,
        },
        "reported_seq": seq,
        "messages": [
            {
                "seq": m.seq,
                "sender_id": m.sender_id,
                "text": m.body,
                "moderation": m.action,
                "at": m.created_at.isoformat(),
            }
            for m in messages
        ],
    }


async def _within_open_cap(s: AsyncSession, reporter_id: str) -> None:
    """A reporter has at most ``MAX_OPEN_PER_REPORTER`` reports waiting for review."""
    open_reports = await s.scalar(
        select(func.count())
        .select_from(Report)
        .where(Report.reporter_id == reporter_id, Report.status == "open")
    )
    if (open_reports or 0) >= MAX_OPEN_PER_REPORTER:
        raise CodedError(
            "too_many_reports",
            "you have many reports waiting for review; they are being looked at",
        )
