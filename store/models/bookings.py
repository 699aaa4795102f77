"""Bookings: the bookings package's tables."""

from __future__ import annotations
