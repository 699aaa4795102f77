"""Who may call a route, and whose resource each id in its path names: one small declaration per
route (``@api.route(..., access=...)``).

The *caller* part is enforced once, by the API wrapper (``Api._wrap``): a caller whose role is
not declared is refused before the handler runs.  The *owner* part states what the service
checks (a booking is its two parties', a ticket its author's): ownership depends on rows, so it
stays in the services, and ``tests/test_authorization.py`` proves it by calling every route of
the table as every role against resources owned by someone else.  Both parts are published in
the OpenAPI document as ``x-access``.  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from kernel.errors import DomainError, Forbidden

Caller = Literal["anonymous", "customer", "companion", "admin"]
CALLERS: tuple[Caller, ...] = get_args(Caller)

#: anyone, logged in or not
ANYONE: frozenset[Caller] = frozenset(CALLERS)
#: any logged-in user, whatever their role
USERS: frozenset[Caller] = frozenset({"customer", "companion", "admin"})
CUSTOMERS: frozenset[Caller] = frozenset({"customer"})
COMPANIONS: frozenset[Caller] = frozenset({"companion"})
ADMINS: frozenset[Caller] = frozenset({"admin"})

#: whose resource a path id names (what the service checks against the caller):
Owner = Literal[
    "public",  # anyone allowed to call the route may name it (a companion's profile, a room)
    "self",  # the caller's own (their top-up order, their ticket, their certificate)
    "participant",  # either party of it (a session, a booking, an appeal)
    "customer",  # its customer (the session they paid for)
    "companion",  # its companion (the booking they confirm, the review of them they answer)
    "host",  # the voice room's host
    "admin",  # an admin (as a moderator)
]
OWNERS: tuple[Owner, ...] = get_args(Owner)


@dataclass(frozen=True, slots=True)
class Access:
    callers: frozenset[Caller]
    #: path parameter → who owns what it names (one or more of ``Owner``)
    owners: Mapping[str, tuple[Owner, ...]] = field(default_factory=dict)
    #: the refusal for a caller whose role is not among ``callers`` (logged in); anonymous
    #: callers of a route that needs a login get 401 ``unauthenticated``
    refuse: type[DomainError] = Forbidden

    def allows(self, role: str | None) -> bool:
        """Whether a caller with ``role`` (None: anonymous) may call the route at all."""
        return (role or "anonymous") in self.callers

    def describe(self) -> dict[str, Any]:
        """The ``x-access`` extension of the route's OpenAPI operation."""
        return {
            "callers": [c for c in CALLERS if c in self.callers],
            "owners": {name: list(owners) for name, owners in self.owners.items()},
        }


def access(
    callers: Iterable[Caller],
    *,
    refuse: type[DomainError] = Forbidden,
    **owners: Owner | tuple[Owner, ...],
) -> Access:
    """``access(USERS, booking_id="participant")``: any logged-in user, of their own bookings;
    ``access(ANYONE, room_id="public")``; ``access(USERS, appeal_id=("participant", "admin"))``."""
    chosen = frozenset(callers)
    if not chosen or not chosen <= ANYONE:
        raise ValueError(f"callers must be some of {CALLERS}")
    table: dict[str, tuple[Owner, ...]] = {}
    for name, who in owners.items():
        whose = (who,) if isinstance(who, str) else tuple(who)
        if not whose or not set(whose) <= set(OWNERS):
            raise ValueError(f"{name}: owners must be some of {OWNERS}")
        table[name] = whose
    return Access(chosen, table, refuse)


def auth_for(a: Access) -> Literal["optional", "user", "admin"]:
    """The login a declaration implies: optional when anonymous callers are allowed, admin when
    only admins are, else a user."""
    if "anonymous" in a.callers:
        return "optional"
    if a.callers == ADMINS:
        return "admin"
    return "user"
