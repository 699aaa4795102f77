"""Privacy's part of the app: a user's export and the deletion of their account (which ends
every login of theirs on every process through accounts' revocations)."""

from __future__ import annotations

from aiohttp import web

from accounts.keys import REVOCATIONS
from kernel.keys import API, CLOCK
from privacy import routes
from privacy.keys import PRIVACY
from privacy.service import PrivacyService
from store.keys import DB


def setup(app: web.Application) -> None:
    app[PRIVACY] = PrivacyService(app[DB], app[CLOCK], app[REVOCATIONS])
    app[API].include(routes.api)
