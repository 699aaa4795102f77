"""Metering's part of the app: the service and its ledger, wallets, top-ups and payouts, the
registry of session kinds, and this process's billing clocks (the runner, with its group-commit
batcher), started after the database and stopped before it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from kernel.keys import API, CLOCK, OWNER, SETTINGS
from metering import history, routes
from metering.batch import TickBatcher
from metering.keys import METERING, PAYOUTS, PROVIDER, RUNNER, SESSION_KINDS, WALLETS
from metering.payments import PaymentProvider
from metering.payouts import PayoutProvider, Payouts, Sealer
from metering.runner import MeteringRunner
from metering.service import MeteringPolicy, MeteringService
from metering.session_kinds import SessionKinds
from metering.wallet import Wallets
from store.keys import DB


def setup(app: web.Application, *, payments: PaymentProvider, payouts: PayoutProvider) -> None:
    settings, clock, db = app[SETTINGS], app[CLOCK], app[DB]
    metering = app[METERING] = MeteringService(
        db,
        clock,
        MeteringPolicy(
            resume_grace_s=settings.resume_grace_s,
            earnings_hold_s=settings.earnings_hold_s,
            heartbeat_timeout_s=settings.heartbeat_timeout_s,
        ),
        owner=app[OWNER],
    )
    app[WALLETS] = Wallets(db, clock, metering.ledger)
    app[PROVIDER] = payments
    app[PAYOUTS] = Payouts(
        db,
        clock,
        metering.ledger,
        payouts,
        Sealer(settings.secret_key),
        review_above_fen=settings.withdraw_review_above_fen,
        earnings_hold_s=settings.earnings_hold_s,
    )
    kinds = app[SESSION_KINDS] = SessionKinds()
    batcher = TickBatcher(metering)
    runner = app[RUNNER] = MeteringRunner(
        metering,
        clock,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        batcher=batcher,
        notify=kinds.notice,
        observe=kinds.update,
    )
    app[API].include(routes.api)
    app[API].include(history.api)

    async def metering_runner(app_: web.Application) -> AsyncIterator[None]:
        await batcher.start()
        await runner.start()
        yield
        await runner.stop()
        await batcher.stop()

    app.cleanup_ctx.append(metering_runner)
