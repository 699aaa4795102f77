"""HTTP adapter for the audit log: admins read it (nobody writes it over HTTP)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from audit.keys import AUDIT
from kernel.cursor import MAX_CURSOR_CHARS, BadCursor
from kernel.http.access import ADMINS, access
from kernel.http.api import CURSORS, Api, Call
from kernel.http.models import Strict

api = Api()


class AuditQuery(Strict):
    subject_type: Annotated[str, Field(max_length=24)] | None = None
    subject_id: Annotated[str, Field(max_length=64)] | None = None
    admin_id: Annotated[str, Field(max_length=32)] | None = None
    #: the ``next_cursor`` of the previous page
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_CHARS)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class AuditEntryOut(BaseModel):
    id: int
    admin_id: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]
    at: datetime


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: str | None


@api.route(
    "GET",
    "/api/admin/audit",
    access=access(ADMINS),
    summary="Admin: the audit log of admin actions, newest first",
    tags=["admin"],
    query=AuditQuery,
    response=AuditOut,
    errors=[BadCursor],
)
async def audit_log(call: Call) -> BaseModel:
    q: AuditQuery = call.query
    cursors = call.request.app[CURSORS]
    entries = await call.request.app[AUDIT].page(
        subject_type=q.subject_type,
        subject_id=q.subject_id,
        admin_id=q.admin_id,
        before_id=cursors.decode_int("audit", q.cursor) if q.cursor else None,
        limit=q.limit,
    )
    more = len(entries) == q.limit
    return AuditOut(
        entries=[AuditEntryOut(**e.__dict__) for e in entries],
        next_cursor=cursors.encode("audit", [entries[-1].id]) if more else None,
    )
