"""Rates: per-mode price bounds by companion level and category, commission by level, and the
rounding rule for billed minutes.

A companion sets one price per mode (fen per minute) inside the bounds of their level; specialist
categories (psychological counselling, language practice) raise the upper bound.  Across modes a
companion's prices must rise: voice ≥ text and video ≥ voice.  The rate is fixed for a session when
it starts (the session row keeps it), so a later price change never touches a running session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MS_PER_MINUTE = 60_000


class Mode(StrEnum):
    TEXT = "text"
    VOICE = "voice"
    VIDEO = "video"


class Level(StrEnum):
    NEWCOMER = "newcomer"  # 新人
    SENIOR = "senior"  # 资深
    GOLD = "gold"  # 金牌


#: Specialties whose upper price bounds are raised (they often need certificates).
SPECIALIST_CATEGORIES = frozenset({"心理咨询", "外语陪练"})


@dataclass(frozen=True, slots=True)
class Bounds:
    min_fen: int
    max_fen: int


#: Platform defaults per mode for a newcomer; levels and specialties scale the upper bound.
BASE_BOUNDS: dict[Mode, Bounds] = {
    Mode.TEXT: Bounds(50, 200),
    Mode.VOICE: Bounds(50, 500),
    Mode.VIDEO: Bounds(50, 1000),
}
LEVEL_MAX_MULTIPLIER: dict[Level, int] = {Level.NEWCOMER: 1, Level.SENIOR: 2, Level.GOLD: 3}
SPECIALIST_MAX_MULTIPLIER = 2
COMMISSION_BP: dict[Level, int] = {Level.NEWCOMER: 3000, Level.SENIOR: 2500, Level.GOLD: 2000}


class RateError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Rates:
    text_fen_per_min: int
    voice_fen_per_min: int
    video_fen_per_min: int

    def for_mode(self, mode: Mode) -> int:
        return {
            Mode.TEXT: self.text_fen_per_min,
            Mode.VOICE: self.voice_fen_per_min,
            Mode.VIDEO: self.video_fen_per_min,
        }[mode]


def bounds_for(mode: Mode, level: Level, specialist: bool) -> Bounds:
    base = BASE_BOUNDS[mode]
    factor = LEVEL_MAX_MULTIPLIER[level] * (SPECIALIST_MAX_MULTIPLIER if specialist else 1)
    return Bounds(base.min_fen, base.max_fen * factor)


def envelope(mode: Mode) -> Bounds:
    """The widest bounds of ``mode`` at any level (what an API field may document): the exact
    bounds of one companion are :func:`bounds_for` their level and specialties."""
    top = max(LEVEL_MAX_MULTIPLIER.values()) * SPECIALIST_MAX_MULTIPLIER
    return Bounds(BASE_BOUNDS[mode].min_fen, BASE_BOUNDS[mode].max_fen * top)


def is_specialist(specialties: frozenset[str] | set[str] | list[str]) -> bool:
    return bool(SPECIALIST_CATEGORIES.intersection(specialties))


def validate_rates(rates: Rates, level: Level, specialist: bool) -> Rates:
    """Return ``rates`` if allowed, else raise :class:`RateError` naming the problem."""
    for mode in Mode:
        value = rates.for_mode(mode)
        b = bounds_for(mode, level, specialist)
        if not (b.min_fen <= value <= b.max_fen):
            raise RateError(
                "rate_out_of_bounds",
                f"{mode.value} rate must be {b.min_fen}..{b.max_fen} fen/min at this level",
            )
    if rates.voice_fen_per_min < rates.text_fen_per_min:
        raise RateError("rate_order", "the voice rate may not be below the text rate")
    if rates.video_fen_per_min < rates.voice_fen_per_min:
        raise RateError("rate_order", "the video rate may not be below the voice rate")
    return rates


def commission_bp(level: Level) -> int:
    return COMMISSION_BP[level]


def billed_minutes(connected_ms: int) -> int:
    """ceil(connected / 60 s): 0 s → 0, 1 ms..60 s → 1, 60.001..120 s → 2."""
    if connected_ms < 0:
        raise ValueError("connected time is never negative")
    return -(-connected_ms // MS_PER_MINUTE)
