"""The application state metering's routes share: the services, the payment provider, the
database they read from, and the two settings the top-up routes need."""

from __future__ import annotations

from aiohttp import web

from metering.payments import PaymentProvider
from metering.payouts import Payouts
from metering.runner import MeteringRunner
from metering.service import MeteringService
from metering.wallet import Wallets
from store import Database

METERING = web.AppKey("metering", MeteringService)
WALLETS = web.AppKey("wallets", Wallets)
PROVIDER = web.AppKey("payment_provider", PaymentProvider)
METERING_DB = web.AppKey("metering_db", Database)
PAYOUTS = web.AppKey("payouts", Payouts)
RUNNER = web.AppKey("metering_runner", MeteringRunner)
PUBLIC_URL = web.AppKey("public_base_url", str)
DEV = web.AppKey("metering_dev", bool)
