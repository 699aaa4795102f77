"""Call admission: whether a customer may ring a companion now, as a pure rule (no I/O).

The shell (``signaling.ringing``) gathers the facts of one request (who asks, whom, their open
sessions, blocks, the companion's presence) into :class:`Facts`, and :func:`decide` answers with
an :class:`Admitted` or the refusal to raise.  The checks run in a fixed order, so a request that
fails several answers with the first:

1. the process is draining (``draining``);
2. the caller is not a customer (``not_callable``);
3. the callee is no companion, or is the caller (``not_callable``);
4. the caller has an open session, a call or a room seat (``already_in_call``);
5. either of the two blocked the other (``blocked``);
6. the companion is in another session (``companion_busy``) or not taking orders
   (``companion_offline``).

Admission is the early, friendly answer: the companion's claim (``Presence.claim``) and the
customer's one meter (metering) still decide a race between two requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.roles import Role
from kernel.errors import DomainError
from signaling.errors import (
    AlreadyInCall,
    Blocked,
    CompanionBusy,
    CompanionOffline,
    Draining,
    NotCallable,
)

#: presence statuses (``signaling.presence``) that admission tells apart
ONLINE, BUSY = "online", "busy"


@dataclass(frozen=True, slots=True)
class Facts:
    """What admission needs to know about one request."""

    caller_id: str
    caller_role: str
    companion_id: str
    #: the callee's role; None: no such user
    companion_role: str | None
    #: the caller has an open call or a seat in a voice room
    caller_in_session: bool
    #: either of the two blocked the other
    blocked: bool
    #: the companion's presence: "online", "busy" or "offline"
    companion_status: str
    #: this process takes no new calls
    draining: bool = False


@dataclass(frozen=True, slots=True)
class Admitted:
    """The request may ring: the companion is to be claimed for a new call."""

    caller_id: str
    companion_id: str


def decide(facts: Facts) -> Admitted | DomainError:
    """The admission, or the first refusal that applies (see the module's order)."""
    if facts.draining:
        return Draining()
    if facts.caller_role != Role.CUSTOMER:
        return NotCallable("only customers can request sessions")
    if facts.companion_role != Role.COMPANION or facts.companion_id == facts.caller_id:
        return NotCallable()
    if facts.caller_in_session:
        return AlreadyInCall()
    if facts.blocked:
        return Blocked()
    if facts.companion_status != ONLINE:
        return CompanionBusy() if facts.companion_status == BUSY else CompanionOffline()
    return Admitted(facts.caller_id, facts.companion_id)
