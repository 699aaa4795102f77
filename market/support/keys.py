"""Support's state, under its AppKey: the tickets."""

from __future__ import annotations

from aiohttp import web

from market.support.tickets import TicketService

TICKETS = web.AppKey("tickets", TicketService)
