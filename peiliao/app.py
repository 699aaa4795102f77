"""The composition root: ``create_app(settings)`` builds the whole server from the packages'
``setup()`` functions.

It reads as the table of contents of the server: each package's ``setup(app)`` registers that
package's state (under its own AppKeys), routes, Socket.IO handlers, background work
(``cleanup_ctx``) and its reactions to other domains' news (``kernel.events``).  The order is the
order of the layers, bottom up: a package finds what it builds on already set up, and stops
before it (``kernel.setup.before_cleanup``; cleanup contexts close in reverse)."""

from __future__ import annotations

from aiohttp import web

from accounts.setup import setup as setup_accounts
from accounts.sms import SmsSender
from audit.setup import setup as setup_audit
from kernel.clock import Clock, SystemClock
from kernel.http.middleware import errors, request_context, security_headers
from kernel.keys import API
from kernel.settings import Settings
from kernel.setup import setup as setup_kernel
from kernel.telemetry import PrometheusTelemetry
from market.setup import setup as setup_market
from metering.payments import PaymentProvider
from metering.payouts import PayoutProvider
from metering.setup import setup as setup_metering
from moderation.setup import setup as setup_moderation
from peiliao.keys import OPENAPI, PROMETHEUS, VERSION
from peiliao.providers import build_payments, build_payouts, build_sms
from peiliao.system import system
from peiliao.web import mount_web_client
from privacy.setup import setup as setup_privacy
from signaling.calls import Blocks
from signaling.chat import Moderation
from signaling.setup import setup as setup_signaling
from store.setup import setup as setup_store


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
    payments: PaymentProvider | None = None,
    payouts: PayoutProvider | None = None,
    check_schema: bool = True,
    blocks: Blocks | None = None,
    moderation: Moderation | None = None,
) -> web.Application:
    """Build the server.  Resources open in ``cleanup_ctx`` when the app starts, not here.

    The keyword arguments replace a part for tests (a fake clock, SMS outbox, payment or payout
    provider, blocks or chat moderation); ``check_schema=False`` skips the migration check."""
    app = web.Application(
        client_max_size=max(settings.max_body_bytes, settings.max_avatar_bytes) + 1024,
        middlewares=[request_context, errors],
    )
    app.on_response_prepare.append(security_headers(hsts=settings.env == "prod"))
    telemetry = app[PROMETHEUS] = PrometheusTelemetry()
    setup_kernel(app, settings, clock or SystemClock(), telemetry)
    app[API].include(system)

    setup_store(app, check_schema=check_schema)
    setup_accounts(app, sms=sms or build_sms(settings))
    setup_audit(app)
    setup_moderation(app)
    setup_metering(
        app,
        payments=payments or build_payments(settings),
        payouts=payouts or build_payouts(settings),
    )
    setup_signaling(app, blocks=blocks, moderation=moderation)
    setup_privacy(app)
    setup_market(app)

    app[API].mount(app)
    app[OPENAPI] = app[API].openapi(title="Peiliao API", version=VERSION)
    mount_web_client(app, settings.web_dist_dir)
    return app
