"""The lifecycle of a 1:1 call, as a pure state machine (no I/O, no clock, no asyncio).

``step(call, event, policy) -> (call, actions)``: the shell (``signaling.calls``) loads the call
under a row lock, feeds it one event stamped with the server's time, carries out the actions and
saves the result, so two events on one call never interleave and a replayed event finds the call
already where it leads.

::

                accept (first device)                   hang-up | funds | away 120 s
    RINGING ──────────────────────────▶ ACTIVE ──────────────────────────────────────▶ ENDED
       │ decline | cancel | no answer in 30 s                  moderation | admin | drain
       └──────────────────────────────────────────────────────────────────────────────▶ ENDED

Idempotence: an event whose purpose is already met (a second cancel, a hang-up of an ended call,
an accept by the device that accepted) is a no-op that succeeds; an event the call has moved past
(accept after cancel, cancel after accept, a second device accepting) raises :class:`CallError`
with a stable code, and changes nothing.  Races are therefore decided by whichever event takes the
row lock first: accept vs cancel, two devices accepting, ring time-out vs accept, end vs tick.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


class Side(StrEnum):
    CUSTOMER = "customer"
    COMPANION = "companion"


class EndReason(StrEnum):
    DECLINED = "declined"  # the companion said no while it rang
    CANCELLED = "cancelled"  # the customer gave up while it rang
    TIMED_OUT = "timed_out"  # nobody answered within the ring time-out
    UNFUNDED = "unfunded"  # the first minute could not be reserved
    HANGUP = "hangup"  # either side ended an active call
    FUNDS = "funds"  # metering ended it: paused for lack of money past the grace
    AWAY = "away"  # one side was disconnected past the away time-out
    MODERATION = "moderation"
    ADMIN = "admin"
    DRAIN = "drain"  # the server process was shutting down
    SERVER_LOST = "server_lost"  # the process running it died; another one settled it
    MEDIA_LOST = "media_lost"  # a voice/video participant's media stopped past the time-out


#: reasons an active call can be ended by something other than its two participants
SYSTEM_REASONS = frozenset(
    {
        EndReason.FUNDS,
        EndReason.MODERATION,
        EndReason.ADMIN,
        EndReason.DRAIN,
        EndReason.AWAY,
        EndReason.SERVER_LOST,
        EndReason.MEDIA_LOST,
    }
)


@dataclass(frozen=True, slots=True)
class Policy:
    ring_timeout_ms: int = 30_000
    away_timeout_ms: int = 120_000


class CallError(Exception):
    """An event the call has moved past; ``code`` is stable and machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Call:
    status: Status
    created_ms: int
    ring_deadline_ms: int
    accepted_ms: int | None = None
    accepted_device: str | None = None
    ended_ms: int | None = None
    end_reason: EndReason | None = None
    ended_by: str | None = None  # "customer" | "companion" | "system"
    customer_away_ms: int | None = None  # since when every device of that side is gone
    companion_away_ms: int | None = None
    #: that absence's own time-out (its process died: a shorter grace), else the policy's
    customer_away_timeout_ms: int | None = None
    companion_away_timeout_ms: int | None = None

    def away_since(self, side: Side) -> int | None:
        return self.customer_away_ms if side is Side.CUSTOMER else self.companion_away_ms

    def away_deadline(self, side: Side, policy: Policy) -> int | None:
        """When ``side``'s absence ends the call, if that side is away."""
        since = self.away_since(side)
        if since is None:
            return None
        own = (
            self.customer_away_timeout_ms
            if side is Side.CUSTOMER
            else self.companion_away_timeout_ms
        )
        return since + (own if own is not None else policy.away_timeout_ms)

    def first_away_deadline(self, policy: Policy) -> int | None:
        """When the first absence ends the call, if a side is away."""
        deadlines = [self.away_deadline(side, policy) for side in (Side.CUSTOMER, Side.COMPANION)]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        values = dict(data)
        values["status"] = Status(values["status"])
        if values.get("end_reason") is not None:
            values["end_reason"] = EndReason(values["end_reason"])
        return cls(**values)


def ringing(now_ms: int, policy: Policy) -> Call:
    """A call just requested (its first minute already reserved): ringing until the deadline."""
    return Call(Status.RINGING, created_ms=now_ms, ring_deadline_ms=now_ms + policy.ring_timeout_ms)


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accept:
    device: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Decline:
    at_ms: int


@dataclass(frozen=True, slots=True)
class Cancel:
    at_ms: int


@dataclass(frozen=True, slots=True)
class RingTimeout:
    """The sweep's check; ends the call only once its deadline has passed."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class Hangup:
    side: Side
    at_ms: int


@dataclass(frozen=True, slots=True)
class Away:
    """Every device of ``side`` disconnected, at ``at_ms`` (for a process that died: its last
    heartbeat, which may be before the call was accepted: the absence then starts with it).
    ``timeout_ms``: this absence's time-out, if not the policy's."""

    side: Side
    at_ms: int
    timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Back:
    """A device of ``side`` connected again."""

    side: Side
    at_ms: int


@dataclass(frozen=True, slots=True)
class AwayCheck:
    """The sweep's check; ends the call once a side has been away past the time-out."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class Terminate:
    """Ended from outside: metering (funds), moderation, an admin, a draining server."""

    reason: EndReason
    at_ms: int


Event = Accept | Decline | Cancel | RingTimeout | Hangup | Away | Back | AwayCheck | Terminate


# -- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StopRinging:
    """Every device of the companion stops ringing (one answered, or the call is over)."""


@dataclass(frozen=True, slots=True)
class StartBilling:
    """The call is connected: the billing clock may run (for text, from now on).  ``paused``:
    accepted while the customer was away, so connected time counts only once they are back."""

    paused: bool = False


@dataclass(frozen=True, slots=True)
class PauseBilling:
    """The first side went away: connected time stops counting, from ``at_ms`` (None: now)."""

    at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ResumeBilling:
    """Both sides are back: connected time counts again."""


@dataclass(frozen=True, slots=True)
class EndBilling:
    """Settle: capture the minutes served, release the rest (nothing if it never connected)."""

    reason: EndReason


@dataclass(frozen=True, slots=True)
class ReleaseCompanion:
    """The companion may take another call."""


Action = StopRinging | StartBilling | PauseBilling | ResumeBilling | EndBilling | ReleaseCompanion


def _end(call: Call, reason: EndReason, by: str, at_ms: int) -> tuple[Call, list[Action]]:
    after = replace(
        call,
        status=Status.ENDED,
        ended_ms=max(at_ms, call.created_ms),
        end_reason=reason,
        ended_by=by,
    )
    actions: list[Action] = []
    if call.status is Status.RINGING:
        actions.append(StopRinging())
    actions += [EndBilling(reason), ReleaseCompanion()]
    return after, actions


def step(call: Call, event: Event, policy: Policy) -> tuple[Call, list[Action]]:
    """The call after ``event`` and what the shell must do; :class:`CallError` if refused."""
    status = call.status
    match event:
        case Accept(device, at_ms):
            if status is Status.RINGING:
                if at_ms >= call.ring_deadline_ms:
                    return _end(call, EndReason.TIMED_OUT, "system", call.ring_deadline_ms)
                after = replace(
                    call, status=Status.ACTIVE, accepted_ms=at_ms, accepted_device=device
                )
                if call.customer_away_ms is not None:
                    # The customer left while it rang: connected, but not billed until back
                    # (and ended if not back within the away time-out, counted from now).
                    after = replace(after, customer_away_ms=at_ms)
                    return after, [StopRinging(), StartBilling(paused=True)]
                return after, [StopRinging(), StartBilling()]
            if status is Status.ACTIVE:
                if call.accepted_device == device:
                    return call, []
                raise CallError("answered_elsewhere", "another device already answered this call")
            raise _ended_error(call)
        case Decline(at_ms):
            if status is Status.RINGING:
                return _end(call, EndReason.DECLINED, "companion", at_ms)
            if status is Status.ACTIVE:
                raise CallError("call_active", "the call was already answered; hang up instead")
            return _if_already(call, EndReason.DECLINED)
        case Cancel(at_ms):
            if status is Status.RINGING:
                return _end(call, EndReason.CANCELLED, "customer", at_ms)
            if status is Status.ACTIVE:
                raise CallError("call_active", "the call was already answered; hang up instead")
            return _if_already(call, EndReason.CANCELLED)
        case RingTimeout(at_ms):
            if status is Status.RINGING and at_ms >= call.ring_deadline_ms:
                return _end(call, EndReason.TIMED_OUT, "system", call.ring_deadline_ms)
            return call, []
        case Hangup(side, at_ms):
            if status is Status.ACTIVE:
                return _end(call, EndReason.HANGUP, side.value, at_ms)
            if status is Status.RINGING:
                # A customer's hang-up while ringing is a cancel; a companion's, a decline.
                reason = EndReason.CANCELLED if side is Side.CUSTOMER else EndReason.DECLINED
                return _end(call, reason, side.value, at_ms)
            return call, []
        case Away(side, at_ms, timeout_ms):
            if status is Status.RINGING and side is Side.CUSTOMER:
                # Remembered, so that an accept does not start billing an absent customer.
                if call.customer_away_ms is None:
                    since = max(at_ms, call.created_ms)
                    return _set_away(call, side, since, timeout_ms), []
                return call, []
            if status is not Status.ACTIVE or call.away_since(side) is not None:
                return call, []
            assert call.accepted_ms is not None
            since = max(at_ms, call.accepted_ms)  # not away from a call before it began
            other = Side.COMPANION if side is Side.CUSTOMER else Side.CUSTOMER
            already_paused = call.away_since(other) is not None
            after = _set_away(call, side, since, timeout_ms)
            return after, [] if already_paused else [PauseBilling(since)]
        case Back(side, at_ms):
            if status is Status.RINGING and call.away_since(side) is not None:
                return _set_away(call, side, None), []
            if status is not Status.ACTIVE or call.away_since(side) is None:
                return call, []
            deadline = call.away_deadline(side, policy)
            assert deadline is not None
            if at_ms >= deadline:
                # Came back too late: the sweep had not run yet, the call is over all the same.
                return _end(call, EndReason.AWAY, "system", deadline)
            after = _set_away(call, side, None)
            both_back = after.customer_away_ms is None and after.companion_away_ms is None
            return after, [ResumeBilling()] if both_back else []
        case AwayCheck(at_ms):
            if status is not Status.ACTIVE:
                return call, []
            deadline = call.first_away_deadline(policy)
            if deadline is not None and at_ms >= deadline:
                return _end(call, EndReason.AWAY, "system", deadline)
            return call, []
        case Terminate(reason, at_ms):
            if status is Status.ENDED:
                return call, []
            if reason not in SYSTEM_REASONS and reason is not EndReason.UNFUNDED:
                raise ValueError(f"not a termination reason: {reason}")
            return _end(call, reason, "system", at_ms)
    raise TypeError(f"unknown event {event!r}")  # pragma: no cover (exhaustive match)


def _set_away(call: Call, side: Side, since: int | None, timeout_ms: int | None = None) -> Call:
    if side is Side.CUSTOMER:
        return replace(call, customer_away_ms=since, customer_away_timeout_ms=timeout_ms)
    return replace(call, companion_away_ms=since, companion_away_timeout_ms=timeout_ms)


def _if_already(call: Call, reason: EndReason) -> tuple[Call, list[Action]]:
    if call.end_reason is reason:
        return call, []
    raise _ended_error(call)


def _ended_error(call: Call) -> CallError:
    return CallError("call_ended", f"the call has ended ({call.end_reason})")


def next_deadline_ms(call: Call, policy: Policy) -> int | None:
    """When the sweep must look at this call next (ring time-out, away time-out), if ever."""
    if call.status is Status.RINGING:
        return call.ring_deadline_ms
    if call.status is Status.ACTIVE:
        return call.first_away_deadline(policy)
    return None
