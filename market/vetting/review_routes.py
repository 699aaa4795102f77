"""HTTP adapter for the admin's side of vetting: the review queue, an application's files,
the decision (the applicant is told; an approval makes them a companion)."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from accounts.ids import UserId
from accounts.keys import ACCOUNTS
from kernel.http.access import ADMINS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from market.vetting import errors
from market.vetting.application_routes import ApplicationOut, application_out, file_response
from market.vetting.keys import VETTING
from market.vetting.review import Reviewed
from signaling.keys import EMITTER

api = Api()


class AdminApplicationOut(ApplicationOut):
    user_id: str
    nickname: str
    role: str
    real_name_masked: str | None
    #: a companion's current level (reapplications)
    level: str | None
    decided_by: str | None


class AdminApplicationsOut(BaseModel):
    applications: list[AdminApplicationOut]


class QueueQuery(Strict):
    status: Literal["pending", "approved", "rejected"] = "pending"
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class DecisionIn(Strict):
    approve: bool
    #: required to reject (the applicant is shown it)
    reason: Annotated[str, Field(max_length=200)] = ""


def _admin_out(r: Reviewed) -> AdminApplicationOut:
    return AdminApplicationOut(
        **application_out(r.application, admin=True).model_dump(),
        user_id=r.application.user_id,
        nickname=r.nickname,
        role=r.role,
        real_name_masked=r.real_name_masked,
        level=r.level,
        decided_by=r.application.decided_by,
    )


@api.route(
    "GET",
    "/api/admin/applications",
    access=access(ADMINS),
    summary="Admin: companion applications (pending: oldest first; decided: newest first)",
    tags=["vetting"],
    query=QueueQuery,
    response=AdminApplicationsOut,
)
async def admin_list_applications(call: Call) -> BaseModel:
    q: QueueQuery = call.query
    found = await call.request.app[VETTING].review.queue(q.status, q.limit)
    return AdminApplicationsOut(applications=[_admin_out(r) for r in found])


@api.route(
    "GET",
    "/api/admin/applications/{application_id}/voice-sample",
    access=access(ADMINS, application_id="admin"),
    summary="Admin: an application's voice sample",
    tags=["vetting"],
    raw_response_type="audio/webm",
    errors=[errors.VoiceSampleNotFound],
)
async def admin_application_voice_sample(call: Call) -> web.StreamResponse:
    f = await call.request.app[VETTING].review.voice_sample(
        call.request.match_info["application_id"][:40]
    )
    return file_response(f)


@api.route(
    "GET",
    "/api/admin/applications/{application_id}/certificates/{certificate_id}",
    access=access(ADMINS, application_id="admin", certificate_id="admin"),
    summary="Admin: one certificate of an application",
    tags=["vetting"],
    raw_response_type="image/jpeg",
    errors=[errors.CertificateNotFound],
)
async def admin_application_certificate(call: Call) -> web.StreamResponse:
    f = await call.request.app[VETTING].review.certificate(
        call.request.match_info["application_id"][:40],
        call.request.match_info["certificate_id"][:40],
    )
    return file_response(f)


@api.route(
    "POST",
    "/api/admin/applications/{application_id}/decision",
    access=access(ADMINS, application_id="admin"),
    summary="Admin: approve (the applicant becomes a companion) or reject with a reason",
    tags=["vetting"],
    body=DecisionIn,
    response=AdminApplicationOut,
    errors=[
        errors.ApplicationNotFound,
        errors.ApplicationDecided,
        errors.ReasonRequired,
        errors.AdminCannotApply,
        errors.RateOutOfBounds,
        errors.RateOrder,
    ],
)
async def admin_decide_application(call: Call) -> BaseModel:
    body: DecisionIn = call.body
    reviewed = await call.request.app[VETTING].review.decide(
        call.request.match_info["application_id"][:40],
        call.user.user_id,
        approve=body.approve,
        reason=body.reason,
    )
    a = reviewed.application
    await call.request.app[EMITTER].to_user(
        a.user_id,
        "application:decided",
        {"application_id": a.id, "status": a.status, "reason": a.reason},
    )
    if reviewed.role_changed:
        # After the decision is told (the sockets still open): they were authenticated as a
        # customer, so they are disconnected on every process and reconnect as a companion.
        await call.request.app[ACCOUNTS].role_changed(UserId(a.user_id))
    return _admin_out(reviewed)
