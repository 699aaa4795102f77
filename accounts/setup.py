"""Accounts' part of the app: logins and profiles, real names, the authenticator every route uses,
and the revocation channel (subscribed before the first socket can connect)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from accounts import routes
from accounts.keys import ACCOUNTS, DEV_OUTBOX, REAL_NAMES, REVOCATIONS, SANCTIONS
from accounts.real_name import RealNameService
from accounts.real_name import SandboxProvider as SandboxRealNameProvider
from accounts.revocation import MemoryRevocations, RedisRevocations, Revocations
from accounts.sanctions import SanctionService
from accounts.service import AccountService
from accounts.sms import DevOutbox, SmsSender
from kernel.crypto import Sealer
from kernel.http.api import AUTHENTICATOR
from kernel.http.middleware import TELEMETRY
from kernel.keys import API, CLOCK, OWNER, SETTINGS
from store.keys import DB


def setup(app: web.Application, *, sms: SmsSender) -> None:
    settings, clock, db = app[SETTINGS], app[CLOCK], app[DB]
    revocations: Revocations = (
        RedisRevocations.from_url(settings.redis_url, settings.redis_prefix, app[OWNER])
        if settings.redis_url
        else MemoryRevocations()
    )
    app[REVOCATIONS] = revocations
    accounts = app[ACCOUNTS] = AccountService(db, sms, clock, settings, app[TELEMETRY], revocations)
    app[AUTHENTICATOR] = routes.SessionAuthenticator(accounts, settings)
    app[SANCTIONS] = SanctionService(db, clock, settings, accounts)
    if isinstance(sms, DevOutbox):
        app[DEV_OUTBOX] = sms
    app[REAL_NAMES] = RealNameService(
        db,
        clock,
        Sealer.from_settings(settings),
        SandboxRealNameProvider(),
        settings.secret_key,
        settings.real_name_attempts_per_day,
    )
    app[API].include(routes.api)

    async def revocation_channel(app_: web.Application) -> AsyncIterator[None]:
        await revocations.start()  # subscribed before the first socket can connect
        yield
        await revocations.close()

    app.cleanup_ctx.append(revocation_channel)
