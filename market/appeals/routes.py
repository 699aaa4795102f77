"""HTTP adapter for appeals: the customer appeals a session, the companion responds, both read
the decision; admins work the queue and decide (refunds through metering, audit-logged)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from kernel.cursor import MAX_CURSOR_CHARS, BadCursor
from kernel.http.access import ADMINS, USERS, access
from kernel.http.api import CURSORS, Api, Call
from kernel.http.models import Strict
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
from market.appeals.keys import APPEALS
from market.appeals.service import AppealView
from metering.errors import RefundTooLarge, RefundUncovered
from metering.errors import SessionNotEnded as RefundSessionNotEnded
from signaling.keys import EMITTER

api = Api()

RequestId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Reason = Literal[
    "not_as_described", "companion_absent", "rude", "technical", "overcharged", "other"
]
assert set(get_args(Reason)) == set(rules.REASONS)


class AppealIn(Strict):
    reason: Reason
    #: what went wrong, 10-1000 characters once trimmed
    text: Annotated[str, Field(min_length=rules.TEXT_MIN_CHARS, max_length=rules.TEXT_MAX_CHARS)]
    #: the client's idempotency key: a resend with it returns the same appeal
    request_id: RequestId


class ResponseIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=rules.RESPONSE_MAX_CHARS)]


class DecisionIn(Strict):
    outcome: Literal["full", "partial", "reject"]
    #: partial only: 1 fen to 1 fen less than what is refundable
    amount_fen: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    #: shown to both parties
    reason: Annotated[str, Field(min_length=1, max_length=rules.DECISION_REASON_MAX_CHARS)]


class SessionFiguresOut(BaseModel):
    id: str
    mode: str
    rate_fen_per_min: int
    billed_minutes: int
    charged_fen: int
    refunded_fen: int
    ended_at: datetime | None


class PartyOut(BaseModel):
    id: str
    nickname: str


class AppealOut(BaseModel):
    id: str
    session: SessionFiguresOut
    customer: PartyOut
    companion: PartyOut
    reason: str
    text: str
    #: open | decided
    status: str
    #: the companion's response ("" until they respond)
    response_text: str
    responded_at: datetime | None
    #: full | partial | reject, once decided
    outcome: str | None
    #: what the decision refunded
    refund_fen: int
    decision_reason: str
    decided_at: datetime | None
    created_at: datetime


class AppealsOut(BaseModel):
    appeals: list[AppealOut]


class TranscriptLineOut(BaseModel):
    seq: int
    sender_id: str
    text: str
    at: datetime


class AdminAppealOut(AppealOut):
    decided_by: str | None
    #: a decision is being carried out (its refund under way); sending the same decision
    #: again finishes it (after a crash), a different one is refused (``appeal_deciding``)
    deciding: bool
    deciding_outcome: str | None
    deciding_refund_fen: int
    #: the session's chat: its last 200 messages, oldest first
    transcript: list[TranscriptLineOut]
    transcript_truncated: bool


class AdminAppealsOut(BaseModel):
    appeals: list[AdminAppealOut]
    #: pass as ``cursor`` for the next page; null on the last page
    next_cursor: str | None


class MineQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class QueueQuery(Strict):
    status: Literal["open", "decided"] = "open"
    limit: Annotated[int, Field(ge=1, le=50)] = 20
    #: the ``next_cursor`` of the previous page
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_CHARS)] | None = None


def appeal_out(v: AppealView) -> AppealOut:
    return AppealOut(
        id=v.id,
        session=SessionFiguresOut(
            id=v.session.id,
            mode=v.session.mode,
            rate_fen_per_min=v.session.rate_fen_per_min,
            billed_minutes=v.session.billed_minutes,
            charged_fen=v.session.charged_fen,
            refunded_fen=v.session.refunded_fen,
            ended_at=v.session.ended_at,
        ),
        customer=PartyOut(id=v.customer_id, nickname=v.customer_nickname),
        companion=PartyOut(id=v.companion_id, nickname=v.companion_nickname),
        reason=v.reason,
        text=v.text,
        status=v.status,
        response_text=v.response_text,
        responded_at=v.responded_at,
        outcome=v.outcome,
        refund_fen=v.refund_fen,
        decision_reason=v.decision_reason,
        decided_at=v.decided_at,
        created_at=v.created_at,
    )


def admin_appeal_out(v: AppealView) -> AdminAppealOut:
    return AdminAppealOut(
        **appeal_out(v).model_dump(),
        decided_by=v.decided_by,
        deciding=v.deciding,
        deciding_outcome=v.deciding_outcome,
        deciding_refund_fen=v.deciding_refund_fen,
        transcript=[
            TranscriptLineOut(seq=t.seq, sender_id=t.sender_id, text=t.text, at=t.at)
            for t in v.transcript
        ],
        transcript_truncated=v.transcript_truncated,
    )


def _appeal_id(call: Call) -> str:
    return call.request.match_info["appeal_id"][:40]


@api.route(
    "POST",
    "/api/sessions/{session_id}/appeal",
    access=access(USERS, session_id="customer"),
    summary="Appeal an ended, charged session of mine (within 7 days of its end)",
    tags=["appeals"],
    body=AppealIn,
    response=AppealOut,
    status=201,
    errors=[
        AppealedSessionNotFound,
        SessionNotEnded,
        NothingToAppeal,
        AppealWindowClosed,
        AlreadyAppealed,
        TooManyOpenAppeals,
        InvalidText,
    ],
)
async def create_appeal(call: Call) -> BaseModel:
    body: AppealIn = call.body
    view = await call.request.app[APPEALS].appeal(
        call.user.user_id,
        call.request.match_info["session_id"][:40],
        body.reason,
        body.text,
        body.request_id,
    )
    await _tell(call, view, view.companion_id)
    return appeal_out(view)


@api.route(
    "POST",
    "/api/appeals/{appeal_id}/response",
    access=access(USERS, appeal_id="companion"),
    summary="The companion's response to an appeal about their session (once, while open)",
    tags=["appeals"],
    body=ResponseIn,
    response=AppealOut,
    errors=[AppealNotFound, NotTheCompanion, AlreadyResponded, AppealDecided, InvalidText],
)
async def respond_to_appeal(call: Call) -> BaseModel:
    body: ResponseIn = call.body
    view = await call.request.app[APPEALS].respond(_appeal_id(call), call.user.user_id, body.text)
    await _tell(call, view, view.customer_id)
    return appeal_out(view)


@api.route(
    "GET",
    "/api/appeals",
    access=access(USERS),
    summary="Appeals I made and appeals about my sessions as a companion, newest first",
    tags=["appeals"],
    query=MineQuery,
    response=AppealsOut,
)
async def my_appeals(call: Call) -> BaseModel:
    q: MineQuery = call.query
    views = await call.request.app[APPEALS].mine(call.user.user_id, q.limit)
    return AppealsOut(appeals=[appeal_out(v) for v in views])


@api.route(
    "GET",
    "/api/appeals/{appeal_id}",
    access=access(USERS, appeal_id=("participant", "admin")),
    summary="One appeal, with the decision and its reason (either party, or an admin)",
    tags=["appeals"],
    response=AppealOut,
    errors=[AppealNotFound],
)
async def get_appeal(call: Call) -> BaseModel:
    view = await call.request.app[APPEALS].get(
        _appeal_id(call), call.user.user_id, admin=call.user.role == "admin"
    )
    return appeal_out(view)


@api.route(
    "GET",
    "/api/admin/appeals",
    access=access(ADMINS),
    summary="Admin: appeals by status, oldest first, with the session's figures and chat",
    tags=["admin"],
    query=QueueQuery,
    response=AdminAppealsOut,
    errors=[BadCursor],
)
async def appeal_queue(call: Call) -> BaseModel:
    q: QueueQuery = call.query
    cursors, kind = call.request.app[CURSORS], f"appeals.queue.{q.status}"
    after = cursors.decode_keyset(kind, q.cursor) if q.cursor else None
    views = await call.request.app[APPEALS].queue(q.status, limit=q.limit, after=after)
    last = views[-1] if len(views) == q.limit else None
    return AdminAppealsOut(
        appeals=[admin_appeal_out(v) for v in views],
        next_cursor=cursors.encode_keyset(kind, last.created_at, last.id) if last else None,
    )


@api.route(
    "GET",
    "/api/admin/appeals/{appeal_id}",
    access=access(ADMINS, appeal_id="admin"),
    summary="Admin: one appeal with the session's figures and chat",
    tags=["admin"],
    response=AdminAppealOut,
    errors=[AppealNotFound],
)
async def admin_get_appeal(call: Call) -> BaseModel:
    view = await call.request.app[APPEALS].get(_appeal_id(call), call.user.user_id, admin=True)
    return admin_appeal_out(view)


@api.route(
    "POST",
    "/api/admin/appeals/{appeal_id}/decision",
    access=access(ADMINS, appeal_id="admin"),
    summary="Admin: decide an appeal (full or partial refund, or reject); final, audit-logged",
    tags=["admin"],
    body=DecisionIn,
    response=AdminAppealOut,
    errors=[
        AppealNotFound,
        AppealDecided,
        AppealDeciding,
        NothingToRefund,
        InvalidRefundAmount,
        InvalidDecision,
        InvalidText,
        RefundUncovered,
        RefundTooLarge,
        RefundSessionNotEnded,
    ],
)
async def decide_appeal(call: Call) -> BaseModel:
    body: DecisionIn = call.body
    view = await call.request.app[APPEALS].decide(
        _appeal_id(call), call.user.user_id, body.outcome, body.amount_fen, body.reason
    )
    for party in (view.customer_id, view.companion_id):
        await _tell(call, view, party)
    return admin_appeal_out(view)


async def _tell(call: Call, view: AppealView, user_id: str) -> None:
    """The other party (or both, on a decision) learn that the appeal moved."""
    await call.request.app[EMITTER].to_user(
        user_id,
        "appeal:updated",
        {
            "appeal_id": view.id,
            "session_id": view.session.id,
            "status": view.status,
            "outcome": view.outcome,
            "refund_fen": view.refund_fen,
        },
    )
