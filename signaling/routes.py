"""HTTP adapter for signaling: companions' online state for listings (live updates come over
Socket.IO with ``presence:watch``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field

from audit.keys import AUDIT
from kernel.http.access import ADMINS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from media.evidence_store import EvidenceItem, EvidenceNotFound, EvidenceUnreadable
from moderation.reports import ReportNotFound
from signaling.keys import CALLS, EVIDENCE

api = Api()


class PresenceQuery(Strict):
    #: comma-separated user ids, at most 50
    ids: Annotated[str, Field(min_length=1, max_length=50 * 33, pattern=r"^[A-Za-z0-9_,-]+$")]


class PresenceOut(BaseModel):
    statuses: dict[str, str]


@api.route(
    "GET",
    "/api/presence",
    access=access(USERS),
    summary="Online state (online, busy, offline) of up to 50 users",
    tags=["presence"],
    query=PresenceQuery,
    response=PresenceOut,
)
async def get_presence(call: Call) -> BaseModel:
    q: PresenceQuery = call.query
    ids = list(dict.fromkeys(i for i in q.ids.split(",") if i))[:50]
    calls, me = call.request.app[CALLS], call.user.user_id
    # As over the socket (presence:watch): a block either way hides whether they are online.
    hidden = {uid for uid in ids if uid != me and await calls.blocks.between(me, uid)}
    statuses = await calls.presence.statuses([uid for uid in ids if uid not in hidden])
    return PresenceOut(statuses=statuses | dict.fromkeys(hidden, "offline"))


# -- call evidence (admins) ----------------------------------------------------------------------


class EvidenceItemOut(BaseModel):
    id: str
    call_id: str
    #: the participant whose media this is
    subject_id: str
    #: ``audio`` (Ogg Opus, the last two minutes as received) or ``keyframe`` (a JPEG)
    kind: str
    content_type: str
    seq: int
    #: how long before the report (or the call's end) the piece starts
    offset_ms: int
    duration_ms: int
    packets: int
    size_bytes: int
    created_at: datetime
    #: deleted after this unless the report is still open
    expires_at: datetime


class EvidenceListOut(BaseModel):
    report_id: str
    items: list[EvidenceItemOut]


def _item_out(i: EvidenceItem) -> EvidenceItemOut:
    return EvidenceItemOut(
        id=i.id,
        call_id=i.call_id,
        subject_id=i.subject_id,
        kind=i.kind,
        content_type=i.content_type,
        seq=i.seq,
        offset_ms=i.offset_ms,
        duration_ms=i.duration_ms,
        packets=i.packets,
        size_bytes=i.size_bytes,
        created_at=i.created_at,
        expires_at=i.expires_at,
    )


@api.route(
    "GET",
    "/api/admin/reports/{report_id}/call-evidence",
    access=access(ADMINS, report_id="admin"),
    summary="Admin: the media evidence of a reported call (each participant's last two "
    "minutes of audio and video keyframes), without the media itself; each admin's first "
    "listing of a report is written to the audit log",
    tags=["safety"],
    response=EvidenceListOut,
    errors=[ReportNotFound],
)
async def list_call_evidence(call: Call) -> BaseModel:
    report_id = call.request.match_info["report_id"][:40]
    items = await call.request.app[EVIDENCE].of_report(report_id)
    if items is None:
        raise ReportNotFound()
    if items:  # who was recorded is itself private: the first listing by each admin is logged
        await call.request.app[AUDIT].record(
            key=f"evidence.list:{report_id}:{call.user.user_id}",
            admin_id=call.user.user_id,
            action="evidence.list",
            subject_type="report",
            subject_id=report_id,
            detail={"pieces": len(items)},
        )
    return EvidenceListOut(report_id=report_id, items=[_item_out(i) for i in items])


@api.route(
    "GET",
    "/api/admin/call-evidence/{evidence_id}",
    access=access(ADMINS, evidence_id="admin"),
    summary="Admin: one piece of call evidence, decrypted (audio/ogg or image/jpeg); every "
    "viewing is written to the audit log",
    tags=["safety"],
    raw_response_type="audio/ogg",
    alt_response_types=["image/jpeg"],
    errors=[EvidenceNotFound, EvidenceUnreadable],
)
async def get_call_evidence(call: Call) -> web.StreamResponse:
    evidence_id = call.request.match_info["evidence_id"][:40]
    item, data = await call.request.app[EVIDENCE].open(evidence_id)
    await call.request.app[AUDIT].record(
        key=f"evidence.view:{item.id}:{secrets.token_hex(8)}",  # every viewing, not the first
        admin_id=call.user.user_id,
        action="evidence.view",
        subject_type="report",
        subject_id=item.report_id,
        detail={"evidence_id": item.id, "kind": item.kind, "subject_id": item.subject_id},
    )
    return web.Response(
        body=data,
        content_type=item.content_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )
