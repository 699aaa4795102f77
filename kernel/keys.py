"""The shared state every package may read, under the kernel's AppKeys (each package's own state
is under the keys of its ``keys.py``).  ``kernel.setup`` fills them first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from kernel.clock import Clock
from kernel.events import EventBus
from kernel.http.api import Api
from kernel.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
#: the in-process domain-event bus (``kernel.events``): cross-domain reactions go through it
EVENTS = web.AppKey("events", EventBus)
#: this server process, as other processes know it (metering's and calls' ``owner``)
OWNER = web.AppKey("owner", str)
#: the HTTP API being assembled: each package's ``setup()`` includes its routes; the
#: composition root mounts it once every package is set up
API = web.AppKey("api", Api)
#: steps run when the app shuts down, before any cleanup context closes (``kernel.setup``)
ShutdownStep = Callable[[], Awaitable[None]]
SHUTDOWN: web.AppKey[list[ShutdownStep]] = web.AppKey("shutdown_steps")
