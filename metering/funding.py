"""Who pays for a minute of cash: the promo balance first, then the wallet for the rest, and the
wallet part only within the customer's monthly budget cap (pure: no I/O, no clock).

The one rule of both ways a minute is reserved: ``holds.reserve`` (one minute, the slow path)
and ``batch`` (the steady state of many sessions at once).  Prepaid minutes (packages, coupons)
are decided before this and never reach it.  The refusals, in this order: the money does not
cover the price (``insufficient_funds``); the wallet part would take the month's committed spend
past the cap (``budget_exceeded``).  Promo credit never counts against the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Refusal = Literal["insufficient_funds", "budget_exceeded"]


@dataclass(frozen=True, slots=True)
class Funding:
    """How a price is paid (``from_promo + from_wallet`` is the price), or ``refused``."""

    from_promo: int = 0
    from_wallet: int = 0
    refused: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None


def within_cap(spent_fen: int, amount_fen: int, cap_fen: int | None) -> bool:
    """Whether ``amount_fen`` more of cash spend keeps the month within the cap (none: no cap;
    nothing more is always within it)."""
    return cap_fen is None or amount_fen <= 0 or spent_fen + amount_fen <= cap_fen


def fund(
    price_fen: int, *, promo_fen: int, wallet_fen: int, spent_fen: int, cap_fen: int | None
) -> Funding:
    """Pay ``price_fen`` from the promo balance first, the wallet for the rest, given the month's
    committed cash spend ``spent_fen`` and its cap ``cap_fen`` (None: no cap)."""
    if price_fen < 0:
        raise ValueError(f"a negative price: {price_fen}")
    from_promo = min(price_fen, max(promo_fen, 0))
    from_wallet = price_fen - from_promo
    if from_wallet > wallet_fen:
        return Funding(refused="insufficient_funds")
    if not within_cap(spent_fen, from_wallet, cap_fen):
        return Funding(refused="budget_exceeded")
    return Funding(from_promo, from_wallet)
