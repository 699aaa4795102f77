"""The lifecycle of a voice room, as a pure state machine (no I/O, no clock, no asyncio).

``step(room, event, now_ms) -> (room, effects)``: the shell (``voicerooms.service``,
``joining``, ``liveness``, ``billing``) loads the room and its seated members under the room's
row lock, feeds it one event stamped with the server's time, saves the result and then carries
out the effects, so two changes of one room never interleave.

::

              join (a seat: capacity, joins) · leave · away · back · reconcile (billing)
                  ┌──────┐
                  ▼      │
    opened ──▶ OPEN ─────┘ ──────────────────────────────────────────────────────▶ CLOSED
                       close: the host closed or left, an admin, host away past the
                       time-out, host media lost, the process died or shut down

- Seats: the host is not seated; a customer takes one of ``capacity - 1`` seats, and a room
  takes at most ``rules.MAX_JOINS_PER_ROOM`` joins over its life.
- A member's billing runs (``StartBilling``) only while they are seated and both they and the
  host are here (``rules.connected``) — brought in step by :class:`Reconcile` on the owner —,
  stops when either goes (``StopBilling``), and ends with their seat (``EndSession``, unless
  metering ended it first).
- A closed room takes nothing more: a join is refused ``room_closed``; every other event is a
  no-op without effects (the one that closed it won the race).

Idempotence: a leave of someone not seated, an away of someone away, a back of someone here, a
close of a closed room change nothing and ask for nothing (the shell reports "already so").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from market.voicerooms import rules
from market.voicerooms.errors import RoomClosed, RoomFull
from market.voicerooms.rules import CloseReason, LeaveReason, Presence


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Seat:
    """A member in a seat: their metered session (its id is the membership's) and since when
    every device of theirs is gone, if it is.  ``billed``: their billing clock runs (the owner's
    memory, not stored)."""

    session_id: str
    user_id: str
    away_ms: int | None = None
    billed: bool = False


@dataclass(frozen=True, slots=True)
class Left:
    """A member who left (the shell loads none: this holds who left in the step)."""

    session_id: str
    user_id: str
    reason: LeaveReason
    at_ms: int


@dataclass(frozen=True, slots=True)
class Room:
    host_id: str
    capacity: int
    status: Status = Status.OPEN
    #: joins over the room's life
    joins: int = 0
    host_away_ms: int | None = None
    seats: tuple[Seat, ...] = ()
    left: tuple[Left, ...] = ()
    closed_ms: int | None = None
    close_reason: CloseReason | None = None

    def seat_of(self, session_id: str) -> Seat | None:
        return next((x for x in self.seats if x.session_id == session_id), None)

    def seat_of_user(self, user_id: str) -> Seat | None:
        return next((x for x in self.seats if x.user_id == user_id), None)


def opened(host_id: str, capacity: int) -> Room:
    """A room just opened (its capacity already checked, ``rules.check_capacity``)."""
    return Room(host_id=host_id, capacity=capacity)


def seat_refusal(room: Room) -> RoomClosed | RoomFull | None:
    """Why a customer may not take a seat now, if they may not."""
    if room.status is not Status.OPEN:
        return RoomClosed()
    if not rules.has_room_for_one_more(len(room.seats), room.capacity):
        return RoomFull()
    if room.joins >= rules.MAX_JOINS_PER_ROOM:
        return RoomFull("this room has had as many listeners as it may")
    return None


def leave_reason_on_close(reason: CloseReason) -> LeaveReason:
    """Why the members leave a closing room: a room whose process died ends their sessions as
    such, whichever sweep saw it first (the reason must not depend on the race)."""
    return LeaveReason.SERVER_LOST if reason is CloseReason.SERVER_LOST else LeaveReason.CLOSED


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Join:
    """A customer takes a seat (their first minute already reserved on ``session_id``)."""

    session_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Leave:
    """A member goes.  ``session_ended``: metering ended their session first."""

    session_id: str
    reason: LeaveReason
    session_ended: bool = False


@dataclass(frozen=True, slots=True)
class Close:
    reason: CloseReason


@dataclass(frozen=True, slots=True)
class Away:
    """Every device of ``user_id`` (the host or a member) is gone, since ``at_ms`` if earlier
    than now (the last heartbeat of the process that held their sockets)."""

    user_id: str
    at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Back:
    user_id: str


@dataclass(frozen=True, slots=True)
class SessionState:
    """A member's metered session as metering has it."""

    status: str  # "ringing" | "active" | "paused" | "ended" (metering's)
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reconcile:
    """The owner brings billing and media in step with the facts: whose media arrives
    (``media``), who is in the media room (``present``), who is overdue there (``late``), each
    member's session (``sessions``), and the sessions whose billing clock runs here
    (``tracked``)."""

    media: frozenset[str] = frozenset()
    present: frozenset[str] = frozenset()
    late: frozenset[str] = frozenset()
    sessions: Mapping[str, SessionState] = field(default_factory=dict)
    tracked: frozenset[str] = frozenset()


Event = Join | Leave | Close | Away | Back | Reconcile


# -- effects ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndSession:
    """End and settle the member's session (its billing with it)."""

    session_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DropMember:
    """The member's media leaves the room and the owner forgets their billing state."""

    session_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class CloseMedia:
    pass


@dataclass(frozen=True, slots=True)
class ForgetRoom:
    """The owner forgets the room's billing state."""

    session_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReleaseHost:
    """The host may take calls again."""

    host_id: str


@dataclass(frozen=True, slots=True)
class TellLeft:
    """``room:left`` to a member who is out."""

    user_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class TellRoom:
    """``room:update`` to the host and every member."""


@dataclass(frozen=True, slots=True)
class TellHost:
    """``room:update`` to the host (the room closed)."""

    host_id: str


@dataclass(frozen=True, slots=True)
class Rebill:
    """Someone's presence changed: the owner brings billing in step (a :class:`Reconcile`)."""


@dataclass(frozen=True, slots=True)
class StartBilling:
    """The member and the host are both here: the member's connected time counts."""

    session_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class StopBilling:
    """The member or the host is not here: connected time stops counting, from ``since_ms``
    (the first absence that explains it), else now (their media stopped)."""

    session_id: str
    user_id: str
    since_ms: int | None


@dataclass(frozen=True, slots=True)
class Track:
    """Run the member's billing clock here (they joined on another process)."""

    session_id: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Hold back (or forward again) the member's media: metering paused their session."""

    user_id: str
    held: bool


@dataclass(frozen=True, slots=True)
class DropMedia:
    """Someone in the media room who is not in the room (left elsewhere, or never was)."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Remove:
    """Ask for a :class:`Leave` (the shell steps it under the room's lock)."""

    session_id: str
    reason: LeaveReason
    session_ended: bool = False


@dataclass(frozen=True, slots=True)
class CloseRoom:
    """Ask for a :class:`Close` (the shell steps it under the room's lock)."""

    reason: CloseReason


Effect = (
    EndSession
    | DropMember
    | CloseMedia
    | ForgetRoom
    | ReleaseHost
    | TellLeft
    | TellRoom
    | TellHost
    | Rebill
    | StartBilling
    | StopBilling
    | Track
    | Hold
    | DropMedia
    | Remove
    | CloseRoom
)


# -- the machine ------------------------------------------------------------------------------


def step(room: Room, event: Event, now_ms: int) -> tuple[Room, list[Effect]]:
    """The room after ``event`` and what the shell must do; a join refused raises
    :class:`RoomClosed` or :class:`RoomFull`."""
    match event:
        case Join(session_id, user_id):
            refusal = seat_refusal(room)
            if refusal is not None:
                raise refusal
            seated = Seat(session_id, user_id)
            after = replace(room, seats=(*room.seats, seated), joins=room.joins + 1)
            return after, [TellRoom(), Rebill()]
        case Leave(session_id, reason, session_ended):
            return _leave(room, session_id, reason, session_ended, now_ms)
        case Close(reason):
            return _close(room, reason, now_ms)
        case Away(user_id, at_ms):
            since = now_ms if at_ms is None else min(now_ms, at_ms)
            return _presence(room, user_id, since)
        case Back(user_id):
            return _presence(room, user_id, None)
        case Reconcile():
            return _reconcile(room, event)
    raise TypeError(f"unknown event {event!r}")  # pragma: no cover (exhaustive match)


def _leave(
    room: Room, session_id: str, reason: LeaveReason, session_ended: bool, now_ms: int
) -> tuple[Room, list[Effect]]:
    seat = room.seat_of(session_id)
    if room.status is not Status.OPEN or seat is None:
        return room, []
    after = replace(
        room,
        seats=tuple(x for x in room.seats if x.session_id != session_id),
        left=(*room.left, Left(session_id, seat.user_id, reason, now_ms)),
    )
    effects: list[Effect] = [] if session_ended else [EndSession(session_id, reason.value)]
    effects += [DropMember(session_id, seat.user_id), TellLeft(seat.user_id, reason.value)]
    return after, [*effects, TellRoom()]


def _close(room: Room, reason: CloseReason, now_ms: int) -> tuple[Room, list[Effect]]:
    if room.status is not Status.OPEN:
        return room, []
    left_as = leave_reason_on_close(reason)
    after = replace(
        room,
        status=Status.CLOSED,
        closed_ms=now_ms,
        close_reason=reason,
        host_away_ms=None,
        seats=(),
        left=(*room.left, *(Left(x.session_id, x.user_id, left_as, now_ms) for x in room.seats)),
    )
    effects: list[Effect] = [EndSession(x.session_id, left_as.value) for x in room.seats]
    effects += [
        CloseMedia(),
        ForgetRoom(tuple(x.session_id for x in room.seats)),
        ReleaseHost(room.host_id),
    ]
    effects += [TellLeft(x.user_id, left_as.value) for x in room.seats]
    return after, [*effects, TellHost(room.host_id)]


def _presence(room: Room, user_id: str, since: int | None) -> tuple[Room, list[Effect]]:
    """Mark ``user_id`` away since ``since`` (None: back); only a change asks for billing."""
    if room.status is not Status.OPEN:
        return room, []
    away = since is not None
    if user_id == room.host_id:
        if (room.host_away_ms is not None) == away:
            return room, []
        return replace(room, host_away_ms=since), [Rebill()]
    seat = room.seat_of_user(user_id)
    if seat is None or (seat.away_ms is not None) == away:
        return room, []
    seats = tuple(replace(x, away_ms=since) if x is seat else x for x in room.seats)
    return replace(room, seats=seats), [Rebill()]


def _reconcile(room: Room, r: Reconcile) -> tuple[Room, list[Effect]]:
    """Billing and media in step: the host overdue closes the room; a member whose session
    metering ended, or who is overdue, goes; every other member billed exactly while
    connected, held back while their session is paused."""
    if room.status is not Status.OPEN:
        return room, []
    if room.host_id in r.late:
        return room, [CloseRoom(CloseReason.MEDIA_LOST)]
    host = Presence(room.host_id in r.media, room.host_away_ms is not None)
    effects: list[Effect] = []
    seats: list[Seat] = []
    staying = {room.host_id}
    for seat in room.seats:
        session = r.sessions.get(seat.session_id, SessionState("active"))
        if session.status == "ended":
            reason = rules.left_reason_for(session.end_reason or "")
            effects.append(Remove(seat.session_id, reason, session_ended=True))
            seats.append(seat)
            continue
        if seat.user_id in r.late:
            effects.append(Remove(seat.session_id, LeaveReason.MEDIA_LOST))
            seats.append(seat)
            continue
        staying.add(seat.user_id)
        member = Presence(seat.user_id in r.media, seat.away_ms is not None)
        want = rules.connected(member, host)
        if seat.billed != want:
            if want:
                effects.append(StartBilling(seat.session_id, seat.user_id))
            else:
                aways = [t for t in (seat.away_ms, room.host_away_ms) if t is not None]
                since = min(aways) if aways else None
                effects.append(StopBilling(seat.session_id, seat.user_id, since))
            seat = replace(seat, billed=want)
        elif seat.session_id not in r.tracked:
            effects.append(Track(seat.session_id))
        effects.append(Hold(seat.user_id, session.status == "paused"))
        seats.append(seat)
    effects += [DropMedia(u) for u in sorted(r.present - staying)]
    return replace(room, seats=tuple(seats)), effects
