"""The kernel's part of the app: settings, clock, telemetry, signed cursors, the event bus, this
process's id, the API being assembled, and the ordered shutdown every package joins."""

from __future__ import annotations

import os
import secrets
import socket

from aiohttp import web

from kernel.clock import Clock
from kernel.cursor import CursorCodec
from kernel.events import EventBus
from kernel.http.api import CURSORS, Api
from kernel.http.middleware import TELEMETRY
from kernel.keys import API, CLOCK, EVENTS, OWNER, SETTINGS, SHUTDOWN, ShutdownStep
from kernel.loop_watch import loop_watch_ctx
from kernel.settings import Settings
from kernel.telemetry import Telemetry


def process_id() -> str:
    """This server process, as other processes know it (metering's and calls' ``owner``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def setup(app: web.Application, settings: Settings, clock: Clock, telemetry: Telemetry) -> None:
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[TELEMETRY] = telemetry
    app[CURSORS] = CursorCodec.from_secret(settings.secret_key)
    app[EVENTS] = EventBus()
    app[OWNER] = process_id()
    app[API] = Api(
        default_max_body_bytes=settings.max_body_bytes,
        upload_max_body_bytes=settings.max_avatar_bytes,
        max_json_depth=settings.max_json_depth,
    )
    app[SHUTDOWN] = []
    app.on_shutdown.append(_shut_down)
    app.cleanup_ctx.append(loop_watch_ctx)


def before_cleanup(app: web.Application, step: ShutdownStep) -> None:
    """Run ``step`` when the app shuts down, before any cleanup context closes (the database,
    the metering runner, the sockets).  Steps run last-registered first: a package set up later,
    on top of the others, stops before the packages it builds on (as cleanup contexts do)."""
    app[SHUTDOWN].append(step)


async def _shut_down(app: web.Application) -> None:
    steps: list[ShutdownStep] = app[SHUTDOWN]
    for step in reversed(steps):
        await step()
