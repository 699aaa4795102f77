"""HTTP adapter for sanctions: admins impose, list and lift them (audit-logged); the sanctioned
user reads theirs and appeals each once (logged in, or with the token a refused login gave)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from accounts.errors import UserNotFound
from accounts.keys import SANCTIONS
from accounts.sanction_rules import Kind
from accounts.sanctions import (
    MAX_APPEAL_CHARS,
    MAX_REASON_CHARS,
    AppealExists,
    BadAppealToken,
    CannotSanction,
    SanctionLifted,
    SanctionNotFound,
    SanctionView,
)
from audit.keys import AUDIT
from kernel.http.access import ADMINS, ANYONE, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict

api = Api()

SanctionKind = Literal["warn", "mute", "suspend", "ban"]
SanctionIdField = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


class SanctionIn(Strict):
    kind: SanctionKind
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS)]
    #: a mute's or a suspension's length (default: 24 h and 72 h); none for a warning or a ban
    hours: Annotated[int, Field(ge=1, le=365 * 24)] | None = None
    #: the case (report) it follows
    case_id: SanctionIdField | None = None
    freeze_earnings: bool = False


class LiftIn(Strict):
    note: Annotated[str, Field(min_length=1, max_length=500)]


class AppealIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=MAX_APPEAL_CHARS)]


class TokenAppealIn(AppealIn):
    token: Annotated[str, Field(min_length=1, max_length=120)]


class SanctionOut(BaseModel):
    """A sanction as its user sees it: what, why, from when until when, appealed or lifted."""

    id: str
    kind: SanctionKind
    reason: str
    starts_at: datetime
    ends_at: datetime | None
    in_force: bool
    freeze_earnings: bool
    appealed_at: datetime | None
    appeal_text: str
    lifted_at: datetime | None
    lift_note: str


class AdminSanctionOut(SanctionOut):
    user_id: str
    requested_kind: SanctionKind
    #: the ladder chose a heavier kind than asked, for repeat offences
    escalated: bool
    points: int
    case_id: str | None
    decided_by: str
    lifted_by: str | None


class SanctionsOut(BaseModel):
    sanctions: list[SanctionOut]


class AdminSanctionsOut(BaseModel):
    sanctions: list[AdminSanctionOut]


def sanction_out(v: SanctionView) -> SanctionOut:
    return SanctionOut(
        id=v.id,
        kind=Kind(v.kind).value,
        reason=v.reason,
        starts_at=v.starts_at,
        ends_at=v.ends_at,
        in_force=v.in_force,
        freeze_earnings=v.freeze_earnings,
        appealed_at=v.appealed_at,
        appeal_text=v.appeal_text,
        lifted_at=v.lifted_at,
        lift_note=v.lift_note,
    )


def admin_sanction_out(v: SanctionView) -> AdminSanctionOut:
    return AdminSanctionOut(
        **sanction_out(v).model_dump(),
        user_id=v.user_id,
        requested_kind=Kind(v.requested_kind).value,
        escalated=v.kind != v.requested_kind,
        points=v.points,
        case_id=v.case_id,
        decided_by=v.decided_by,
        lifted_by=v.lifted_by,
    )


@api.route(
    "POST",
    "/api/admin/users/{user_id}/sanctions",
    access=access(ADMINS, user_id="admin"),
    summary="Admin: sanction a user (warning, chat mute, suspension, ban); repeat offences "
    "escalate by the ladder's points",
    tags=["safety"],
    body=SanctionIn,
    response=AdminSanctionOut,
    status=201,
    errors=[UserNotFound, CannotSanction],
)
async def impose(call: Call) -> BaseModel:
    body: SanctionIn = call.body
    user_id = call.request.match_info["user_id"][:40]
    v = await call.request.app[SANCTIONS].impose(
        user_id,
        Kind(body.kind),
        body.reason,
        call.user.user_id,
        hours=body.hours,
        case_id=body.case_id,
        freeze_earnings=body.freeze_earnings,
    )
    await record(call, v, "sanction.impose", {"kind": v.kind, "requested": body.kind})
    return admin_sanction_out(v)


@api.route(
    "GET",
    "/api/admin/users/{user_id}/sanctions",
    access=access(ADMINS, user_id="admin"),
    summary="Admin: a user's sanctions, newest first",
    tags=["safety"],
    response=AdminSanctionsOut,
)
async def user_sanctions(call: Call) -> BaseModel:
    found = await call.request.app[SANCTIONS].history(call.request.match_info["user_id"][:40])
    return AdminSanctionsOut(sanctions=[admin_sanction_out(v) for v in found])


@api.route(
    "POST",
    "/api/admin/sanctions/{sanction_id}/lift",
    access=access(ADMINS, sanction_id="admin"),
    summary="Admin: lift a sanction, with a note",
    tags=["safety"],
    body=LiftIn,
    response=AdminSanctionOut,
    errors=[SanctionNotFound, SanctionLifted],
)
async def lift(call: Call) -> BaseModel:
    body: LiftIn = call.body
    v = await call.request.app[SANCTIONS].lift(
        call.request.match_info["sanction_id"][:40], call.user.user_id, body.note
    )
    await record(call, v, "sanction.lift", {"note": body.note})
    return admin_sanction_out(v)


@api.route(
    "GET",
    "/api/me/sanctions",
    access=access(USERS),
    summary="My sanctions: what, why, until when, and whether I appealed",
    tags=["safety"],
    response=SanctionsOut,
)
async def my_sanctions(call: Call) -> BaseModel:
    found = await call.request.app[SANCTIONS].mine(call.user.user_id)
    return SanctionsOut(sanctions=[sanction_out(v) for v in found])


@api.route(
    "POST",
    "/api/me/sanctions/{sanction_id}/appeal",
    access=access(USERS, sanction_id="self"),
    summary="Appeal one of my sanctions (once)",
    tags=["safety"],
    body=AppealIn,
    response=SanctionOut,
    errors=[SanctionNotFound, AppealExists, SanctionLifted],
)
async def appeal(call: Call) -> BaseModel:
    body: AppealIn = call.body
    v = await call.request.app[SANCTIONS].appeal(
        call.user.user_id, call.request.match_info["sanction_id"][:40], body.text
    )
    return sanction_out(v)


@api.route(
    "POST",
    "/api/sanctions/appeal",
    access=access(ANYONE),
    summary="Appeal a suspension or ban with the token a refused login gave (once)",
    tags=["safety"],
    body=TokenAppealIn,
    response=SanctionOut,
    errors=[BadAppealToken, AppealExists, SanctionLifted],
)
async def appeal_with_token(call: Call) -> BaseModel:
    body: TokenAppealIn = call.body
    v = await call.request.app[SANCTIONS].appeal_with_token(body.token, body.text)
    return sanction_out(v)


async def record(call: Call, v: SanctionView, action: str, detail: dict[str, object]) -> None:
    assert call.user is not None
    await call.request.app[AUDIT].record(
        key=f"{action}:{v.id}",
        admin_id=call.user.user_id,
        action=action,
        subject_type="user",
        subject_id=v.user_id,
        detail={"sanction_id": v.id, **detail},
    )
