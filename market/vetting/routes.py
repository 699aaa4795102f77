"""HTTP adapter for vetting: apply to be a companion (draft, uploads, submit), the admin review
queue and decision, the public voice sample, levels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from accounts.ids import UserId
from accounts.routes import ACCOUNTS
from kernel.errors import DomainError
from kernel.http.access import ADMINS, ANYONE, COMPANIONS, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from market.vetting import errors
from market.vetting.applications import ApplicationView, Draft, FileView, StoredFile
from market.vetting.levels import LABELS, ORDER, THRESHOLDS, Thresholds
from market.vetting.review import Reviewed
from market.vetting.service import VettingService
from market.vetting.specialties import (
    INTRO_MAX_CHARS,
    INTRO_MIN_CHARS,
    MAX_SPECIALTIES,
    SPECIALTIES,
)
from market.vetting.uploads import IMAGE_TYPES, MAX_CERTIFICATES, VOICE_TYPES
from metering.routes import rate_field
from metering.tariff import COMMISSION_BP, SPECIALIST_CATEGORIES, Level, Mode, Rates, bounds_for
from signaling.routes import EMITTER

VETTING = web.AppKey("vetting", VettingService)

api = Api()
_FILE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


class ApplicationIn(Strict):
    #: 1..5 of ``GET /api/specialties``
    specialties: Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=20)]
    gender: Literal["female", "male", ""] = ""
    #: 20..500 characters, no contact details
    intro: Annotated[str, Field(max_length=INTRO_MAX_CHARS * 2)]
    text_fen_per_min: Annotated[int, rate_field(Mode.TEXT)]
    voice_fen_per_min: Annotated[int, rate_field(Mode.VOICE)]
    video_fen_per_min: Annotated[int, rate_field(Mode.VIDEO)]


class CertificateQuery(Strict):
    #: the specialty the certificate is for (one of ``GET /api/specialties``)
    category: Annotated[str, Field(min_length=1, max_length=16)]


class RatesOut(BaseModel):
    text_fen_per_min: int
    voice_fen_per_min: int
    video_fen_per_min: int


class FileOut(BaseModel):
    id: str
    #: a certificate's specialty; "" for the voice sample
    category: str
    content_type: str
    size_bytes: int
    created_at: datetime
    url: str


class ApplicationOut(BaseModel):
    id: str
    #: draft | pending | approved | rejected
    status: str
    #: submitted by a companion (changing specialties, intro, certificates)
    reapplication: bool
    specialties: list[str]
    gender: str
    intro: str
    rates: RatesOut
    #: a rejection's reason (or an approval's note)
    reason: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    voice_sample: FileOut | None
    certificates: list[FileOut]
    #: what a draft still needs: ``voice_sample``, ``certificate:<category>``
    missing: list[str]
    can_submit: bool


class MyApplicationOut(BaseModel):
    #: the open application, else the last decided one, else null
    application: ApplicationOut | None


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


class SpecialtiesOut(BaseModel):
    specialties: list[str]
    #: these need a certificate, and raise the price ceiling
    specialist: list[str]
    max_specialties: int
    intro_min_chars: int
    intro_max_chars: int
    voice_types: list[str]
    certificate_types: list[str]
    max_certificates: int


class BoundsOut(BaseModel):
    min_fen: int
    max_fen: int


class ModeBoundsOut(BaseModel):
    text: BoundsOut
    voice: BoundsOut
    video: BoundsOut


class RateBoundsOut(BaseModel):
    normal: ModeBoundsOut
    #: with a certified specialist category (心理咨询, 外语陪练)
    specialist: ModeBoundsOut


class ThresholdsOut(BaseModel):
    #: billed minutes of completed sessions
    min_minutes: int
    min_reviews: int
    #: the Bayesian average rating × 100
    min_rating_x100: int


class LevelOut(BaseModel):
    name: str
    label: str
    thresholds: ThresholdsOut
    #: the platform's share of each minute, in basis points
    commission_bp: int
    rate_bounds: RateBoundsOut


class LevelsOut(BaseModel):
    levels: list[LevelOut]


class NextLevelOut(BaseModel):
    name: str
    label: str
    thresholds: ThresholdsOut
    #: per criterion (minutes, reviews, rating): reached already
    met: dict[str, bool]


class MyLevelOut(BaseModel):
    level: str
    label: str
    commission_bp: int
    minutes: int
    reviews: int
    rating_x100: int
    #: null at the top level
    next: NextLevelOut | None


def _file_out(f: FileView, url: str) -> FileOut:
    return FileOut(
        id=f.id,
        category=f.category,
        content_type=f.content_type,
        size_bytes=f.size_bytes,
        created_at=f.created_at,
        url=url,
    )


def _application_out(v: ApplicationView, *, admin: bool) -> ApplicationOut:
    base = f"/api/admin/applications/{v.id}" if admin else "/api/me/application"
    return ApplicationOut(
        id=v.id,
        status=v.status,
        reapplication=v.reapplication,
        specialties=v.specialties,
        gender=v.gender,
        intro=v.intro,
        rates=RatesOut(
            text_fen_per_min=v.rates.text_fen_per_min,
            voice_fen_per_min=v.rates.voice_fen_per_min,
            video_fen_per_min=v.rates.video_fen_per_min,
        ),
        reason=v.reason,
        created_at=v.created_at,
        updated_at=v.updated_at,
        submitted_at=v.submitted_at,
        decided_at=v.decided_at,
        voice_sample=(
            _file_out(v.voice_sample, f"{base}/voice-sample") if v.voice_sample else None
        ),
        certificates=[_file_out(c, f"{base}/certificates/{c.id}") for c in v.certificates],
        missing=v.missing,
        can_submit=v.status == "draft" and not v.missing,
    )


def _admin_out(r: Reviewed) -> AdminApplicationOut:
    return AdminApplicationOut(
        **_application_out(r.application, admin=True).model_dump(),
        user_id=r.application.user_id,
        nickname=r.nickname,
        role=r.role,
        real_name_masked=r.real_name_masked,
        level=r.level,
        decided_by=r.application.decided_by,
    )


def _file_response(f: StoredFile) -> web.Response:
    return web.Response(body=f.data, content_type=f.content_type, headers=_FILE_HEADERS)


_APPLY_ERRORS: list[type[DomainError]] = [
    errors.RealNameRequired,
    errors.MinorNotAllowed,
    errors.AdminCannotApply,
    errors.ApplicationPending,
]

# -- the applicant -------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/specialties",
    access=access(ANYONE),
    summary="What a companion may offer, and the limits of an application",
    tags=["vetting"],
    auth="none",
    response=SpecialtiesOut,
)
async def list_specialties(call: Call) -> BaseModel:
    return SpecialtiesOut(
        specialties=list(SPECIALTIES),
        specialist=[s for s in SPECIALTIES if s in SPECIALIST_CATEGORIES],
        max_specialties=MAX_SPECIALTIES,
        intro_min_chars=INTRO_MIN_CHARS,
        intro_max_chars=INTRO_MAX_CHARS,
        voice_types=list(VOICE_TYPES),
        certificate_types=list(IMAGE_TYPES),
        max_certificates=MAX_CERTIFICATES,
    )


@api.route(
    "GET",
    "/api/me/application",
    access=access(USERS),
    summary="My companion application: its status, a rejection's reason, what is missing",
    tags=["vetting"],
    response=MyApplicationOut,
)
async def get_my_application(call: Call) -> BaseModel:
    view = await call.request.app[VETTING].applications.current(call.user.user_id)
    return MyApplicationOut(
        application=_application_out(view, admin=False) if view is not None else None
    )


@api.route(
    "PUT",
    "/api/me/application",
    access=access(USERS),
    summary="Start or edit my companion application (a draft)",
    tags=["vetting"],
    body=ApplicationIn,
    response=ApplicationOut,
    errors=[*_APPLY_ERRORS, *errors.RULE_ERRORS],
)
async def put_my_application(call: Call) -> BaseModel:
    body: ApplicationIn = call.body
    view = await call.request.app[VETTING].applications.save_draft(
        call.user.user_id,
        Draft(
            specialties=body.specialties,
            gender=body.gender,
            intro=body.intro,
            rates=Rates(body.text_fen_per_min, body.voice_fen_per_min, body.video_fen_per_min),
        ),
    )
    return _application_out(view, admin=False)


@api.route(
    "PUT",
    "/api/me/application/voice-sample",
    access=access(USERS),
    summary="Upload my application's voice sample (replaces the previous one)",
    tags=["vetting"],
    response=ApplicationOut,
    raw_body_types=list(VOICE_TYPES),
    errors=[
        errors.ApplicationNotFound,
        errors.AdminCannotApply,
        errors.ApplicationPending,
        errors.VoiceSampleTooLarge,
        errors.InvalidVoiceSample,
        errors.UnsupportedAudioType,
    ],
)
async def put_application_voice_sample(call: Call) -> BaseModel:
    view = await call.request.app[VETTING].applications.set_voice_sample(
        call.user.user_id, call.raw_body, call.request.content_type
    )
    return _application_out(view, admin=False)


@api.route(
    "GET",
    "/api/me/application/voice-sample",
    access=access(USERS),
    summary="My application's voice sample",
    tags=["vetting"],
    raw_response_type="audio/webm",
    errors=[errors.VoiceSampleNotFound],
)
async def get_application_voice_sample(call: Call) -> web.StreamResponse:
    f = await call.request.app[VETTING].applications.own_voice_sample(call.user.user_id)
    return _file_response(f)


@api.route(
    "POST",
    "/api/me/application/certificates",
    access=access(USERS),
    summary="Add a certificate (an image) for one of my specialties to my application",
    tags=["vetting"],
    query=CertificateQuery,
    response=ApplicationOut,
    status=201,
    raw_body_types=list(IMAGE_TYPES),
    errors=[
        errors.ApplicationNotFound,
        errors.AdminCannotApply,
        errors.ApplicationPending,
        errors.InvalidCategory,
        errors.TooManyCertificates,
        errors.CertificateTooLarge,
        errors.InvalidCertificate,
        errors.UnsupportedImageType,
    ],
)
async def add_application_certificate(call: Call) -> BaseModel:
    q: CertificateQuery = call.query
    view = await call.request.app[VETTING].applications.add_certificate(
        call.user.user_id, q.category, call.raw_body, call.request.content_type
    )
    return _application_out(view, admin=False)


@api.route(
    "GET",
    "/api/me/application/certificates/{certificate_id}",
    access=access(USERS, certificate_id="self"),
    summary="One of my application's certificates",
    tags=["vetting"],
    raw_response_type="image/jpeg",
    errors=[errors.CertificateNotFound],
)
async def get_application_certificate(call: Call) -> web.StreamResponse:
    f = await call.request.app[VETTING].applications.own_certificate(
        call.user.user_id, call.request.match_info["certificate_id"][:40]
    )
    return _file_response(f)


@api.route(
    "DELETE",
    "/api/me/application/certificates/{certificate_id}",
    access=access(USERS, certificate_id="self"),
    summary="Remove a certificate from my draft application",
    tags=["vetting"],
    response=ApplicationOut,
    errors=[errors.CertificateNotFound, errors.ApplicationPending, errors.ApplicationDecided],
)
async def delete_application_certificate(call: Call) -> BaseModel:
    view = await call.request.app[VETTING].applications.delete_certificate(
        call.user.user_id, call.request.match_info["certificate_id"][:40]
    )
    return _application_out(view, admin=False)


@api.route(
    "POST",
    "/api/me/application/submit",
    access=access(USERS),
    summary="Submit my application for review",
    tags=["vetting"],
    response=ApplicationOut,
    errors=[
        *_APPLY_ERRORS,
        errors.ApplicationNotFound,
        errors.ApplicationIncomplete,
        errors.RateOutOfBounds,
        errors.RateOrder,
        errors.ReapplyCooldown,
        errors.TooManySubmissions,
    ],
)
async def submit_my_application(call: Call) -> BaseModel:
    view = await call.request.app[VETTING].applications.submit(call.user.user_id)
    return _application_out(view, admin=False)


# -- the admin -----------------------------------------------------------------------------------


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
    return _file_response(f)


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
    return _file_response(f)


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


# -- the public voice sample, levels -------------------------------------------------------------


@api.route(
    "GET",
    "/api/companions/{companion_id}/voice-sample",
    access=access(ANYONE, companion_id="public"),
    summary="A companion's voice sample (cacheable: the URL carries its version)",
    tags=["vetting"],
    auth="none",
    raw_response_type="audio/webm",
    errors=[errors.VoiceSampleNotFound],
)
async def companion_voice_sample(call: Call) -> web.StreamResponse:
    f = await call.request.app[VETTING].public_voice_sample(
        call.request.match_info["companion_id"][:32]
    )
    etag = f'"v{f.version}"'
    headers = {
        "Cache-Control": "public, max-age=86400",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if call.request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=f.data, content_type=f.content_type, headers=headers)


def _thresholds_out(t: Thresholds) -> ThresholdsOut:
    return ThresholdsOut(
        min_minutes=t.min_minutes, min_reviews=t.min_reviews, min_rating_x100=t.min_rating_x100
    )


def _mode_bounds(level: Level, specialist: bool) -> ModeBoundsOut:
    def one(mode: Mode) -> BoundsOut:
        b = bounds_for(mode, level, specialist)
        return BoundsOut(min_fen=b.min_fen, max_fen=b.max_fen)

    return ModeBoundsOut(text=one(Mode.TEXT), voice=one(Mode.VOICE), video=one(Mode.VIDEO))


@api.route(
    "GET",
    "/api/levels",
    access=access(ANYONE),
    summary="Companion levels: what each takes, its commission and price bounds",
    tags=["vetting"],
    auth="none",
    response=LevelsOut,
)
async def list_levels(call: Call) -> BaseModel:
    return LevelsOut(
        levels=[
            LevelOut(
                name=level.value,
                label=LABELS[level],
                thresholds=_thresholds_out(THRESHOLDS[level]),
                commission_bp=COMMISSION_BP[level],
                rate_bounds=RateBoundsOut(
                    normal=_mode_bounds(level, False), specialist=_mode_bounds(level, True)
                ),
            )
            for level in ORDER
        ]
    )


@api.route(
    "GET",
    "/api/me/level",
    access=access(COMPANIONS, refuse=errors.NotCompanion),
    summary="My level (companions) and my progress toward the next one",
    tags=["vetting"],
    response=MyLevelOut,
    errors=[errors.NotCompanion],
)
async def get_my_level(call: Call) -> BaseModel:
    p = await call.request.app[VETTING].level_progress(call.user.user_id)
    return MyLevelOut(
        level=p.level.value,
        label=LABELS[p.level],
        commission_bp=COMMISSION_BP[p.level],
        minutes=p.figures.minutes,
        reviews=p.figures.reviews,
        rating_x100=p.figures.rating_x100,
        next=(
            NextLevelOut(
                name=p.next.value,
                label=LABELS[p.next],
                thresholds=_thresholds_out(p.next_thresholds),
                met=p.met,
            )
            if p.next is not None and p.next_thresholds is not None
            else None
        ),
    )
