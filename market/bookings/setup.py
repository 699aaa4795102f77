"""Bookings' part of the app: bookings and the sweep that starts their calls when the slot comes.
A booking's call ending ends the booking (``CallEnded``); a block cancels the two users'
bookings (``UserBlocked``): both subscribed here."""

from __future__ import annotations

from aiohttp import web

from kernel.http.api import CURSORS
from kernel.keys import API, CLOCK, EVENTS, SETTINGS
from kernel.setup import before_cleanup
from market.bookings import routes
from market.bookings.keys import BOOKING_SCHEDULER, BOOKINGS
from market.bookings.rules import Policy
from market.bookings.scheduler import BookingScheduler
from market.bookings.service import BookingService
from metering.keys import METERING
from moderation.events import UserBlocked
from signaling.domain_events import CallEnded
from signaling.keys import CALLS, EMITTER
from store.keys import DB


def setup(app: web.Application) -> None:
    settings, events = app[SETTINGS], app[EVENTS]
    bookings = app[BOOKINGS] = BookingService(
        app[DB],
        app[CLOCK],
        app[METERING].ledger,
        Policy.from_settings(settings),
        app[EMITTER],
        app[CURSORS],
    )
    scheduler = app[BOOKING_SCHEDULER] = BookingScheduler(
        bookings, app[CALLS], interval_s=settings.booking_sweep_interval_s
    )

    async def call_ended(event: CallEnded) -> None:
        await scheduler.call_ended(event.call_id)  # the slot's call ended: so does its booking

    async def blocked(event: UserBlocked) -> None:
        await bookings.cancel_between(event.blocker_id, event.blocked_id)

    events.subscribe(CallEnded, call_ended)
    events.subscribe(UserBlocked, blocked)
    app.cleanup_ctx.append(scheduler.ctx)
    before_cleanup(app, scheduler.stop_loop)  # stopped before the database closes
    app[API].include(routes.api)
