"""The commission split: the platform takes ``floor(charge × rate)``, the companion the remainder,
so the two parts always add up to the charge exactly and rounding favours the companion.

Rates are in basis points (1 bp = 0.01 %): 2000–3000 bp is the 20–30 % the product allows.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_COMMISSION_BP = 2000
MAX_COMMISSION_BP = 3000
BP_PER_UNIT = 10_000


@dataclass(frozen=True, slots=True)
class Split:
    platform_fen: int
    companion_fen: int

    @property
    def total_fen(self) -> int:
        return self.platform_fen + self.companion_fen


def split(charge_fen: int, commission_bp: int) -> Split:
    if charge_fen < 0:
        raise ValueError("a charge is never negative")
    if not (MIN_COMMISSION_BP <= commission_bp <= MAX_COMMISSION_BP):
        raise ValueError(f"commission must be {MIN_COMMISSION_BP}..{MAX_COMMISSION_BP} bp")
    platform = charge_fen * commission_bp // BP_PER_UNIT
    return Split(platform, charge_fen - platform)


def allocate(total_fen: int, parts: int, index: int) -> int:
    """The ``index``-th (1-based) of ``parts`` near-equal integer shares of ``total_fen``.

    ``sum(allocate(t, n, i) for i in 1..n) == t`` exactly: share i is
    ``floor(t·i/n) − floor(t·(i−1)/n)``.  Used to value one minute of a prepaid package.
    """
    if not (1 <= index <= parts):
        raise ValueError("index must be 1..parts")
    return total_fen * index // parts - total_fen * (index - 1) // parts
