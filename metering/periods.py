"""The calendar the money is told in (pure): China time (Asia/Shanghai, UTC+8 all year), as the
budget month and the bookings calendar already are, so "today", "this week" and "this month"
mean the same on every page and in every process whatever the server's own zone.

A week starts on Monday (ISO 8601, and how a Chinese calendar is printed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Periods:
    """The starts (aware, China time) of the day, the week and the month ``now`` is in."""

    day_start: datetime
    week_start: datetime
    month_start: datetime


def periods(now: datetime) -> Periods:
    local = now.astimezone(CHINA)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return Periods(
        day_start=day,
        week_start=day - timedelta(days=local.weekday()),
        month_start=day.replace(day=1),
    )


def month_label(now: datetime) -> str:
    """``YYYY-MM`` of ``now`` in China time (the budget cap's month too)."""
    return now.astimezone(CHINA).strftime("%Y-%m")
