"""The application state metering's routes and the other packages share: the services, the
payment provider, the runner of this process's billing clocks and the registry of session kinds
(the database and the settings are the kernel's and the store's keys)."""

from __future__ import annotations

from aiohttp import web

from metering.payments import PaymentProvider
from metering.payouts import Payouts
from metering.runner import MeteringRunner
from metering.service import MeteringService
from metering.session_kinds import SessionKinds
from metering.wallet import Wallets

METERING = web.AppKey("metering", MeteringService)
WALLETS = web.AppKey("wallets", Wallets)
PROVIDER = web.AppKey("payment_provider", PaymentProvider)
PAYOUTS = web.AppKey("payouts", Payouts)
RUNNER = web.AppKey("metering_runner", MeteringRunner)
#: each kind of metered session registers here in its own ``setup()`` (``session_kinds``)
SESSION_KINDS = web.AppKey("session_kinds", SessionKinds)
