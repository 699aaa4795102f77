"""Privacy's state, under its AppKey: the export and deletion of a user's data."""

from __future__ import annotations

from aiohttp import web

from privacy.service import PrivacyService

PRIVACY = web.AppKey("privacy", PrivacyService)
