"""The applicant's side of vetting: edit a draft, upload the voice sample and certificates,
submit; and what both sides read of an application.

Rules (the pure ones live in ``specialties``, ``checklist`` and ``uploads``):

- a verified adult real name first (``real_name_required`` / ``minor_not_allowed``), and never
  an admin (``admin_cannot_apply``: an approval would demote them);
- one open (draft or pending) application per user, enforced by a UNIQUE column;
- a pending application is frozen (``application_pending``); a decided one is final — editing
  after a rejection starts a new draft and the rejected one's files move to it;
- requested rates within the bounds of the applicant's level (newcomer for a first
  application), checked on every edit and again on submission;
- at most ``Policy.submissions_per_day`` submissions per rolling 24 h, and none within
  ``Policy.reapply_cooldown_s`` of the last rejection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from accounts.real_name import RealNameService
from accounts.roles import Role
from accounts.tokens import new_id
from kernel.clock import Clock
from kernel.errors import DomainError, InvalidInput
from market.vetting import errors
from market.vetting.checklist import CERTIFICATE, VOICE_SAMPLE, Status, check_rates, missing
from market.vetting.specialties import (
    GENDERS,
    SPECIALTIES,
    ApplicationRuleError,
    clean_intro,
    clean_specialties,
)
from market.vetting.uploads import (
    MAX_CERTIFICATES,
    UploadRejected,
    check_certificate,
    check_voice_sample,
)
from metering.tariff import Level, Rates
from store import Database
from store.models import CompanionRate, User
from store.models.vetting import ApplicationFile, CompanionApplication, CompanionProfile

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Policy:
    submissions_per_day: int = 5
    reapply_cooldown_s: int = 0


@dataclass(frozen=True, slots=True)
class Draft:
    """What the applicant writes (the uploads come separately)."""

    specialties: Sequence[str]
    gender: str
    intro: str
    rates: Rates


@dataclass(frozen=True, slots=True)
class FileView:
    id: str
    kind: str
    category: str
    content_type: str
    size_bytes: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFile:
    content_type: str
    data: bytes
    #: the public voice sample's version (0 for application files)
    version: int = 0


@dataclass(frozen=True, slots=True)
class ApplicationView:
    id: str
    user_id: str
    status: str
    reapplication: bool
    specialties: list[str]
    gender: str
    intro: str
    rates: Rates
    reason: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    voice_sample: FileView | None
    certificates: list[FileView]
    #: a draft's missing items (``voice_sample``, ``certificate:<category>``); else empty
    missing: list[str]


def rule_refusal(exc: ApplicationRuleError | UploadRejected) -> DomainError:
    details = exc.details if isinstance(exc, ApplicationRuleError) else {}
    return errors.refusal(exc.code, str(exc), **details)


def file_view(f: ApplicationFile) -> FileView:
    return FileView(f.id, f.kind, f.category, f.content_type, f.size_bytes, f.created_at)


async def files_of(
    s: AsyncSession, application_ids: Sequence[str]
) -> dict[str, list[ApplicationFile]]:
    """The files (without their bytes) of each application, oldest first."""
    found: dict[str, list[ApplicationFile]] = {a: [] for a in application_ids}
    if application_ids:
        rows = await s.scalars(
            select(ApplicationFile)
            .where(ApplicationFile.application_id.in_(application_ids))
            .order_by(ApplicationFile.created_at, ApplicationFile.id)
        )
        for f in rows:
            found[f.application_id].append(f)
    return found


def application_view(
    row: CompanionApplication, files: Sequence[ApplicationFile], missing_items: list[str]
) -> ApplicationView:
    voice = next((f for f in files if f.kind == VOICE_SAMPLE), None)
    return ApplicationView(
        id=row.id,
        user_id=row.user_id,
        status=row.status,
        reapplication=row.reapplication,
        specialties=list(row.specialties),
        gender=row.gender,
        intro=row.intro,
        rates=Rates(row.text_fen_per_min, row.voice_fen_per_min, row.video_fen_per_min),
        reason=row.reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        voice_sample=file_view(voice) if voice is not None else None,
        certificates=[file_view(f) for f in files if f.kind == CERTIFICATE],
        missing=missing_items,
    )


async def level_of(s: AsyncSession, user: User) -> Level:
    """The level an applicant's rates are bounded by: a companion's own, else newcomer."""
    if user.role != Role.COMPANION:
        return Level.NEWCOMER
    rates = await s.get(CompanionRate, user.id)
    return Level(rates.level) if rates is not None else Level.NEWCOMER


class Applications:
    def __init__(
        self, db: Database, clock: Clock, real_names: RealNameService, policy: Policy
    ) -> None:
        self._db = db
        self._clock = clock
        self._real_names = real_names
        self.policy = policy

    async def _require_adult(self, user_id: str) -> None:
        # The same check as a top-up's (RealNameService.require_adult), with this domain's
        # error classes so the API documents the codes.
        v = await self._real_names.view(user_id)
        if not v.verified:
            raise errors.RealNameRequired(
                "verify your real name before applying (PUT /api/me/real-name)"
            )
        if not v.adult:
            raise errors.MinorNotAllowed()

    async def _applicant(self, s: AsyncSession, user_id: str) -> User:
        user = await s.get(User, user_id)
        if user is None:
            raise errors.ApplicationNotFound()
        if user.role == Role.ADMIN:
            raise errors.AdminCannotApply()
        return user

    async def _open(self, s: AsyncSession, user_id: str) -> CompanionApplication | None:
        return await s.scalar(
            select(CompanionApplication)
            .where(CompanionApplication.open_for == user_id)
            .with_for_update()
        )

    async def _draft(self, s: AsyncSession, user_id: str) -> CompanionApplication:
        row = await self._open(s, user_id)
        if row is None:
            raise errors.ApplicationNotFound("start an application first (PUT /api/me/application)")
        if row.status != Status.DRAFT:
            raise errors.ApplicationPending()
        return row

    async def _latest_decided(self, s: AsyncSession, user_id: str) -> CompanionApplication | None:
        return await s.scalar(
            select(CompanionApplication)
            .where(
                CompanionApplication.user_id == user_id,
                CompanionApplication.status.in_((Status.APPROVED, Status.REJECTED)),
            )
            .order_by(CompanionApplication.decided_at.desc(), CompanionApplication.id.desc())
            .limit(1)
        )

    async def _view(self, s: AsyncSession, row: CompanionApplication) -> ApplicationView:
        files = (await files_of(s, [row.id]))[row.id]
        items: list[str] = []
        if row.status == Status.DRAFT:
            items = await self._missing(s, row, files)
        return application_view(row, files, items)

    async def _missing(
        self, s: AsyncSession, row: CompanionApplication, files: Sequence[ApplicationFile]
    ) -> list[str]:
        user = await s.get(User, row.user_id)
        profile = await s.get(CompanionProfile, row.user_id)
        first = user is None or user.role != Role.COMPANION or profile is None
        return missing(
            row.specialties,
            has_voice_sample=any(f.kind == VOICE_SAMPLE for f in files),
            first_application=first,
            certificate_categories={f.category for f in files if f.kind == CERTIFICATE},
            certified=set(profile.certified) if profile is not None else set(),
        )

    # -- reading ----------------------------------------------------------------------------

    async def current(self, user_id: str) -> ApplicationView | None:
        """The open application, else the last decided one (with a rejection's reason)."""
        async with self._db.reading() as s:
            row = await s.scalar(
                select(CompanionApplication).where(CompanionApplication.open_for == user_id)
            )
            if row is None:
                row = await self._latest_decided(s, user_id)
            return await self._view(s, row) if row is not None else None

    async def own_certificate(self, user_id: str, certificate_id: str) -> StoredFile:
        """One of the applicant's own certificates (someone else's: not found)."""
        async with self._db.reading() as s:
            f = await s.scalar(
                select(ApplicationFile)
                .join(CompanionApplication)
                .where(
                    ApplicationFile.id == certificate_id,
                    ApplicationFile.kind == CERTIFICATE,
                    CompanionApplication.user_id == user_id,
                )
                .options(undefer(ApplicationFile.data))
            )
        if f is None:
            raise errors.CertificateNotFound()
        return StoredFile(f.content_type, f.data)

    async def own_voice_sample(self, user_id: str) -> StoredFile:
        """The voice sample of the applicant's current application (see :meth:`current`)."""
        view = await self.current(user_id)
        if view is None or view.voice_sample is None:
            raise errors.VoiceSampleNotFound()
        async with self._db.reading() as s:
            f = await s.scalar(
                select(ApplicationFile)
                .where(ApplicationFile.id == view.voice_sample.id)
                .options(undefer(ApplicationFile.data))
            )
        if f is None:  # replaced in between
            raise errors.VoiceSampleNotFound()
        return StoredFile(f.content_type, f.data)

    # -- writing ----------------------------------------------------------------------------

    async def save_draft(self, user_id: str, draft: Draft) -> ApplicationView:
        """Create or replace the open draft's fields."""
        await self._require_adult(user_id)
        if draft.gender not in GENDERS:
            raise InvalidInput("gender must be female, male or empty")
        try:
            specialties = clean_specialties(draft.specialties)
            intro = clean_intro(draft.intro)
        except ApplicationRuleError as exc:
            raise rule_refusal(exc) from None
        for attempt in range(2):
            try:
                return await self._save(user_id, draft, specialties, intro)
            except IntegrityError:
                # Another request opened the draft at the same moment: edit that one.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _save(
        self, user_id: str, draft: Draft, specialties: list[str], intro: str
    ) -> ApplicationView:
        now = self._clock.now()
        async with self._db.writing() as s:
            user = await self._applicant(s, user_id)
            try:
                check_rates(draft.rates, await level_of(s, user), specialties)
            except ApplicationRuleError as exc:
                raise rule_refusal(exc) from None
            row = await self._open(s, user_id)
            if row is not None and row.status != Status.DRAFT:
                raise errors.ApplicationPending()
            if row is None:
                row = CompanionApplication(
                    id=new_id("apl"),
                    user_id=user_id,
                    status=Status.DRAFT.value,
                    open_for=user_id,
                    reapplication=user.role == Role.COMPANION,
                    reason="",
                    created_at=now,
                )
                self._fill(row, draft, specialties, intro, now)
                s.add(row)
                await s.flush()
                last = await self._latest_decided(s, user_id)
                if last is not None and last.status == Status.REJECTED:
                    # Resubmitting after a rejection: the uploads come along (delete or
                    # replace what the reason asked for).
                    await s.execute(
                        update(ApplicationFile)
                        .where(ApplicationFile.application_id == last.id)
                        .values(application_id=row.id)
                    )
            else:
                self._fill(row, draft, specialties, intro, now)
            return await self._view(s, row)

    @staticmethod
    def _fill(
        row: CompanionApplication, draft: Draft, specialties: list[str], intro: str, now: datetime
    ) -> None:
        row.specialties = specialties
        row.gender = draft.gender
        row.intro = intro
        row.text_fen_per_min = draft.rates.text_fen_per_min
        row.voice_fen_per_min = draft.rates.voice_fen_per_min
        row.video_fen_per_min = draft.rates.video_fen_per_min
        row.updated_at = now

    async def set_voice_sample(
        self, user_id: str, data: bytes, content_type: str
    ) -> ApplicationView:
        try:
            kind = check_voice_sample(data, content_type)
        except UploadRejected as exc:
            raise rule_refusal(exc) from None
        now = self._clock.now()
        async with self._db.writing() as s:
            await self._applicant(s, user_id)
            row = await self._draft(s, user_id)
            for old in (await files_of(s, [row.id]))[row.id]:
                if old.kind == VOICE_SAMPLE:
                    await s.delete(old)
            s.add(self._file(row, VOICE_SAMPLE, "", kind, data, now))
            row.updated_at = now
            await s.flush()
            return await self._view(s, row)

    async def add_certificate(
        self, user_id: str, category: str, data: bytes, content_type: str
    ) -> ApplicationView:
        if category not in SPECIALTIES:
            raise errors.InvalidCategory(f"the category must be one of {', '.join(SPECIALTIES)}")
        try:
            kind = check_certificate(data, content_type)
        except UploadRejected as exc:
            raise rule_refusal(exc) from None
        now = self._clock.now()
        async with self._db.writing() as s:
            await self._applicant(s, user_id)
            row = await self._draft(s, user_id)
            count = await s.scalar(
                select(func.count())
                .select_from(ApplicationFile)
                .where(
                    ApplicationFile.application_id == row.id, ApplicationFile.kind == CERTIFICATE
                )
            )
            if (count or 0) >= MAX_CERTIFICATES:
                raise errors.TooManyCertificates(
                    f"at most {MAX_CERTIFICATES} certificates per application; delete one first"
                )
            s.add(self._file(row, CERTIFICATE, category, kind, data, now))
            row.updated_at = now
            await s.flush()
            return await self._view(s, row)

    @staticmethod
    def _file(
        row: CompanionApplication,
        kind: str,
        category: str,
        content_type: str,
        data: bytes,
        now: datetime,
    ) -> ApplicationFile:
        return ApplicationFile(
            id=new_id("apf"),
            application_id=row.id,
            kind=kind,
            category=category,
            content_type=content_type,
            size_bytes=len(data),
            data=data,
            created_at=now,
        )

    async def delete_certificate(self, user_id: str, certificate_id: str) -> ApplicationView:
        now = self._clock.now()
        async with self._db.writing() as s:
            found = (
                await s.execute(
                    select(ApplicationFile, CompanionApplication)
                    .join(CompanionApplication)
                    .where(
                        ApplicationFile.id == certificate_id,
                        ApplicationFile.kind == CERTIFICATE,
                        CompanionApplication.user_id == user_id,
                    )
                )
            ).first()
            if found is None:
                raise errors.CertificateNotFound()
            cert, row = found
            if row.status == Status.PENDING:
                raise errors.ApplicationPending()
            if row.status != Status.DRAFT:
                raise errors.ApplicationDecided()
            await s.delete(cert)
            row.updated_at = now
            await s.flush()
            return await self._view(s, row)

    async def submit(self, user_id: str) -> ApplicationView:
        """Send the draft for review, or refuse saying what is missing or which limit holds."""
        await self._require_adult(user_id)
        now = self._clock.now()
        async with self._db.writing() as s:
            user = await self._applicant(s, user_id)
            row = await self._draft(s, user_id)
            files = (await files_of(s, [row.id]))[row.id]
            items = await self._missing(s, row, files)
            if items:
                raise errors.ApplicationIncomplete("missing: " + ", ".join(items), missing=items)
            try:
                check_rates(
                    Rates(row.text_fen_per_min, row.voice_fen_per_min, row.video_fen_per_min),
                    await level_of(s, user),
                    row.specialties,
                )
            except ApplicationRuleError as exc:
                raise rule_refusal(exc) from None
            last = await self._latest_decided(s, user_id)
            if last is not None and last.status == Status.REJECTED and last.decided_at:
                ready_at = last.decided_at + timedelta(seconds=self.policy.reapply_cooldown_s)
                if now < ready_at:
                    raise errors.ReapplyCooldown(
                        retry_after_s=int((ready_at - now).total_seconds()) + 1
                    )
            submitted = await s.scalar(
                select(func.count())
                .select_from(CompanionApplication)
                .where(
                    CompanionApplication.user_id == user_id,
                    CompanionApplication.submitted_at > now - _DAY,
                )
            )
            if (submitted or 0) >= self.policy.submissions_per_day:
                raise errors.TooManySubmissions(limit=self.policy.submissions_per_day)
            row.status = Status.PENDING.value
            row.reapplication = user.role == Role.COMPANION
            row.submitted_at = now
            row.updated_at = now
            return await self._view(s, row)
