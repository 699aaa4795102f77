"""A rate as the HTTP API documents it: one field type every route that takes a rate uses
(metering's own, a voice room's, a vetting application's)."""

from __future__ import annotations

from kernel.http.models import Within
from metering.tariff import Mode, envelope


def rate_field(mode: Mode) -> Within:
    """A rate of ``mode``: documented at the widest bounds of any level; the service refuses
    a rate outside the companion's own (``rate_out_of_bounds`` with their ``min_fen``/``max_fen``).
    """
    widest = envelope(mode)
    return Within(widest.min_fen, widest.max_fen, enforce=False)
