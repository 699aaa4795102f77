"""Appeals' state, under its AppKey."""

from __future__ import annotations

from aiohttp import web

from market.appeals.service import AppealService

APPEALS = web.AppKey("appeals", AppealService)
