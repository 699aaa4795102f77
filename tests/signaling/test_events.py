"""Every Socket.IO event the server answers is an event of ``signaling.protocol.EVENTS``, served by
one ``@handles`` method that takes the event's protocol model and answers with an ack
``TypedDict``, and no ``Any`` in between: a new handler registered another way, or untyped,
fails here.  (Wrong payloads for every event: ``test_abuse.py``.)"""

from __future__ import annotations

import inspect
from types import NoneType
from typing import Any, get_args, get_type_hints, is_typeddict

import pytest

from accounts.service import Principal
from kernel.http.models import Strict
from signaling.events import Route, handles, routes
from signaling.ids import SocketId
from signaling.keys import SIGNALING
from signaling.protocol import EVENTS, CallAck, CallRef
from tests.harness.rig import Rig

# python-socketio's own events, and the catch-all that answers ``unknown_event``
LIFECYCLE = {"connect", "disconnect", "*"}


def mentions_any(hint: object, depth: int = 0) -> bool:
    """Whether a type hint is, or holds (in its arguments or a TypedDict's fields), ``Any``."""
    assert depth < 20, hint
    if hint is Any:
        return True
    if is_typeddict(hint):
        return any(mentions_any(h, depth + 1) for h in get_type_hints(hint).values())
    return any(mentions_any(arg, depth + 1) for arg in get_args(hint))


def check_typed(event: str, route: Route) -> None:
    hints = get_type_hints(route.handler)
    who, sid, payload = inspect.signature(route.handler).parameters
    assert hints[who] is Principal, (event, hints)
    assert hints[sid] is SocketId, (event, hints)
    assert hints[payload] is (route.model or NoneType), (event, hints)
    assert is_typeddict(hints["return"]), (event, hints["return"])
    assert not any(mentions_any(h) for h in hints.values()), (event, hints)
    if route.model is not None:
        for name, field in route.model.model_fields.items():
            assert not mentions_any(field.annotation), (event, name)


@pytest.mark.parametrize("db_target", ["sqlite"], indirect=True)
async def test_every_registered_event_has_its_model_and_a_typed_handler(rig: Rig) -> None:
    signaling = rig.app[SIGNALING]
    registered = set(signaling.sio.handlers["/"]) - LIFECYCLE
    assert registered == set(EVENTS), registered ^ set(EVENTS)
    assert set(signaling.routes) == set(EVENTS)
    for event in sorted(registered):
        route = signaling.routes[event]
        assert route.model is EVENTS[event], event
        assert route.model is None or issubclass(route.model, Strict), event
        check_typed(event, route)


def test_a_handler_must_take_the_protocols_model() -> None:
    with pytest.raises(LookupError):
        handles("call:explode", CallRef)
    with pytest.raises(TypeError):
        handles("call:current", CallRef)  # takes no payload
    with pytest.raises(TypeError):
        handles("call:get", None)


class OneHandler:
    @handles("call:get", CallRef)
    async def get(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        return {"call": {"call_id": p.call_id}}


def test_every_event_needs_one_handler() -> None:
    with pytest.raises(TypeError, match="no handler for"):
        routes(OneHandler())
    with pytest.raises(TypeError, match="two handlers for call:get"):
        routes(OneHandler(), OneHandler())
