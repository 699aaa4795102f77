"""The vetting service the app holds (``app[vetting.routes.VETTING]``): applications (the
applicant's side), review (the admin's), levels and promotion, the public voice sample."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.real_name import RealNameService
from accounts.roles import Role
from audit.log import AuditLog
from kernel.clock import Clock
from market.vetting import errors
from market.vetting.applications import Applications, Policy, StoredFile
from market.vetting.levels import Figures, Progress, progress, promotion
from market.vetting.review import Review
from metering.tariff import Level
from store import Database
from store.models import CompanionRate, User
from store.models.reviews import CompanionStats
from store.models.vetting import CompanionVoiceSample

log = structlog.get_logger(__name__)


def figures_of(stats: CompanionStats | None) -> Figures:
    if stats is None:
        return Figures(0, 0, 0)
    return Figures(stats.minutes, stats.rating_count, stats.rating_x100)


class VettingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        real_names: RealNameService,
        audit: AuditLog,
        policy: Policy | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.applications = Applications(db, clock, real_names, policy or Policy())
        self.review = Review(db, clock, audit)

    # -- levels -------------------------------------------------------------------------------

    async def promote(self, companion_id: str, *, s: AsyncSession | None = None) -> Level | None:
        """Raise ``companion_id``'s level if their ``CompanionStats`` earned a higher one (never
        lower it); new sessions then take that level's commission and the rate bounds widen.
        Returns the new level, or ``None`` if nothing changed.  Call it whenever the stats
        change; inside the caller's open write transaction ``s`` if there is one (on SQLite a
        second writer would wait for the first)."""
        if s is None:
            async with self._db.writing() as own:
                return await self._promote(own, companion_id)
        return await self._promote(s, companion_id)

    async def _promote(self, s: AsyncSession, companion_id: str) -> Level | None:
        rate = await s.get(CompanionRate, companion_id, with_for_update=True)
        user = await s.get(User, companion_id)
        if rate is None or user is None or user.role != Role.COMPANION:
            return None
        figures = figures_of(await s.get(CompanionStats, companion_id))
        current = Level(rate.level)
        target = promotion(current, figures)
        if target is None:
            return None
        rate.level = target.value
        rate.updated_at = self._clock.now()
        await s.flush()
        log.info(
            "companion_promoted",
            user_id=companion_id,
            from_level=current.value,
            to_level=target.value,
            minutes=figures.minutes,
            reviews=figures.reviews,
            rating_x100=figures.rating_x100,
        )
        return target

    async def level_progress(self, companion_id: str) -> Progress:
        """A companion's level and their way to the next one (``not_companion`` otherwise)."""
        async with self._db.reading() as s:
            user = await s.get(User, companion_id)
            rate = await s.get(CompanionRate, companion_id)
            if user is None or user.role != Role.COMPANION:
                raise errors.NotCompanion()
            stats = await s.get(CompanionStats, companion_id)
        level = Level(rate.level) if rate is not None else Level.NEWCOMER
        return progress(level, figures_of(stats))

    # -- the public voice sample --------------------------------------------------------------

    async def public_voice_sample(self, companion_id: str) -> StoredFile:
        async with self._db.reading() as s:
            user = await s.get(User, companion_id)
            sample = (
                await s.get(CompanionVoiceSample, companion_id)
                if user is not None and user.role == Role.COMPANION
                else None
            )
        if sample is None:
            raise errors.VoiceSampleNotFound()
        return StoredFile(sample.content_type, sample.data, sample.version)


def voice_sample_url(companion_id: str, version: int) -> str | None:
    """Where a companion's public voice sample is served (``None`` without one); the version
    in the query makes each approved sample a new URL, so it can be cached for long."""
    if version <= 0:
        return None
    return f"/api/companions/{companion_id}/voice-sample?v={version}"
