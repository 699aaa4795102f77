"""Vetting's part of the app: applications and their review, and companion levels (a companion
whose figures changed may be promoted: ``CompanionStatsChanged``, subscribed here)."""

from __future__ import annotations

from aiohttp import web

from accounts.keys import REAL_NAMES
from audit.keys import AUDIT
from kernel.keys import API, CLOCK, EVENTS, SETTINGS
from market.events import CompanionStatsChanged
from market.vetting import application_routes, review_routes, routes
from market.vetting.applications import Policy
from market.vetting.keys import VETTING
from market.vetting.service import VettingService
from store.keys import DB


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    vetting = app[VETTING] = VettingService(
        app[DB],
        app[CLOCK],
        app[REAL_NAMES],
        app[AUDIT],
        Policy(
            submissions_per_day=settings.vetting_submissions_per_day,
            reapply_cooldown_s=settings.vetting_reapply_cooldown_s,
        ),
    )

    async def promote(event: CompanionStatsChanged) -> None:
        await vetting.promote(event.companion_id)

    app[EVENTS].subscribe(CompanionStatsChanged, promote)
    for part in (application_routes, review_routes, routes):
        app[API].include(part.api)
