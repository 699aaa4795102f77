"""What one marketplace domain tells the others (``kernel.events``).  The market's domains are
independent of each other (an import contract), so the news they share is named here, below
them all; each reacting domain subscribes in its own setup."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompanionStatsChanged:
    """A companion's figures (rating, orders, minutes) changed: vetting may promote them."""

    companion_id: str
