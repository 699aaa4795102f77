"""Metering's HTTP API, one part per responsibility: the wallet and top-ups (``wallet_routes``),
statements (``statement_routes``), packages, offers and the trial coupon (``offer_routes``), rates
and the live meter (``rate_routes``), the companion's payouts (``payout_routes``) and the admin's
refunds and withdrawal review (``admin_routes``).  The state they share is in ``keys``."""

from __future__ import annotations

from kernel.http.api import Api
from metering import (
    admin_routes,
    offer_routes,
    payout_routes,
    rate_routes,
    statement_routes,
    wallet_routes,
)

api = Api()
for part in (
    wallet_routes,
    statement_routes,
    offer_routes,
    rate_routes,
    payout_routes,
    admin_routes,
):
    api.include(part.api)
