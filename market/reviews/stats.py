"""Companion figures (``CompanionStats``), recomputed from their source rows: the visible
reviews (count, sum of stars, the Bayesian rating) and the ended metered sessions with billed
minutes (orders, minutes).  A refresh writes what the rows say now, so running it twice, late or
concurrently changes nothing: it is idempotent, and a refresh lost to a crash is repaired by the
next one (a review, an ended session, an admin hiding a review).
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.events import EventBus
from market.events import CompanionStatsChanged
from market.reviews.rules import bayesian_x100
from store import Database
from store.models import MeteredSession
from store.models.reviews import CompanionStats, Review

log = structlog.get_logger(__name__)


class StatsService:
    def __init__(self, db: Database, clock: Clock, events: EventBus) -> None:
        self._db = db
        self._clock = clock
        #: ``CompanionStatsChanged`` goes here after a companion's figures changed
        self._events = events

    async def refresh(self, companion_id: str) -> CompanionStats:
        """Recompute ``companion_id``'s figures in a transaction of their own, then publish
        ``CompanionStatsChanged``."""
        for attempt in range(2):
            try:
                async with self._db.writing() as s:
                    row = await self.refresh_in(s, companion_id)
                break
            except IntegrityError:
                # Two first refreshes inserted the row at once; the second pass finds it.
                if attempt:
                    raise
        await self.changed(companion_id)
        return row

    async def refresh_in(self, s: AsyncSession, companion_id: str) -> CompanionStats:
        """Recompute inside the caller's transaction (a review and its figures commit together).
        The stats row is locked first, so counts read after it are not older than those of a
        concurrent refresh that commits before this one (PostgreSQL, read committed)."""
        now = self._clock.now()
        row = await s.get(CompanionStats, companion_id, with_for_update=True)
        if row is None:
            row = CompanionStats(
                user_id=companion_id,
                rating_count=0,
                rating_sum=0,
                rating_x100=bayesian_x100(0, 0),
                orders=0,
                minutes=0,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
        count, stars = (
            await s.execute(
                select(func.count(), func.coalesce(func.sum(Review.stars), 0)).where(
                    Review.companion_id == companion_id, Review.hidden_at.is_(None)
                )
            )
        ).one()
        orders, minutes = (
            await s.execute(
                select(
                    func.count(), func.coalesce(func.sum(MeteredSession.billed_minutes), 0)
                ).where(
                    MeteredSession.companion_id == companion_id,
                    MeteredSession.status == "ended",
                    MeteredSession.billed_minutes > 0,
                )
            )
        ).one()
        row.rating_count = int(count)
        row.rating_sum = int(stars)
        row.rating_x100 = bayesian_x100(int(count), int(stars))
        row.orders = int(orders)
        row.minutes = int(minutes)
        row.updated_at = now
        return row

    async def changed(self, companion_id: str) -> None:
        """Tell whoever reacts to a companion's figures (vetting promotes on it)."""
        await self._events.publish(CompanionStatsChanged(companion_id))

    async def on_session_end(self, session_id: str) -> None:
        """A call ended (``signaling.events.CallEnded``): it may have added an order and
        minutes.  Never raises (the other reactions to the call's end run after it)."""
        try:
            async with self._db.reading() as s:
                companion_id = await s.scalar(
                    select(MeteredSession.companion_id).where(MeteredSession.id == session_id)
                )
            if companion_id is not None:  # declined or cancelled: never metered, nothing new
                await self.refresh(companion_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stats_refresh_failed", session_id=session_id)

    async def of(self, companion_id: str) -> CompanionStats | None:
        async with self._db.reading() as s:
            return await s.get(CompanionStats, companion_id)
