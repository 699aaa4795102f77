"""The marketplace's part of the app: each of its domains sets itself up, in this order (a
domain's reactions to shared news run in it; the domains stop in the reverse order)."""

from __future__ import annotations

from aiohttp import web

from market.appeals import setup as appeals
from market.bookings import setup as bookings
from market.catalog import setup as catalog
from market.reviews import setup as reviews
from market.support import setup as support
from market.vetting import setup as vetting
from market.voicerooms import setup as voicerooms


def setup(app: web.Application) -> None:
    catalog.setup(app)
    vetting.setup(app)
    reviews.setup(app)
    bookings.setup(app)
    appeals.setup(app)
    support.setup(app)
    voicerooms.setup(app)
