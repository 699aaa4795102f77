"""Moderation's part of the app: blocks (which hide users from each other in accounts' listings)
and reports, with their routes; the sanction routes (the sanctions themselves are accounts': a
login must see them)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from aiohttp import web

from accounts.keys import HIDDEN_BETWEEN, SANCTIONS
from audit.keys import AUDIT
from kernel.keys import API, CLOCK, EVENTS, SETTINGS
from moderation import case_routes, detect, routes, sanction_routes
from moderation.blocks import BlockService
from moderation.casebook import CaseBook
from moderation.keys import BLOCKS, CALL_EVIDENCE, CASES, REPORTS
from moderation.reports import ReportService
from store.keys import DB

log = structlog.get_logger(__name__)
_warming = threading.Lock()  # one warm-up per process, however many apps it builds


def _warm() -> None:
    with _warming:
        compiled = detect.warm()
    if compiled:
        log.info("moderation_warm", patterns=compiled)


async def warm_ctx(app: web.Application) -> AsyncIterator[None]:
    if app[SETTINGS].moderation_warm:
        # A daemon thread: compiling is Python code, so the loop keeps running between its
        # switches; a stop does not wait for it.
        threading.Thread(target=_warm, name="moderation-warm", daemon=True).start()
    yield


def setup(app: web.Application) -> None:
    db, clock = app[DB], app[CLOCK]
    blocks = app[BLOCKS] = BlockService(db, clock, app[EVENTS])
    app[HIDDEN_BETWEEN] = blocks.between
    app[REPORTS] = ReportService(db, clock)

    async def keep_nothing(report_id: str, call_id: str) -> str | None:
        return None  # no relay in this app (signaling sets the real one)

    app[CALL_EVIDENCE] = keep_nothing
    app[CASES] = CaseBook(
        db, clock, app[AUDIT], app[SANCTIONS], timedelta(seconds=app[SETTINGS].case_undo_s)
    )
    app[API].include(routes.api)
    app[API].include(sanction_routes.api)
    app[API].include(case_routes.api)
    app.cleanup_ctx.append(warm_ctx)
