"""Cases: what an admin decides, the shell around ``moderation.case_rules``.

Every report (a user's or automatic moderation's) joins the open case of its grouping key in
the transaction that stores it (``attach``), or opens one.  An admin reads the queue (most
urgent, then longest waiting) and one case at a time (its items, the parties, the chat around
the flagged lines, the target's history), then dismisses it or confirms it with a sanction from
the ladder (``accounts.sanctions``: the one sanction service) and a note; within the undo window
the decision is taken back and the sanction it imposed lifted.

Decisions are guarded UPDATEs: ``WHERE status = 'open' AND version = :seen``.  Of two admins
deciding at once, on one process or two, the database lets exactly one through; the other is
told ``case_decided`` (or ``case_changed``: an item joined since they read it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import case as when
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.sanction_rules import Kind
from accounts.sanctions import SanctionLifted, SanctionService, SanctionView
from audit.log import AuditLog
from kernel.clock import Clock
from kernel.errors import DomainError
from moderation import case_rules as rules
from store import Database
from store.models import Call, Case, Message, Report, User
from store.models.voicerooms import VoiceRoomMessage

log = structlog.get_logger(__name__)

#: a voice room's id (``market.voicerooms.ids``, a layer above): its chat is the room's
ROOM_PREFIX = "vr_"

#: messages shown either side of a flagged one; the last ones when nothing names a message
CHAT_REACH = 5
MAX_CHAT_LINES = 200
MAX_QUEUE = 200
MAX_HISTORY = 20


class CaseNotFound(DomainError):
    code = "case_not_found"
    status = 404
    default_message = "no such case"


class CaseDecided(DomainError):
    code = "case_decided"
    status = 409
    default_message = "another admin decided this case already"


class CaseChanged(DomainError):
    code = "case_changed"
    status = 409
    default_message = "the case changed since you read it (a report joined it); read it again"


class CaseNotDecided(DomainError):
    code = "case_not_decided"
    status = 409
    default_message = "this case is open: there is no decision to undo"


class UndoExpired(DomainError):
    code = "case_undo_expired"
    status = 409
    default_message = "a decision can be undone only in the first minutes after it"


# -- joining -------------------------------------------------------------------------------------


async def attach(s: AsyncSession, row: Report) -> None:
    """Put the new report ``row`` (not yet flushed) into the open case of its key, or open one,
    inside the caller's transaction.  A case opened at the same moment by another process wins
    the UNIQUE ``open_key``; this one then joins it."""
    g = rules.group(row.target_id, row.call_key, row.reason, row.details, row.priority or "normal")
    for _ in range(3):
        found = await s.scalar(select(Case.id).where(Case.open_key == g.open_key))
        if found is not None:
            joined = await s.execute(
                update(Case)
                .where(Case.id == found, Case.status == "open")
                .values(
                    items=Case.items + 1,
                    version=Case.version + 1,
                    severity=when((Case.severity > g.severity, g.severity), else_=Case.severity),
                )
            )
            if joined.rowcount == 1:  # type: ignore[attr-defined]
                row.case_id = found
                return
            continue  # decided meanwhile: open a new one
        new = Case(
            id="case_" + secrets.token_hex(12),
            open_key=g.open_key,
            call_key=row.call_key,
            target_id=row.target_id,
            category=g.category,
            severity=g.severity,
            status="open",
            opened_at=row.created_at,
            items=1,
            version=0,
            decision_note="",
        )
        try:
            async with s.begin_nested():
                s.add(new)
                await s.flush()
        except IntegrityError:
            continue  # another process opened it first: join theirs
        row.case_id = new.id
        return
    raise RuntimeError(f"could not file a report into a case ({g.open_key})")


# -- what the admin reads ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    nickname: str
    avatar_url: str | None
    role: str


@dataclass(frozen=True, slots=True)
class CaseSummary:
    id: str
    category: str
    severity: str
    status: str
    call_id: str | None
    target: Party | None
    opened_at: datetime
    items: int
    reports: int
    version: int
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    sanction_id: str | None
    undo_until: datetime | None


@dataclass(frozen=True, slots=True)
class Queue:
    cases: list[CaseSummary]
    counts: dict[str, int]
    oldest_opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    automatic: bool
    reporter_id: str | None
    reason: str
    categories: list[str]
    details: str
    status: str
    created_at: datetime
    message_seq: int | None
    blocked_text: str | None
    review: dict[str, Any] | None
    #: what the report kept of its call's media (``kept``, ``nothing_kept``, ``window_passed``)
    call_evidence: str | None = None


@dataclass(frozen=True, slots=True)
class ChatLine:
    seq: int | None
    sender_id: str
    text: str
    at: datetime | None
    moderation: str
    flagged: bool
    blocked: bool


@dataclass(frozen=True, slots=True)
class Detail:
    case: CaseSummary
    items: list[Item]
    parties: list[Party]
    call: dict[str, Any] | None
    chat: list[ChatLine]
    history: list[CaseSummary]
    sanctions: list[SanctionView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # confirmed | dismissed
    note: str
    kind: Kind | None = None
    hours: int | None = None
    freeze_earnings: bool = False


class CaseBook:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditLog,
        sanctions: SanctionService,
        undo_window: timedelta = rules.UNDO_WINDOW,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._sanctions = sanctions
        self.undo_window = undo_window

    def now(self) -> datetime:
        return self._clock.now()

    async def queue(self, status: str = "open", limit: int = 100) -> Queue:
        """Open cases, most urgent first, then the longest waiting; or the recently decided
        (``status`` "decided", newest first), which is where an undo starts."""
        limit = min(limit, MAX_QUEUE)
        async with self._db.reading() as s:
            if status == "open":
                query = (
                    select(Case)
                    .where(Case.status == "open")
                    .order_by(Case.severity, Case.opened_at, Case.id)
                )
            else:
                query = (
                    select(Case)
                    .where(Case.status.in_(rules.DECISIONS))
                    .order_by(Case.decided_at.desc(), Case.id)
                )
            rows = list((await s.scalars(query.limit(limit))).all())
            grouped = (
                await s.execute(
                    select(Case.severity, func.count(), func.min(Case.opened_at))
                    .where(Case.status == "open")
                    .group_by(Case.severity)
                )
            ).all()
            people = await _parties(s, {r.target_id for r in rows})
            reports = await _user_reports(s, [r.id for r in rows])
        counts = dict.fromkeys(rules.SEVERITIES, 0)
        oldest: datetime | None = None
        for severity, n, first in grouped:
            counts[rules.severity_name(severity)] += int(n)
            oldest = first if oldest is None or first < oldest else oldest
        return Queue([self._summary(r, people, reports.get(r.id, 0)) for r in rows], counts, oldest)

    async def detail(self, case_id: str, admin_id: str) -> Detail:
        """One case, all an admin needs to decide it.  Reading it is audit-logged (once per
        admin and case): it shows a private conversation."""
        async with self._db.reading() as s:
            row = await s.get(Case, case_id)
            if row is None:
                raise CaseNotFound()
            reports = list(
                (
                    await s.scalars(
                        select(Report)
                        .where(Report.case_id == case_id)
                        .order_by(Report.created_at, Report.id)
                    )
                ).all()
            )
            call = await s.get(Call, row.call_key) if row.call_key else None
            ids = {row.target_id} | {r.reporter_id for r in reports if r.reporter_id}
            if call is not None:
                ids |= {call.customer_id, call.companion_id}
            in_room = bool(row.call_key) and row.call_key.startswith(ROOM_PREFIX)
            chat = await _chat(s, row, reports) if call is not None or in_room else []
            ids |= {m.sender_id for m in chat if m.sender_id}  # a room's other members too
            people = await _parties(s, ids)
            previous = list(
                (
                    await s.scalars(
                        select(Case)
                        .where(Case.target_id == row.target_id, Case.id != case_id)
                        .order_by(Case.opened_at.desc())
                        .limit(MAX_HISTORY)
                    )
                ).all()
            )
            counted = await _user_reports(s, [row.id, *(p.id for p in previous)])
        await self._audit.record(
            key=f"case.view:{case_id}:{admin_id}",
            admin_id=admin_id,
            action="case.view",
            subject_type="case",
            subject_id=case_id,
            detail={"target_id": row.target_id, "call_id": row.call_key or None},
        )
        return Detail(
            case=self._summary(row, people, counted.get(row.id, 0)),
            items=[_item(r) for r in reports],
            parties=[people[i] for i in sorted(ids) if i in people],
            call=_call(call) if call is not None else None,
            chat=chat,
            history=[self._summary(p, people, counted.get(p.id, 0)) for p in previous],
            sanctions=await self._sanctions.history(row.target_id),
        )

    # -- deciding --------------------------------------------------------------------------------

    async def decide(
        self, case_id: str, admin_id: str, version: int, decision: Decision
    ) -> CaseSummary:
        """Dismiss, or confirm (with the sanction ``decision.kind`` when given, its reason the
        note).  ``version`` is the one the admin read: CaseDecided / CaseChanged otherwise."""
        if decision.decision not in rules.DECISIONS:
            raise ValueError(decision.decision)
        now = self._clock.now()
        note = decision.note.strip()
        report_status = "resolved" if decision.decision == "confirmed" else "dismissed"
        async with self._db.writing() as s:
            claimed = await s.execute(
                update(Case)
                .where(Case.id == case_id, Case.status == "open", Case.version == version)
                .values(
                    status=decision.decision,
                    open_key=None,
                    version=Case.version + 1,
                    decided_by=admin_id,
                    decided_at=now,
                    decision_note=note,
                )
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                found = await s.get(Case, case_id)
                if found is None:
                    raise CaseNotFound()
                raise CaseDecided() if found.status != "open" else CaseChanged()
            await s.execute(
                update(Report)
                .where(Report.case_id == case_id, Report.status == "open")
                .values(
                    status=report_status, decided_by=admin_id, decided_at=now, decision_note=note
                )
            )
            await self._audit.record(
                key=f"case.decide:{case_id}:{version}",
                admin_id=admin_id,
                action="case.decide",
                subject_type="case",
                subject_id=case_id,
                detail={"decision": decision.decision, "note": note},
                s=s,
            )
        log.info("case_decided", case_id=case_id, decision=decision.decision, admin_id=admin_id)
        if decision.decision == "confirmed" and decision.kind is not None:
            try:
                imposed = await self._sanctions.impose(
                    await self._target(case_id),
                    decision.kind,
                    note,
                    admin_id,
                    hours=decision.hours,
                    case_id=case_id,
                    freeze_earnings=decision.freeze_earnings,
                )
            except DomainError:
                # Not imposed (an admin's account, a bad duration): the case is not decided.
                await self._reopen(case_id, admin_id, now, audit_action=None)
                raise
            async with self._db.writing() as s:
                # Only onto the decision this call made: an undo may have landed while the
                # sanction was being imposed (it found no sanction id to lift).
                recorded = await s.execute(
                    update(Case)
                    .where(
                        Case.id == case_id,
                        Case.status == "confirmed",
                        Case.version == version + 1,
                        Case.sanction_id.is_(None),
                    )
                    .values(sanction_id=imposed.id)
                )
                undone = recorded.rowcount != 1  # type: ignore[attr-defined]
                await self._audit.record(
                    key=f"sanction.impose:{imposed.id}",
                    admin_id=admin_id,
                    action="sanction.impose",
                    subject_type="user",
                    subject_id=imposed.user_id,
                    detail={"sanction_id": imposed.id, "kind": imposed.kind, "case_id": case_id},
                    s=s,
                )
            if undone:  # the decision was taken back meanwhile: so is what it imposed
                await self._take_back(imposed.id, case_id, admin_id)
        return await self.summary(case_id)

    async def undo(self, case_id: str, admin_id: str) -> CaseSummary:
        """Take a decision back within the undo window: the case and its reports are open
        again, the sanction it imposed lifted.  CaseNotDecided, UndoExpired otherwise."""
        now = self._clock.now()
        sanction_id = await self._reopen(case_id, admin_id, now, audit_action="case.undo")
        if sanction_id is not None:
            await self._take_back(sanction_id, case_id, admin_id)
        log.info("case_undone", case_id=case_id, admin_id=admin_id, sanction_id=sanction_id)
        return await self.summary(case_id)

    async def _take_back(self, sanction_id: str, case_id: str, admin_id: str) -> None:
        """Lift the sanction an undone decision imposed (audit-logged)."""
        try:
            lifted = await self._sanctions.lift(sanction_id, admin_id, f"undo {case_id}")
        except SanctionLifted:
            return  # lifted already (an appeal, by hand): nothing more to take back
        await self._audit.record(
            key=f"sanction.lift:{lifted.id}",
            admin_id=admin_id,
            action="sanction.lift",
            subject_type="user",
            subject_id=lifted.user_id,
            detail={"sanction_id": lifted.id, "case_id": case_id, "undo": True},
        )

    async def _reopen(
        self, case_id: str, admin_id: str, now: datetime, audit_action: str | None
    ) -> str | None:
        """Open a decided case again (its reports decided with it too), folding in a case
        opened for the same key since; the sanction id it had, if any."""
        for attempt in range(3):
            try:
                return await self._reopen_once(case_id, admin_id, now, audit_action)
            except IntegrityError:
                # A report opened the case of the same key while this ran (its transaction was
                # not yet committed, so it was not folded in): again, and it will be.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _reopen_once(
        self, case_id: str, admin_id: str, now: datetime, audit_action: str | None
    ) -> str | None:
        async with self._db.writing() as s:
            row = await s.get(Case, case_id, with_for_update=True)
            if row is None:
                raise CaseNotFound()
            if row.status == "open":
                raise CaseNotDecided()
            if audit_action is not None and not rules.may_undo(
                row.decided_at, now, self.undo_window
            ):
                raise UndoExpired(
                    until=rules.undo_until(row.decided_at, self.undo_window).isoformat()  # type: ignore[union-attr]
                )
            sanction_id, decided_at, decided_by = row.sanction_id, row.decided_at, row.decided_by
            key = f"{row.call_key or '-'}|{row.target_id}|{row.category}"
            newer = await s.scalar(select(Case).where(Case.open_key == key).with_for_update())
            if newer is not None:
                await s.execute(
                    update(Report).where(Report.case_id == newer.id).values(case_id=case_id)
                )
                row.items += newer.items
                row.severity = min(row.severity, newer.severity)
                row.opened_at = min(row.opened_at, newer.opened_at)
                await s.execute(delete(Case).where(Case.id == newer.id))
                await s.flush()
            await s.execute(
                update(Report)
                .where(
                    Report.case_id == case_id,
                    Report.decided_at == decided_at,
                    Report.decided_by == decided_by,
                )
                .values(status="open", decided_by=None, decided_at=None, decision_note="")
            )
            row.status, row.open_key, row.version = "open", key, row.version + 1
            row.decided_by, row.decided_at, row.decision_note = None, None, ""
            row.sanction_id = None
            if audit_action is not None:
                await self._audit.record(
                    key=f"{audit_action}:{case_id}:{row.version}",
                    admin_id=admin_id,
                    action=audit_action,
                    subject_type="case",
                    subject_id=case_id,
                    detail={"sanction_id": sanction_id},
                    s=s,
                )
        return sanction_id

    async def summary(self, case_id: str) -> CaseSummary:
        async with self._db.reading() as s:
            row = await s.get(Case, case_id)
            if row is None:
                raise CaseNotFound()
            people = await _parties(s, {row.target_id})
            counted = await _user_reports(s, [case_id])
        return self._summary(row, people, counted.get(case_id, 0))

    async def _target(self, case_id: str) -> str:
        async with self._db.reading() as s:
            target = await s.scalar(select(Case.target_id).where(Case.id == case_id))
        if target is None:
            raise CaseNotFound()
        return target

    def _summary(self, r: Case, people: dict[str, Party], reports: int) -> CaseSummary:
        return CaseSummary(
            id=r.id,
            category=r.category,
            severity=rules.severity_name(r.severity),
            status=r.status,
            call_id=r.call_key or None,
            target=people.get(r.target_id),
            opened_at=r.opened_at,
            items=r.items,
            reports=reports,
            version=r.version,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            sanction_id=r.sanction_id,
            undo_until=rules.undo_until(r.decided_at, self.undo_window),
        )


# -- reading helpers -----------------------------------------------------------------------------


async def _parties(s: AsyncSession, ids: set[str]) -> dict[str, Party]:
    if not ids:
        return {}
    rows = (await s.scalars(select(User).where(User.id.in_(ids)))).all()
    return {
        u.id: Party(
            u.id,
            u.nickname,
            f"/api/users/{u.id}/avatar?v={u.avatar_version}" if u.avatar_version else None,
            u.role,
        )
        for u in rows
    }


async def _user_reports(s: AsyncSession, case_ids: list[str]) -> dict[str, int]:
    """How many of each case's items users reported (the rest are automatic)."""
    if not case_ids:
        return {}
    rows = await s.execute(
        select(Report.case_id, func.count())
        .where(Report.case_id.in_(case_ids), Report.reporter_id.is_not(None))
        .group_by(Report.case_id)
    )
    return {str(cid): int(n) for cid, n in rows.all()}


def _item(r: Report) -> Item:
    automatic = r.reporter_id is None
    blocked = r.evidence.get("blocked") if isinstance(r.evidence, dict) else None
    review = r.evidence.get("review") if isinstance(r.evidence, dict) else None
    media = r.evidence.get("media") if isinstance(r.evidence, dict) else None
    return Item(
        id=r.id,
        automatic=automatic,
        reporter_id=r.reporter_id,
        reason=r.reason,
        categories=[c.strip() for c in r.details.split(",") if c.strip()] if automatic else [],
        details="" if automatic else r.details,
        status=r.status,
        created_at=r.created_at,
        message_seq=r.message_seq if r.message_seq and r.message_seq > 0 else None,
        blocked_text=str(blocked.get("text", "")) if isinstance(blocked, dict) else None,
        review=review if isinstance(review, dict) else None,
        call_evidence=str(media.get("outcome")) if isinstance(media, dict) else None,
    )


def _call(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "mode": c.mode,
        "status": c.status,
        "customer_id": c.customer_id,
        "companion_id": c.companion_id,
        "created_at": c.created_at.isoformat(),
    }


async def _chat(s: AsyncSession, row: Case, reports: list[Report]) -> list[ChatLine]:
    """The conversation around the flagged lines: the stored messages near each flagged one
    (the last ones when no item names a message), completed from the reports' evidence where
    retention deleted them, with the blocked messages (never stored) where they were sent."""
    flagged = {r.message_seq for r in reports if r.message_seq and r.message_seq > 0}
    # A voice room's chat (its id is the case's conversation key) or a call's.
    model: type[Message] | type[VoiceRoomMessage] = (
        VoiceRoomMessage if (row.call_key or "").startswith(ROOM_PREFIX) else Message
    )
    where = (
        VoiceRoomMessage.room_id == row.call_key
        if model is VoiceRoomMessage
        else Message.call_id == row.call_key
    )
    query = select(model).where(where)
    if flagged:
        shown = rules.around(flagged, CHAT_REACH)
        query = query.where(model.seq.in_(sorted(shown))).order_by(model.seq)
    else:
        query = query.order_by(model.seq.desc()).limit(CHAT_REACH * 4)
    found: list[Message | VoiceRoomMessage] = list((await s.scalars(query)).all())  # type: ignore[arg-type]
    lines: dict[int, ChatLine] = {
        m.seq: ChatLine(m.seq, m.sender_id, m.body, m.created_at, m.action, m.seq in flagged, False)
        for m in found
    }
    blocked: list[tuple[datetime, ChatLine]] = []
    for r in reports:
        ev = r.evidence if isinstance(r.evidence, dict) else {}
        for m in ev.get("messages") or []:
            seq = int(m.get("seq", 0))
            if (
                seq
                and seq not in lines
                and (not flagged or seq in rules.around(flagged, CHAT_REACH))
            ):
                lines[seq] = ChatLine(
                    seq,
                    str(m.get("sender_id", "")),
                    str(m.get("text", "")),
                    _parse(m.get("at")),
                    str(m.get("moderation", "allow")),
                    seq in flagged,
                    False,
                )
        b = ev.get("blocked")
        if isinstance(b, dict):
            at = _parse(b.get("at")) or r.created_at
            line = ChatLine(
                None, str(b.get("sender_id", "")), str(b.get("text", "")), at, "block", True, True
            )
            blocked.append((at, line))
    ordered = sorted(lines.values(), key=lambda line: line.seq or 0)
    for at, line in sorted(blocked, key=lambda b: b[0]):
        # After the last stored message sent before it (a blocked message has no seq).
        index = next(
            (i for i, m in enumerate(ordered) if m.at is not None and m.at > at), len(ordered)
        )
        ordered.insert(index, line)
    return ordered[-MAX_CHAT_LINES:]


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
