"""A companion's weekly calendar and the slots it offers (pure: no I/O, no clock).

Availability is a set of weekly ranges in China time (Asia/Shanghai, UTC+8 all year), each on
one weekday (Mon=0) from a start to an end on the half hour (``24:00`` ends at midnight).  A
booking covers whole half-hour cells from its start; it is possible when every cell lies inside
some range (a booking may run across midnight into the next day's range), no cell meets another
open booking of the companion, and it starts between the earliest and latest instants allowed.
Times are compared as aware datetimes, so the UTC values the database keeps are used directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

from market.bookings.errors import InvalidAvailability

CHINA = ZoneInfo("Asia/Shanghai")
SLOT_MIN = 30
MINUTES_PER_DAY = 24 * 60
#: weekly ranges one companion may keep
MAX_RANGES = 28

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True, order=True)
class WeeklyRange:
    weekday: int  # Mon=0 … Sun=6
    start_min: int  # minutes after local midnight
    end_min: int  # exclusive; 1440 is midnight at the end of the day

    @property
    def start(self) -> str:
        return hhmm(self.start_min)

    @property
    def end(self) -> str:
        return hhmm(self.end_min)

    def to_json(self) -> list[int]:
        return [self.weekday, self.start_min, self.end_min]

    @classmethod
    def from_json(cls, raw: Sequence[int]) -> WeeklyRange:
        return cls(int(raw[0]), int(raw[1]), int(raw[2]))


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str, index: int) -> int:
    """``"HH:MM"`` on the half hour → minutes after midnight (``24:00`` → 1440)."""
    hours, sep, minutes = text.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and (hours + minutes).isdigit()):
        raise InvalidAvailability(f"range {index}: times are HH:MM", index=index)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise InvalidAvailability(f"range {index}: {text} is not a time of day", index=index)
    if value % SLOT_MIN:
        raise InvalidAvailability(
            f"range {index}: times are on the hour or the half hour", index=index
        )
    return value


def weekly_ranges(items: Iterable[tuple[int, str, str]]) -> list[WeeklyRange]:
    """Validate (weekday, "HH:MM", "HH:MM") items into sorted ranges, or raise
    :class:`InvalidAvailability` naming the first problem.  Ranges of one day may touch but
    not overlap."""
    ranges: list[WeeklyRange] = []
    for index, (weekday, start, end) in enumerate(items):
        if index >= MAX_RANGES:
            raise InvalidAvailability(f"at most {MAX_RANGES} ranges", index=index)
        if not (0 <= weekday <= 6):
            raise InvalidAvailability(f"range {index}: weekday is 0 (Monday) to 6", index=index)
        start_min, end_min = parse_hhmm(start, index), parse_hhmm(end, index)
        if start_min >= end_min:
            raise InvalidAvailability(f"range {index}: it must end after it starts", index=index)
        ranges.append(WeeklyRange(weekday, start_min, end_min))
    ranges.sort()
    for before, after in pairwise(ranges):
        if before.weekday == after.weekday and after.start_min < before.end_min:
            raise InvalidAvailability(
                f"ranges overlap on weekday {after.weekday} at {after.start}",
                weekday=after.weekday,
            )
    return ranges


def local_start(day: date, minutes: int, tz: tzinfo = CHINA) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz) + timedelta(minutes=minutes)


def covers(ranges: Sequence[WeeklyRange], cell: datetime, tz: tzinfo = CHINA) -> bool:
    """Whether the half-hour cell starting at ``cell`` lies inside one of the ranges."""
    local = cell.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return any(
        r.weekday == local.weekday() and r.start_min <= minute and minute + SLOT_MIN <= r.end_min
        for r in ranges
    )


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def aligned(at: datetime, tz: tzinfo = CHINA) -> bool:
    local = at.astimezone(tz)
    return local.minute % SLOT_MIN == 0 and local.second == 0 and local.microsecond == 0


def cells(start: datetime, duration_min: int) -> list[datetime]:
    return [start + timedelta(minutes=m) for m in range(0, duration_min, SLOT_MIN)]


def refusal(
    ranges: Sequence[WeeklyRange],
    start: datetime,
    duration_min: int,
    busy: Sequence[Interval],
    earliest: datetime,
    latest: datetime,
    tz: tzinfo = CHINA,
) -> str | None:
    """Why a booking of ``duration_min`` from ``start`` is not possible (``not_aligned``,
    ``too_soon``, ``too_far``, ``outside_availability``, ``taken``), or None if it is."""
    if not aligned(start, tz):
        return "not_aligned"
    if start < earliest:
        return "too_soon"
    if start > latest:
        return "too_far"
    wanted = (start, start + timedelta(minutes=duration_min))
    if not all(covers(ranges, cell, tz) for cell in cells(start, duration_min)):
        return "outside_availability"
    if any(overlaps(wanted, b) for b in busy):
        return "taken"
    return None


def day_slots(
    ranges: Sequence[WeeklyRange],
    day: date,
    busy: Sequence[Interval],
    earliest: datetime,
    latest: datetime,
    tz: tzinfo = CHINA,
) -> list[datetime]:
    """The free half-hour slot starts of local ``day``, in order: inside a range, at or after
    ``earliest``, at or before ``latest``, not meeting a busy interval."""
    found: set[datetime] = set()
    for r in ranges:
        if r.weekday != day.weekday():
            continue
        for minute in range(r.start_min, r.end_min, SLOT_MIN):
            at = local_start(day, minute, tz)
            cell = (at, at + timedelta(minutes=SLOT_MIN))
            if earliest <= at <= latest and not any(overlaps(cell, b) for b in busy):
                found.add(at)
    return sorted(found)
