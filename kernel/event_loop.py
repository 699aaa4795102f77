"""Running a coroutine on the event loop a setting names (``PEILIAO_EVENT_LOOP``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run(main: Coroutine[Any, Any, Any], loop: str = "asyncio") -> Any:
    """``asyncio.run(main)``, on uvloop's loop when ``loop`` is ``"uvloop"``."""
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return asyncio.run(main)
