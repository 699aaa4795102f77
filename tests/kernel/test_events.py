"""The domain-event bus: handlers of an event's own type run in the order they subscribed, each
one awaited; a handler's failure is logged and the next one still runs; the publisher is never
failed by a reaction; cancellation is not swallowed; the handlers per type are bounded."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from structlog.testing import capture_logs

from kernel.events import EventBus


@dataclass(frozen=True)
class Rang:
    who: str


@dataclass(frozen=True)
class Hung:
    who: str


async def test_handlers_run_in_subscription_order_for_their_own_type_only() -> None:
    bus, seen = EventBus(), []

    async def first(e: Rang) -> None:
        await asyncio.sleep(0)
        seen.append(("first", e.who))

    async def second(e: Rang) -> None:
        seen.append(("second", e.who))

    async def other(e: Hung) -> None:
        seen.append(("other", e.who))

    bus.subscribe(Rang, first)
    bus.subscribe(Rang, second)
    bus.subscribe(Hung, other)
    await bus.publish(Rang("a"))
    assert seen == [("first", "a"), ("second", "a")]
    await bus.publish(Hung("b"))
    assert seen[-1] == ("other", "b")


async def test_an_event_nobody_reacts_to_is_a_no_op() -> None:
    await EventBus().publish(Rang("a"))


async def test_a_failing_handler_is_logged_and_the_next_still_runs() -> None:
    bus, seen = EventBus(), []

    async def broken(e: Rang) -> None:
        raise RuntimeError("boom")

    async def fine(e: Rang) -> None:
        seen.append(e.who)

    bus.subscribe(Rang, broken)
    bus.subscribe(Rang, fine)
    with capture_logs() as logs:
        await bus.publish(Rang("a"))  # does not raise
    assert seen == ["a"]
    failed = [x for x in logs if x["event"] == "event_handler_failed"]
    assert len(failed) == 1
    assert failed[0]["event_type"] == "Rang"
    assert "broken" in failed[0]["handler"]


async def test_cancellation_is_not_swallowed() -> None:
    bus = EventBus()

    async def cancelled(e: Rang) -> None:
        raise asyncio.CancelledError

    bus.subscribe(Rang, cancelled)
    with pytest.raises(asyncio.CancelledError):
        await bus.publish(Rang("a"))


def test_handlers_per_type_are_bounded() -> None:
    bus = EventBus(max_handlers=2)

    async def h(e: Rang) -> None:
        return None

    bus.subscribe(Rang, h)
    bus.subscribe(Rang, h)
    with pytest.raises(RuntimeError):
        bus.subscribe(Rang, h)
    bus.subscribe(Hung, h)  # another type has its own bound
    assert len(bus.handlers(Rang)) == 2
