"""A metered session's billing as a pure state machine: ``step(meter, event, policy)`` →
``(meter, actions)``.  No I/O, no clock: every event carries the server time it happened at (ms).

The facts come from the edges — signaling and media say when the session is *connected* (text:
from accept to end; voice/video: while media flows both ways) — and the shell reports whether each
minute could be reserved.  From them the machine decides which minutes to capture, reserve,
release or refund:

- Billed minutes = ceil(connected / 60 s).  Minute k is owed the moment connected time passes
  (k−1)·60 s, so it is captured then, and minute k+1 is reserved at the same moment, before it is
  served.  No reservation, no service: the machine never captures a minute that was not reserved.
- If minute k+1 cannot be reserved, the session runs to the end of minute k, then pauses (the
  billing gate closes at that exact instant).  Funds added while paused resume it; after
  ``resume_grace_ms`` paused it ends.
- Events may arrive duplicated, late or out of order.  Connected time is recomputed from the
  sorted set of marks, so a duplicate changes nothing and a late mark lands where it belongs.
  Captures only move forward while the session runs; at the end, minutes captured beyond what the
  final connected time owes are refunded and minutes reserved but not served are released.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from metering.tariff import MS_PER_MINUTE, billed_minutes

MAX_MARKS = 4096


class Status(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


# -- events (facts, past tense) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaUp:
    at_ms: int


@dataclass(frozen=True, slots=True)
class MediaDown:
    at_ms: int
    #: learnt late (the process holding a side died; ``at_ms`` is its last heartbeat): lands
    #: no earlier than the latest media mark, since whatever that mark says was seen after it
    not_before_marks: bool = False


@dataclass(frozen=True, slots=True)
class Tick:
    at_ms: int


@dataclass(frozen=True, slots=True)
class FundsAdded:
    at_ms: int


@dataclass(frozen=True, slots=True)
class ReserveSucceeded:
    minute: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class ReserveFailed:
    minute: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class Ended:
    at_ms: int
    reason: str


Event = MediaUp | MediaDown | Tick | FundsAdded | ReserveSucceeded | ReserveFailed | Ended

# -- actions (commands, imperative) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaptureMinute:
    minute: int


@dataclass(frozen=True, slots=True)
class ReserveMinute:
    minute: int


@dataclass(frozen=True, slots=True)
class ReleaseMinute:
    minute: int


@dataclass(frozen=True, slots=True)
class RefundMinute:
    minute: int


@dataclass(frozen=True, slots=True)
class PauseSession:
    at_ms: int


@dataclass(frozen=True, slots=True)
class ResumeSession:
    at_ms: int


@dataclass(frozen=True, slots=True)
class CloseSession:
    at_ms: int
    reason: str
    billed_minutes: int


Action = (
    CaptureMinute
    | ReserveMinute
    | ReleaseMinute
    | RefundMinute
    | PauseSession
    | ResumeSession
    | CloseSession
)


@dataclass(frozen=True, slots=True)
class Policy:
    resume_grace_ms: int = 60_000


class MeterError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Meter:
    """Billing state of one session.  Minute 1 is reserved before the session opens."""

    status: Status = Status.RUNNING
    #: sorted (at_ms, media_up) marks
    media: tuple[tuple[int, bool], ...] = ()
    #: sorted (at_ms, gate_open) marks; the gate starts open and closes while paused for funds
    gate: tuple[tuple[int, bool], ...] = ()
    captured: int = 0
    reserved: int = 1
    reserve_failed: bool = False
    paused_at_ms: int | None = None
    ended_at_ms: int | None = None
    end_reason: str | None = None
    now_ms: int = 0
    refunded: tuple[int, ...] = field(default=())
    #: an end being carried out while minutes that began unheld are reserved: (at_ms, reason)
    closing: tuple[int, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "media": [[t, up] for t, up in self.media],
            "gate": [[t, o] for t, o in self.gate],
            "captured": self.captured,
            "reserved": self.reserved,
            "reserve_failed": self.reserve_failed,
            "paused_at_ms": self.paused_at_ms,
            "ended_at_ms": self.ended_at_ms,
            "end_reason": self.end_reason,
            "now_ms": self.now_ms,
            "refunded": list(self.refunded),
            "closing": list(self.closing) if self.closing else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Meter:
        return cls(
            status=Status(data["status"]),
            media=tuple((int(t), bool(u)) for t, u in data["media"]),
            gate=tuple((int(t), bool(o)) for t, o in data["gate"]),
            captured=int(data["captured"]),
            reserved=int(data["reserved"]),
            reserve_failed=bool(data["reserve_failed"]),
            paused_at_ms=data["paused_at_ms"],
            ended_at_ms=data["ended_at_ms"],
            end_reason=data["end_reason"],
            now_ms=int(data["now_ms"]),
            refunded=tuple(int(m) for m in data.get("refunded", ())),
            closing=(int(data["closing"][0]), str(data["closing"][1]))
            if data.get("closing")
            else None,
        )


def _intervals(meter: Meter) -> Iterator[tuple[int, int | None]]:
    """The connected intervals [start, end) in time order; the last may be open (end None).

    Connected means media up and the billing gate open; both start as given by the marks
    (media down, gate open until their first mark).
    """
    changes = sorted([(t, 0, up) for t, up in meter.media] + [(t, 1, o) for t, o in meter.gate])
    media_up, gate_open = False, True
    start: int | None = None
    for t, which, value in changes:
        if which == 0:
            media_up = value
        else:
            gate_open = value
        if media_up and gate_open and start is None:
            start = t
        elif not (media_up and gate_open) and start is not None:
            if t > start:
                yield start, t
            start = None
    if start is not None:
        yield start, None


def connected_ms(meter: Meter, until_ms: int) -> int:
    """Milliseconds up to ``until_ms`` during which media was up and the gate open."""
    total = 0
    for start, end in _intervals(meter):
        if start >= until_ms:
            break
        total += min(until_ms if end is None else end, until_ms) - start
    return total


def connected_intervals(meter: Meter, until_ms: int) -> list[tuple[int, int]]:
    """The connected stretches [start, end) of wall-clock time up to ``until_ms``: what each
    billed minute covered (``signaling.fairness`` judges minutes by them)."""
    out: list[tuple[int, int]] = []
    for start, end in _intervals(meter):
        if start >= until_ms:
            break
        stop = until_ms if end is None else min(end, until_ms)
        if stop > start:
            out.append((start, stop))
    return out


def _instant_reaching(meter: Meter, target_ms: int) -> int | None:
    """The first instant at which connected time reaches ``target_ms``, if it does."""
    total = 0
    for start, end in _intervals(meter):
        if end is None or total + (end - start) >= target_ms:
            return start + (target_ms - total)
        total += end - start
    return None


def _flow_running(meter: Meter) -> bool:
    media_up = bool(meter.media) and meter.media[-1][1]
    gate_open = not meter.gate or meter.gate[-1][1]
    return media_up and gate_open


def _with_mark(
    marks: tuple[tuple[int, bool], ...], at_ms: int, value: bool
) -> tuple[tuple[int, bool], ...]:
    mark = (at_ms, value)
    i = bisect.bisect_left(marks, mark)
    if i < len(marks) and marks[i] == mark:
        return marks  # a duplicate
    if len(marks) >= MAX_MARKS:
        raise MeterError("too_many_events", f"more than {MAX_MARKS} connection changes")
    return (*marks[:i], mark, *marks[i:])


def step(meter: Meter, event: Event, policy: Policy = Policy()) -> tuple[Meter, list[Action]]:
    """Apply one event.  Raises :class:`MeterError` ``session_ended`` for events after the end
    (except a duplicate end, which is a no-op)."""
    if meter.status is Status.ENDED:
        if isinstance(event, Ended):
            return meter, []
        raise MeterError("session_ended", "the session has ended")
    m = replace(meter, now_ms=max(meter.now_ms, event.at_ms))
    actions: list[Action] = []
    if m.closing is not None:
        # Ending: only the answers to the reservations the end asked for matter now.
        match event:
            case ReserveSucceeded(minute=k) if k == m.reserved + 1:
                m = replace(m, reserved=k)
            case ReserveFailed(minute=k) if k == m.reserved + 1:
                m = replace(m, reserve_failed=True)
        return _close(m, actions)
    match event:
        case MediaUp(at_ms=t):
            m = replace(m, media=_with_mark(m.media, t, True))
        case MediaDown(at_ms=t, not_before_marks=late):
            if late and m.media and m.media[-1][0] >= t:
                t = m.media[-1][0] + 1  # just after it: a mark at the same instant sorts first
            m = replace(m, media=_with_mark(m.media, t, False))
        case ReserveSucceeded(minute=k):
            if k == m.reserved + 1:
                m = replace(m, reserved=k, reserve_failed=False)
                if m.status is Status.PAUSED:
                    m = replace(
                        m,
                        status=Status.RUNNING,
                        paused_at_ms=None,
                        gate=_with_mark(m.gate, m.now_ms, True),
                    )
                    actions.append(ResumeSession(m.now_ms))
        case ReserveFailed(minute=k):
            if k == m.reserved + 1:
                m = replace(m, reserve_failed=True)
        case FundsAdded():
            if m.reserve_failed:
                m = replace(m, reserve_failed=False)
                actions.append(ReserveMinute(m.reserved + 1))
                return m, actions
        case Ended(at_ms=t, reason=reason):
            if m.status is Status.PAUSED:
                return _end(m, t, reason, actions)
            return _close(replace(m, closing=(t, reason)), actions)
        case Tick():
            pass
    return _advance(m, actions, policy)


def _advance(m: Meter, actions: list[Action], policy: Policy) -> tuple[Meter, list[Action]]:
    if m.status is Status.PAUSED:
        assert m.paused_at_ms is not None
        deadline = m.paused_at_ms + policy.resume_grace_ms
        if m.now_ms >= deadline:
            return _end(m, deadline, "insufficient_funds", actions)
        return m, actions
    limit_ms = m.reserved * MS_PER_MINUTE
    conn = connected_ms(m, m.now_ms)
    owed = min(billed_minutes(conn), m.reserved)
    for k in range(m.captured + 1, owed + 1):
        actions.append(CaptureMinute(k))
    m = replace(m, captured=max(m.captured, owed))
    if m.reserve_failed and conn >= limit_ms:
        at = _instant_reaching(m, limit_ms)
        assert at is not None
        m = replace(m, status=Status.PAUSED, paused_at_ms=at, gate=_with_mark(m.gate, at, False))
        actions.append(PauseSession(at))
        return _advance(m, actions, policy)  # the grace may already be over
    if not m.reserve_failed and m.reserved == m.captured:
        actions.append(ReserveMinute(m.reserved + 1))
    return m, actions


def _close(m: Meter, actions: list[Action]) -> tuple[Meter, list[Action]]:
    """Carry out a pending end: a minute that began before the end but was not yet held (its
    tick had not come) is owed all the same, so it is reserved first; only if that fails is the
    bill capped at what was held."""
    assert m.closing is not None
    at_ms, reason = m.closing
    owed = billed_minutes(connected_ms(m, at_ms))
    if owed > m.reserved and not m.reserve_failed:
        actions.append(ReserveMinute(m.reserved + 1))
        return m, actions
    return _end(replace(m, closing=None), at_ms, reason, actions)


def _end(m: Meter, at_ms: int, reason: str, actions: list[Action]) -> tuple[Meter, list[Action]]:
    conn = connected_ms(m, at_ms)
    owed = min(billed_minutes(conn), m.reserved)
    for k in range(m.captured + 1, owed + 1):
        actions.append(CaptureMinute(k))
    refunded = tuple(range(owed + 1, m.captured + 1))
    actions.extend(RefundMinute(k) for k in refunded)
    final_captured = max(m.captured, owed)
    actions.extend(ReleaseMinute(k) for k in range(final_captured + 1, m.reserved + 1))
    actions.append(CloseSession(at_ms, reason, owed))
    m = replace(
        m,
        status=Status.ENDED,
        captured=final_captured,
        ended_at_ms=at_ms,
        end_reason=reason,
        refunded=m.refunded + refunded,
    )
    return m, actions


def next_tick_at_ms(m: Meter, policy: Policy = Policy()) -> int | None:
    """When the shell must send a ``Tick`` for the next capture, pause or end, if ever."""
    if m.status is Status.ENDED:
        return None
    if m.status is Status.PAUSED:
        assert m.paused_at_ms is not None
        return m.paused_at_ms + policy.resume_grace_ms
    if not _flow_running(m):
        return None
    conn = connected_ms(m, m.now_ms)
    # The next minute starts 1 ms past the boundary; a pause happens at the boundary itself.
    target = m.reserved * MS_PER_MINUTE if m.reserve_failed else m.captured * MS_PER_MINUTE + 1
    return m.now_ms + max(0, target - conn)
