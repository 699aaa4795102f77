"""Vetting's state, under its AppKey (its three route modules read it)."""

from __future__ import annotations

from aiohttp import web

from market.vetting.service import VettingService

VETTING = web.AppKey("vetting", VettingService)
