"""The audit log's part of the app: the log itself and the admins' routes that read it."""

from __future__ import annotations

from aiohttp import web

from audit import routes
from audit.keys import AUDIT
from audit.log import AuditLog
from kernel.keys import API, CLOCK
from store.keys import DB


def setup(app: web.Application) -> None:
    app[AUDIT] = AuditLog(app[DB], app[CLOCK])
    app[API].include(routes.api)
