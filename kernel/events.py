"""The one in-process mechanism for reactions that cross domains: a typed domain-event bus.

A domain that has news publishes a past-tense event (a frozen dataclass it owns:
``moderation.events.UserBlocked``, ``signaling.events.CallEnded``); a domain that reacts
subscribes to it in its own ``setup()``.  The publisher names no subscriber, and the composition
root wires nothing: it only calls each package's ``setup()``.

Handlers run in the publisher's task, one after the other, in the order they subscribed (the
order of the packages' ``setup()`` calls), so a publisher's ``await publish(...)`` returns once
every reaction has run.  A handler that raises is logged and the next one still runs: one
domain's failure never undoes or hides another's reaction, nor fails the publisher.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog

log = structlog.get_logger("peiliao.events")

E = TypeVar("E")
Handler = Callable[[E], Awaitable[None]]

#: handlers per event type (each is a domain's reaction; a few per type in practice)
MAX_HANDLERS = 32


class EventBus:
    """Subscribers by event type; ``publish`` awaits each, logging (not raising) failures."""

    def __init__(self, *, max_handlers: int = MAX_HANDLERS) -> None:
        self._handlers: dict[type[Any], list[Handler[Any]]] = {}
        self._max = max_handlers

    def subscribe(self, kind: type[E], handler: Handler[E]) -> None:
        handlers = self._handlers.setdefault(kind, [])
        if len(handlers) >= self._max:
            raise RuntimeError(f"more than {self._max} handlers of {kind.__name__}")
        handlers.append(handler)

    def handlers(self, kind: type[Any]) -> tuple[Handler[Any], ...]:
        return tuple(self._handlers.get(kind, ()))

    async def publish(self, event: object) -> None:
        for handler in self.handlers(type(event)):
            try:
                await handler(event)
            except Exception:
                log.exception(
                    "event_handler_failed",
                    event_type=type(event).__name__,
                    handler=getattr(handler, "__qualname__", repr(handler)),
                )
