"""HTTP adapter for moderation: block and unblock users, list whom I blocked."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from accounts.keys import SANCTIONS
from accounts.sanction_rules import Kind
from audit.keys import AUDIT
from kernel.errors import CodedError
from kernel.http.access import ADMINS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from moderation import sanction_routes
from moderation.blocks import BlockService
from moderation.errors import CannotBlockSelf, UserNotFound
from moderation.keys import BLOCKS, CALL_EVIDENCE, REPORTS
from moderation.reports import (
    ReportedSessionNotFound,
    ReportNotFound,
    ReportView,
)
from moderation.views import ReportOut, report_out

api = Api()
UserIdField = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class BlockIn(Strict):
    user_id: UserIdField


class BlockedOut(BaseModel):
    user_id: str
    nickname: str
    since: datetime


class BlocksOut(BaseModel):
    blocked: list[BlockedOut]


@api.route(
    "POST",
    "/api/blocks",
    access=access(USERS),
    summary="Block a user: neither of you can call the other",
    tags=["safety"],
    body=BlockIn,
    response=BlocksOut,
    errors=[CannotBlockSelf, UserNotFound],
)
async def block_user(call: Call) -> BaseModel:
    body: BlockIn = call.body
    blocks = call.request.app[BLOCKS]
    await blocks.block(call.user.user_id, body.user_id)
    return await _list(blocks, call.user.user_id)


@api.route(
    "DELETE",
    "/api/blocks/{user_id}",
    access=access(USERS, user_id="public"),
    summary="Unblock a user",
    tags=["safety"],
    response=BlocksOut,
)
async def unblock_user(call: Call) -> BaseModel:
    blocks = call.request.app[BLOCKS]
    await blocks.unblock(call.user.user_id, call.request.match_info["user_id"][:32])
    return await _list(blocks, call.user.user_id)


@api.route(
    "GET",
    "/api/blocks",
    access=access(USERS),
    summary="Users I blocked",
    tags=["safety"],
    response=BlocksOut,
)
async def list_blocks(call: Call) -> BaseModel:
    return await _list(call.request.app[BLOCKS], call.user.user_id)


async def _list(blocks: BlockService, user_id: str) -> BlocksOut:
    return BlocksOut(
        blocked=[
            BlockedOut(user_id=u, nickname=n, since=t)
            for u, n, t in await blocks.blocked_by(user_id)
        ]
    )


# -- reports -------------------------------------------------------------------------------------

Reason = Literal["harassment", "contact_request", "offline_meeting", "upselling", "minor", "other"]


class ReportIn(Strict):
    user_id: UserIdField
    reason: Literal[
        "harassment", "contact_request", "offline_meeting", "upselling", "minor", "other"
    ]
    details: Annotated[str, Field(max_length=500)] = ""
    #: the session: a call (``call_…``), or a voice room (``vr_…``, with a message of its chat)
    call_id: Annotated[str, Field(pattern=r"^(call|vr)_[0-9a-f]{32}$")] | None = None
    message_seq: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class AdminReportOut(ReportOut):
    """A report as admins see it: the real identities, the evidence."""

    #: null: automatic moderation queued it
    reporter_id: str | None
    evidence: dict[str, Any]
    decided_by: str | None
    #: how soon to look; the queue lists high, then normal, then low, oldest first in each
    priority: Literal["high", "normal", "low"]
    #: who they are, beside the ids (null: the account is gone, or no reporter)
    target_nickname: str | None
    reporter_nickname: str | None


class ReportsOut(BaseModel):
    reports: list[ReportOut]


class AdminReportsOut(BaseModel):
    reports: list[AdminReportOut]


class ReportQuery(Strict):
    status: Literal["open", "resolved", "dismissed"] = "open"


class DecisionSanction(Strict):
    """The sanction a confirmed report imposes on its target (the ladder may escalate it)."""

    kind: Literal["warn", "mute", "suspend", "ban"]
    hours: Annotated[int, Field(ge=1, le=365 * 24)] | None = None
    freeze_earnings: bool = False


class DecisionIn(Strict):
    status: Literal["resolved", "dismissed"]
    note: Annotated[str, Field(min_length=1, max_length=500)]
    #: only with "resolved": the case's sanction, its reason the note
    sanction: DecisionSanction | None = None


def _admin_out(r: ReportView, names: dict[str, str]) -> AdminReportOut:
    """Admins moderate with the real identities: the stored ids, not the reporter's view."""
    real = {"target_id": r.target_id, "call_id": r.call_id, "message_seq": r.message_seq}
    return AdminReportOut(
        **(report_out(r).model_dump() | real),
        reporter_id=r.reporter_id,
        evidence=r.evidence,
        decided_by=r.decided_by,
        priority=r.priority,
        target_nickname=names.get(r.target_id),
        reporter_nickname=names.get(r.reporter_id) if r.reporter_id else None,
    )


@api.route(
    "POST",
    "/api/reports",
    access=access(USERS),
    summary="Report a user, a session with them, or one of their messages",
    tags=["safety"],
    body=ReportIn,
    response=ReportOut,
    status=201,
    errors=[UserNotFound, ReportedSessionNotFound],
)
async def create_report(call: Call) -> BaseModel:
    body: ReportIn = call.body
    report = await call.request.app[REPORTS].report(
        call.user.user_id,
        body.user_id,
        body.reason,
        body.details,
        body.call_id,
        body.message_seq,
    )
    if report.call_id is not None and "media" not in report.evidence:
        # A voice/video call: its last two minutes of media are sealed for the admins (or
        # the outcome says why not).  Committed work: a disconnect must not cut it short.
        task = asyncio.create_task(_keep_evidence(call.request.app, report))
        report = await asyncio.shield(task)
    return report_out(report)


async def _keep_evidence(app: web.Application, report: ReportView) -> ReportView:
    assert report.call_id is not None
    outcome = await app[CALL_EVIDENCE](report.id, report.call_id)
    if outcome is None:
        return report
    return await app[REPORTS].note_media(report.id, outcome)


@api.route(
    "GET",
    "/api/reports",
    access=access(USERS),
    summary="Reports I made",
    tags=["safety"],
    response=ReportsOut,
)
async def my_reports(call: Call) -> BaseModel:
    reports = await call.request.app[REPORTS].mine(call.user.user_id)
    return ReportsOut(reports=[report_out(r) for r in reports])


@api.route(
    "GET",
    "/api/admin/reports",
    access=access(ADMINS),
    summary="Admin: the report queue, the most urgent first (high, normal, low), then the "
    "oldest, with evidence",
    tags=["safety"],
    query=ReportQuery,
    response=AdminReportsOut,
)
async def report_queue(call: Call) -> BaseModel:
    q: ReportQuery = call.query
    reports = await call.request.app[REPORTS].queue(q.status)
    names = await call.request.app[REPORTS].nicknames(reports)
    return AdminReportsOut(reports=[_admin_out(r, names) for r in reports])


@api.route(
    "POST",
    "/api/admin/reports/{report_id}/decision",
    access=access(ADMINS, report_id="admin"),
    summary="Admin: resolve or dismiss a report, with a note",
    tags=["safety"],
    body=DecisionIn,
    response=AdminReportOut,
    errors=[ReportNotFound],
)
async def decide_report(call: Call) -> BaseModel:
    body: DecisionIn = call.body
    if body.sanction is not None and body.status != "resolved":
        raise CodedError("invalid_input", "only a confirmed (resolved) report imposes a sanction")
    report = await call.request.app[REPORTS].decide(
        call.request.match_info["report_id"][:40], call.user.user_id, body.status, body.note
    )
    await call.request.app[AUDIT].record(
        key=f"report.decide:{report.id}",
        admin_id=call.user.user_id,
        action="report.decide",
        subject_type="report",
        subject_id=report.id,
        detail={"status": body.status, "note": body.note},
    )
    if body.sanction is not None:
        # Once the report is decided (a second decision is refused, so never two sanctions).
        imposed = await call.request.app[SANCTIONS].impose(
            report.target_id,
            Kind(body.sanction.kind),
            body.note,
            call.user.user_id,
            hours=body.sanction.hours,
            case_id=report.id,
            freeze_earnings=body.sanction.freeze_earnings,
        )
        await sanction_routes.record(
            call, imposed, "sanction.impose", {"kind": imposed.kind, "case_id": report.id}
        )
    return _admin_out(report, await call.request.app[REPORTS].nicknames([report]))
