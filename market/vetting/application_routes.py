"""HTTP adapter for the applicant's side of vetting: the limits of an application, my
application (a draft, its voice sample and certificates), submitting it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from kernel.errors import DomainError
from kernel.http.access import ANYONE, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from market.vetting import errors
from market.vetting.applications import ApplicationView, Draft, FileView, StoredFile
from market.vetting.keys import VETTING
from market.vetting.specialties import (
    INTRO_MAX_CHARS,
    INTRO_MIN_CHARS,
    MAX_SPECIALTIES,
    SPECIALTIES,
)
from market.vetting.uploads import IMAGE_TYPES, MAX_CERTIFICATES, VOICE_TYPES
from metering.rate_fields import rate_field
from metering.tariff import SPECIALIST_CATEGORIES, Mode, Rates

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


def _file_out(f: FileView, url: str) -> FileOut:
    return FileOut(
        id=f.id,
        category=f.category,
        content_type=f.content_type,
        size_bytes=f.size_bytes,
        created_at=f.created_at,
        url=url,
    )


def application_out(v: ApplicationView, *, admin: bool) -> ApplicationOut:
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


def file_response(f: StoredFile) -> web.Response:
    return web.Response(body=f.data, content_type=f.content_type, headers=_FILE_HEADERS)


_APPLY_ERRORS: list[type[DomainError]] = [
    errors.RealNameRequired,
    errors.MinorNotAllowed,
    errors.AdminCannotApply,
    errors.ApplicationPending,
]


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
        application=application_out(view, admin=False) if view is not None else None
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
    return application_out(view, admin=False)


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
    return application_out(view, admin=False)


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
    return file_response(f)


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
    return application_out(view, admin=False)


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
    return file_response(f)


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
    return application_out(view, admin=False)


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
    return application_out(view, admin=False)
