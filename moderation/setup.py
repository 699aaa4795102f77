"""Moderation's part of the app: blocks (which hide users from each other in accounts' listings)
and reports, with their routes; the sanction routes (the sanctions themselves are accounts': a
login must see them)."""

from __future__ import annotations

from aiohttp import web

from accounts.keys import HIDDEN_BETWEEN
from kernel.keys import API, CLOCK, EVENTS
from moderation import routes, sanction_routes
from moderation.blocks import BlockService
from moderation.keys import BLOCKS, REPORTS
from moderation.reports import ReportService
from store.keys import DB


def setup(app: web.Application) -> None:
    db, clock = app[DB], app[CLOCK]
    blocks = app[BLOCKS] = BlockService(db, clock, app[EVENTS])
    app[HIDDEN_BETWEEN] = blocks.between
    app[REPORTS] = ReportService(db, clock)
    app[API].include(routes.api)
    app[API].include(sanction_routes.api)
