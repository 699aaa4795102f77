"""One pattern for every client → server Socket.IO event: ``@handles(event, Model)`` on a method
names the event it serves and its payload's model in ``signaling.protocol.EVENTS`` (``None``:
the event takes no payload).  mypy checks that the method takes that model and answers with an
ack ``TypedDict``; a test checks every registered handler's annotations at run time (no ``Any``).

``routes(*holders)`` gathers the marked methods of the objects holding them, exactly one per
event of ``protocol.EVENTS``.  ``Route.parse`` validates an event's arguments strictly with the
model (``invalid_input`` otherwise); the server's wrapper (``signaling.server``) adds who is
connected, the rate limit, the time-out and the ack's ``ok``/``error``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, overload

from pydantic import ValidationError

from kernel.errors import InvalidInput
from kernel.http.models import Strict
from signaling import protocol
from signaling.ids import SocketId

if TYPE_CHECKING:  # pure: no I/O module at run time (accounts.service holds a database)
    from accounts.service import Principal

P = TypeVar("P", bound=Strict)
A = TypeVar("A", bound=Mapping[str, object])
#: the object whose method handles the event
H = TypeVar("H")
F = TypeVar("F", bound=Callable[..., Awaitable[Mapping[str, object]]])

_MARK = "__socket_event__"

#: a handler once bound to its object: (who, socket, payload) → the ack's fields
Handler = Callable[["Principal", SocketId, Strict | None], Awaitable[Mapping[str, object]]]


@overload
def handles(
    event: str, model: type[P]
) -> Callable[
    [Callable[[H, Principal, SocketId, P], Awaitable[A]]],
    Callable[[H, Principal, SocketId, P], Awaitable[A]],
]: ...


@overload
def handles(
    event: str, model: None
) -> Callable[
    [Callable[[H, Principal, SocketId, None], Awaitable[A]]],
    Callable[[H, Principal, SocketId, None], Awaitable[A]],
]: ...


def handles(event: str, model: type[Strict] | None) -> Callable[[F], F]:
    """Mark a method as the handler of ``event``, whose payload is ``model`` (as
    ``protocol.EVENTS`` says: a handler cannot take another model than the protocol's)."""
    if event not in protocol.EVENTS:
        raise LookupError(f"{event} is not in signaling.protocol.EVENTS")
    if protocol.EVENTS[event] is not model:
        raise TypeError(f"{event} takes {protocol.EVENTS[event]!r}, not {model!r}")

    def mark(method: F) -> F:
        setattr(method, _MARK, event)
        return method

    return mark


@dataclass(frozen=True, slots=True)
class Route:
    event: str
    model: type[Strict] | None
    handler: Handler

    def parse(self, args: tuple[object, ...]) -> Strict | None:
        """The payload of ``args`` (what the client sent after the event's name), validated
        strictly; else ``InvalidInput`` naming the first field at fault."""
        if self.model is None:
            if args not in ((), (None,), ({},)):
                raise InvalidInput(f"{self.event} takes no payload")
            return None
        if len(args) != 1:
            raise InvalidInput(f"{self.event} takes exactly one object")
        try:
            return self.model.model_validate(args[0])
        except ValidationError as exc:
            raise invalid(exc) from None


def invalid(exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return InvalidInput(f"{where}: {first['msg']}")


def routes(*holders: object) -> dict[str, Route]:
    """The ``@handles`` methods of ``holders``, bound, by event: one for every event of
    ``protocol.EVENTS`` (else ``TypeError``, at start-up)."""
    found: dict[str, Route] = {}
    for holder in holders:
        for name in dir(type(holder)):
            event = getattr(getattr(type(holder), name, None), _MARK, None)
            if event is None:
                continue
            if event in found:
                raise TypeError(f"two handlers for {event}")
            found[event] = Route(event, protocol.EVENTS[event], getattr(holder, name))
    missing = sorted(set(protocol.EVENTS) - set(found))
    if missing:
        raise TypeError(f"no handler for {', '.join(missing)}")
    return found
