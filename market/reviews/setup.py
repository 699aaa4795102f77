"""Reviews' part of the app: reviews and the companions' figures, refreshed when a call ends
(``CallEnded``, subscribed here)."""

from __future__ import annotations

from aiohttp import web

from kernel.http.api import CURSORS
from kernel.keys import API, CLOCK, EVENTS, SETTINGS
from market.reviews import routes
from market.reviews.keys import REVIEWS, STATS
from market.reviews.service import ReviewService
from market.reviews.stats import StatsService
from moderation.keys import REPORTS
from signaling.domain_events import CallEnded
from store.keys import DB


def setup(app: web.Application) -> None:
    settings, db, clock, events = app[SETTINGS], app[DB], app[CLOCK], app[EVENTS]
    stats = app[STATS] = StatsService(db, clock, events)
    app[REVIEWS] = ReviewService(
        db,
        clock,
        stats,
        ReviewService.detector_from(settings.secret_key, settings.moderation_policy),
        app[CURSORS],
        reports=app[REPORTS],
        window_s=settings.review_window_days * 24 * 3600,
    )

    async def count_call(event: CallEnded) -> None:
        await stats.on_session_end(event.call_id)

    events.subscribe(CallEnded, count_call)
    app[API].include(routes.api)
