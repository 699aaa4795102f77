"""Bookings' state, under its AppKeys: the bookings and the sweep that starts their calls."""

from __future__ import annotations

from aiohttp import web

from market.bookings.scheduler import BookingScheduler
from market.bookings.service import BookingService

BOOKINGS = web.AppKey("bookings", BookingService)
BOOKING_SCHEDULER = web.AppKey("booking_scheduler", BookingScheduler)
