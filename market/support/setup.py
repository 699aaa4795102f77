"""Support's part of the app: users' tickets and the admins' replies."""

from __future__ import annotations

from aiohttp import web

from audit.keys import AUDIT
from kernel.keys import API, CLOCK, SETTINGS
from market.support import routes
from market.support.keys import TICKETS
from market.support.rules import Policy
from market.support.tickets import TicketService
from store.keys import DB


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[TICKETS] = TicketService(
        app[DB],
        app[CLOCK],
        app[AUDIT],
        Policy(
            max_open=settings.ticket_max_open,
            max_per_day=settings.ticket_max_per_day,
            max_messages=settings.ticket_max_messages,
        ),
    )
    app[API].include(routes.api)
