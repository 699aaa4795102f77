"""The admin's side of vetting: the review queue, the uploads, and the decision.

Approval is one transaction: the application is decided, the user becomes a companion, their
profile is written (specialties, intro, the specialist categories a certificate was accepted
for, the voice sample's new version, the first approval's date), the voice sample is copied to
the public one, the prices are set within their level's bounds, and the audit line is
written.  Either all of it happens or none does; deciding again is ``application_decided``.
A first approval changes the user's role (``Reviewed.role_changed``): the caller then has their
sockets, authenticated as a customer, reconnect (``AccountService.role_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from accounts.roles import Role
from audit.log import AuditLog
from kernel.clock import Clock
from market.vetting import errors
from market.vetting.applications import ApplicationView, StoredFile, application_view, files_of
from market.vetting.checklist import CERTIFICATE, VOICE_SAMPLE, Status
from metering.tariff import SPECIALIST_CATEGORIES, Level, RateError, Rates, validate_rates
from store import Database
from store.models import CompanionRate, RealName, User
from store.models.vetting import (
    ApplicationFile,
    CompanionApplication,
    CompanionProfile,
    CompanionVoiceSample,
)

log = structlog.get_logger(__name__)

MAX_QUEUE_PAGE = 100


@dataclass(frozen=True, slots=True)
class Reviewed:
    """An application as an admin sees it: with who applied."""

    application: ApplicationView
    nickname: str
    role: str
    #: the masked name of the applicant's verified real name ("李**")
    real_name_masked: str | None
    #: a companion's current level (reapplications), else None
    level: str | None
    #: this decision changed the user's role (a first approval)
    role_changed: bool = False


class Review:
    def __init__(self, db: Database, clock: Clock, audit: AuditLog) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit

    async def queue(self, status: str = "pending", limit: int = 50) -> list[Reviewed]:
        """Pending applications oldest first (the work queue); decided ones newest first."""
        stmt = (
            select(
                CompanionApplication,
                User.nickname,
                User.role,
                RealName.name_masked,
                CompanionRate.level,
            )
            .join(User, User.id == CompanionApplication.user_id)
            .outerjoin(RealName, RealName.user_id == CompanionApplication.user_id)
            .outerjoin(CompanionRate, CompanionRate.user_id == CompanionApplication.user_id)
            .where(CompanionApplication.status == status)
            .limit(min(limit, MAX_QUEUE_PAGE))
        )
        if status == Status.PENDING:
            stmt = stmt.order_by(CompanionApplication.submitted_at, CompanionApplication.id)
        else:
            stmt = stmt.order_by(
                CompanionApplication.decided_at.desc(), CompanionApplication.id.desc()
            )
        async with self._db.reading() as s:
            rows = (await s.execute(stmt)).all()
            files = await files_of(s, [r[0].id for r in rows])
        return [
            Reviewed(
                application_view(app, files[app.id], []),
                nickname,
                role,
                masked,
                level if role == Role.COMPANION else None,
            )
            for app, nickname, role, masked, level in rows
        ]

    async def _file(self, application_id: str, kind: str, file_id: str | None = None) -> StoredFile:
        stmt = (
            select(ApplicationFile)
            .join(CompanionApplication)
            .where(
                ApplicationFile.application_id == application_id,
                ApplicationFile.kind == kind,
                CompanionApplication.status != Status.DRAFT,  # not submitted: not the admin's
            )
            .options(undefer(ApplicationFile.data))
        )
        if file_id is not None:
            stmt = stmt.where(ApplicationFile.id == file_id)
        async with self._db.reading() as s:
            f = await s.scalar(stmt)
        if f is None:
            if kind == VOICE_SAMPLE:
                raise errors.VoiceSampleNotFound()
            raise errors.CertificateNotFound()
        return StoredFile(f.content_type, f.data)

    async def voice_sample(self, application_id: str) -> StoredFile:
        return await self._file(application_id, VOICE_SAMPLE)

    async def certificate(self, application_id: str, certificate_id: str) -> StoredFile:
        return await self._file(application_id, CERTIFICATE, certificate_id)

    async def decide(
        self, application_id: str, admin_id: str, *, approve: bool, reason: str
    ) -> Reviewed:
        """Approve or reject a pending application (a rejection needs ``reason``, which the
        applicant is shown); logged as ``application.approve`` / ``application.reject``."""
        reason = reason.strip()
        if not approve and not reason:
            raise errors.ReasonRequired()
        now = self._clock.now()
        verb = "approve" if approve else "reject"
        async with self._db.writing() as s:
            row = await s.get(CompanionApplication, application_id, with_for_update=True)
            if row is None or row.status == Status.DRAFT:
                raise errors.ApplicationNotFound()
            if row.status != Status.PENDING:
                raise errors.ApplicationDecided(f"this application was {row.status} already")
            user = await s.get(User, row.user_id, with_for_update=True)
            assert user is not None  # the FK cascades: an application outlives no user
            files = (await files_of(s, [row.id]))[row.id]
            detail: dict[str, object] = {"user_id": user.id, "reason": reason}
            if approve:
                detail |= await self._approve(s, row, user, files, now)
                row.status = Status.APPROVED.value
            else:
                row.status = Status.REJECTED.value
            row.open_for = None
            row.reason = reason
            row.decided_by = admin_id
            row.decided_at = now
            row.updated_at = now
            await self._audit.record(
                key=f"application.{verb}:{row.id}",
                admin_id=admin_id,
                action=f"application.{verb}",
                subject_type="application",
                subject_id=row.id,
                detail=detail,
                s=s,
            )
            masked = await s.scalar(select(RealName.name_masked).where(RealName.user_id == user.id))
            rates = await s.get(CompanionRate, user.id)
            reviewed = Reviewed(
                application_view(row, files, []),
                user.nickname,
                user.role,
                masked,
                rates.level if rates is not None and user.role == Role.COMPANION else None,
                role_changed=bool(approve and detail.get("first")),
            )
        log.info(
            "application_decided",
            application_id=row.id,
            user_id=user.id,
            admin_id=admin_id,
            decision=verb,
        )
        return reviewed

    async def _approve(
        self,
        s: AsyncSession,
        row: CompanionApplication,
        user: User,
        files: list[ApplicationFile],
        now: datetime,
    ) -> dict[str, object]:
        if user.role == Role.ADMIN:
            raise errors.AdminCannotApply("an admin cannot become a companion")
        first = user.role != Role.COMPANION
        profile = await s.get(CompanionProfile, user.id)
        accepted = {f.category for f in files if f.kind == CERTIFICATE}
        if profile is not None:
            accepted |= set(profile.certified)
        specialties = list(row.specialties)
        certified = [c for c in specialties if c in SPECIALIST_CATEGORIES and c in accepted]
        specialist = bool(certified)

        rate_row = await s.get(CompanionRate, user.id)
        level = Level(rate_row.level) if rate_row is not None and not first else Level.NEWCOMER
        rates = Rates(row.text_fen_per_min, row.voice_fen_per_min, row.video_fen_per_min)
        try:
            validate_rates(rates, level, specialist)
        except RateError as exc:
            raise errors.refusal(exc.code, str(exc)) from None
        # Written here rather than through MeteringService.set_rates (the same validation and
        # row), which opens its own transaction: approval is one.
        if rate_row is None:
            rate_row = CompanionRate(user_id=user.id)
            s.add(rate_row)
        rate_row.level, rate_row.specialist = level.value, specialist
        rate_row.text_fen_per_min = rates.text_fen_per_min
        rate_row.voice_fen_per_min = rates.voice_fen_per_min
        rate_row.video_fen_per_min = rates.video_fen_per_min
        rate_row.updated_at = now

        version = profile.voice_sample_version if profile is not None else 0
        voice = next((f for f in files if f.kind == VOICE_SAMPLE), None)
        if voice is not None:
            data = await s.scalar(
                select(ApplicationFile.data).where(ApplicationFile.id == voice.id)
            )
            assert data is not None
            version += 1
            sample = await s.get(CompanionVoiceSample, user.id)
            if sample is None:
                sample = CompanionVoiceSample(user_id=user.id)
                s.add(sample)
            sample.content_type = voice.content_type
            sample.data = data
            sample.version = version
            sample.updated_at = now

        if profile is None:
            profile = CompanionProfile(user_id=user.id, approved_at=now)
            s.add(profile)
        profile.gender = row.gender
        profile.intro = row.intro
        profile.specialties = specialties
        profile.certified = certified
        profile.voice_sample_version = version
        profile.updated_at = now

        user.role = Role.COMPANION.value
        user.updated_at = now
        await s.flush()
        return {
            "first": first,
            "specialties": specialties,
            "certified": certified,
            "level": level.value,
            "rates_fen_per_min": [
                rates.text_fen_per_min,
                rates.voice_fen_per_min,
                rates.video_fen_per_min,
            ],
            "voice_sample_version": version,
        }
