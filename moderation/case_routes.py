"""HTTP adapter for the moderation console: the case queue, one case, its decision and undo.
Admins only; every decision, undo and reading of a case's conversation is audit-logged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from accounts.errors import UserNotFound
from accounts.sanction_rules import Kind
from accounts.sanctions import CannotSanction
from kernel.errors import CodedError
from kernel.http.access import ADMINS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from moderation.casebook import (
    CaseChanged,
    CaseDecided,
    CaseNotDecided,
    CaseNotFound,
    CaseSummary,
    Decision,
    UndoExpired,
)
from moderation.keys import CASES
from moderation.sanction_routes import AdminSanctionOut, admin_sanction_out

api = Api()

Severity = Literal["critical", "high", "normal", "low"]
CaseStatus = Literal["open", "confirmed", "dismissed"]


class CasePartyOut(BaseModel):
    id: str
    nickname: str
    avatar_url: str | None
    role: str


class CaseOut(BaseModel):
    id: str
    #: the category the case is about (``moderation.case_rules``: the detector's narrower ones
    #: folded, e.g. a phone number is ``contact_request``)
    category: str
    severity: Severity
    status: CaseStatus
    #: the conversation, null for a report about the user alone
    call_id: str | None
    #: the person whose conduct is decided (null: the account is gone)
    target: CasePartyOut | None
    #: its oldest item's time: how long it has waited
    opened_at: datetime
    #: reports and automatic flags in it; ``reports`` of them from users
    items: int
    reports: int
    #: send it back with a decision: a decision on an older version is refused (case_changed)
    version: int
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    sanction_id: str | None
    #: the decision can be undone until then
    undo_until: datetime | None


class CaseQueueOut(BaseModel):
    cases: list[CaseOut]
    #: open cases per severity
    counts: dict[str, int]
    #: the oldest open case's first item, and how long ago that was (null: none open)
    oldest_opened_at: datetime | None
    oldest_wait_s: int | None
    #: the server's time: waits and the undo countdown are shown against it, not the device's
    now: datetime


class CaseItemOut(BaseModel):
    id: str
    #: true: automatic moderation flagged it (no reporter)
    automatic: bool
    reporter_id: str | None
    reason: str
    #: an automatic flag's categories (the detector's names)
    categories: list[str]
    #: what the reporter wrote (empty for a flag)
    details: str
    status: str
    created_at: datetime
    message_seq: int | None
    #: the text of a message moderation stopped (it was never delivered)
    blocked_text: str | None
    #: a reported review, as stored
    review: dict[str, Any] | None
    #: a reported call's media: ``kept`` (play it: ``GET /api/admin/reports/{id}/call-evidence``),
    #: ``nothing_kept``, ``window_passed`` (reported too late); null: not a call report
    call_evidence: str | None = None


class ChatLineOut(BaseModel):
    #: null for a blocked message (never stored, so never numbered)
    seq: int | None
    sender_id: str
    text: str
    at: datetime | None
    moderation: str
    flagged: bool
    blocked: bool


class CaseDetailOut(BaseModel):
    case: CaseOut
    items: list[CaseItemOut]
    parties: list[CasePartyOut]
    call: dict[str, Any] | None
    chat: list[ChatLineOut]
    #: the target's other cases, newest first
    history: list[CaseOut]
    #: the target's sanctions, newest first
    sanctions: list[AdminSanctionOut]
    #: the server's time (the undo countdown runs against it)
    now: datetime


class CaseQueueQuery(Strict):
    status: Literal["open", "decided"] = "open"


class SanctionChoice(Strict):
    """The sanction a confirmation imposes (the ladder may escalate it); the reason is the note."""

    kind: Literal["warn", "mute", "suspend", "ban"]
    hours: Annotated[int, Field(ge=1, le=365 * 24)] | None = None
    freeze_earnings: bool = False


class CaseDecisionIn(Strict):
    decision: Literal["confirmed", "dismissed"]
    note: Annotated[str, Field(min_length=1, max_length=500)]
    #: the version read with the case
    version: Annotated[int, Field(ge=0, le=2**31 - 1)]
    sanction: SanctionChoice | None = None


def case_out(c: CaseSummary) -> CaseOut:
    """The response models mirror the casebook's views field for field."""
    return CaseOut.model_validate(c, from_attributes=True)


def _case_id(call: Call) -> str:
    return call.request.match_info["case_id"][:40]


@api.route(
    "GET",
    "/api/admin/cases",
    access=access(ADMINS),
    summary="Admin: the case queue, most severe first (minors and sexual content), then the "
    "longest waiting, with counts per severity and the oldest wait; or the recently decided",
    tags=["safety"],
    query=CaseQueueQuery,
    response=CaseQueueOut,
)
async def case_queue(call: Call) -> BaseModel:
    q: CaseQueueQuery = call.query
    book = call.request.app[CASES]
    queue = await book.queue(q.status)
    oldest, now = queue.oldest_opened_at, book.now()
    wait = None
    if oldest is not None:
        wait = max(0, int((now - oldest).total_seconds()))
    return CaseQueueOut(
        cases=[case_out(c) for c in queue.cases],
        counts=queue.counts,
        oldest_opened_at=oldest,
        oldest_wait_s=wait,
        now=now,
    )


@api.route(
    "GET",
    "/api/admin/cases/{case_id}",
    access=access(ADMINS, case_id="admin"),
    summary="Admin: one case — its reports and flags, the parties, the chat around the flagged "
    "lines, the target's earlier cases and sanctions (reading it is audit-logged)",
    tags=["safety"],
    response=CaseDetailOut,
    errors=[CaseNotFound],
)
async def case_detail(call: Call) -> BaseModel:
    d = await call.request.app[CASES].detail(_case_id(call), call.user.user_id)
    return CaseDetailOut(
        case=case_out(d.case),
        items=[CaseItemOut.model_validate(i, from_attributes=True) for i in d.items],
        parties=[CasePartyOut.model_validate(p, from_attributes=True) for p in d.parties],
        call=d.call,
        chat=[ChatLineOut.model_validate(m, from_attributes=True) for m in d.chat],
        history=[case_out(c) for c in d.history],
        sanctions=[admin_sanction_out(v) for v in d.sanctions],
        now=call.request.app[CASES].now(),
    )


@api.route(
    "POST",
    "/api/admin/cases/{case_id}/decision",
    access=access(ADMINS, case_id="admin"),
    summary="Admin: dismiss a case, or confirm it with a sanction from the ladder; the note is "
    "this case's own (audit-logged)",
    tags=["safety"],
    body=CaseDecisionIn,
    response=CaseOut,
    errors=[CaseNotFound, CaseDecided, CaseChanged, UserNotFound, CannotSanction],
)
async def decide_case(call: Call) -> BaseModel:
    body: CaseDecisionIn = call.body
    if body.sanction is not None and body.decision != "confirmed":
        raise CodedError("invalid_input", "only a confirmed case imposes a sanction")
    if not body.note.strip():
        raise CodedError("invalid_input", "a decision needs a note")
    chosen = body.sanction
    decision = Decision(
        body.decision,
        body.note,
        Kind(chosen.kind) if chosen is not None else None,
        chosen.hours if chosen is not None else None,
        chosen.freeze_earnings if chosen is not None else False,
    )
    summary = await call.request.app[CASES].decide(
        _case_id(call), call.user.user_id, body.version, decision
    )
    return case_out(summary)


@api.route(
    "POST",
    "/api/admin/cases/{case_id}/undo",
    access=access(ADMINS, case_id="admin"),
    summary="Admin: take a case's decision back within the undo window (10 minutes by "
    "default): the case is open again and the sanction it imposed lifted (audit-logged)",
    tags=["safety"],
    response=CaseOut,
    errors=[CaseNotFound, CaseNotDecided, UndoExpired],
)
async def undo_case(call: Call) -> BaseModel:
    return case_out(await call.request.app[CASES].undo(_case_id(call), call.user.user_id))
