"""Appeals' part of the app: a customer's appeal of a charge, decided by an admin."""

from __future__ import annotations

from aiohttp import web

from audit.keys import AUDIT
from kernel.keys import API, CLOCK, SETTINGS
from market.appeals import routes
from market.appeals.keys import APPEALS
from market.appeals.rules import Policy
from market.appeals.service import AppealService
from metering.keys import METERING
from store.keys import DB


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[APPEALS] = AppealService(
        app[DB],
        app[CLOCK],
        app[METERING],
        app[AUDIT],
        Policy(window_s=settings.appeal_window_days * 24 * 3600, max_open=settings.appeal_max_open),
    )
    app[API].include(routes.api)
