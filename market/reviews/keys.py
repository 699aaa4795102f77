"""Reviews' state, under its AppKeys: the reviews and the companions' figures."""

from __future__ import annotations

from aiohttp import web

from market.reviews.service import ReviewService
from market.reviews.stats import StatsService

REVIEWS = web.AppKey("reviews", ReviewService)
STATS = web.AppKey("companion_stats", StatsService)
