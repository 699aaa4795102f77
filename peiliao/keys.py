"""The composition root's own AppKeys: state every package may read but none owns (the
database, the clock, the metrics registry, the OpenAPI document, the Socket.IO adapter)."""

from __future__ import annotations

from aiohttp import web

from kernel.clock import Clock
from kernel.telemetry import PrometheusTelemetry
from signaling.server import Signaling
from store import Database

VERSION = "0.1.0"
SIGNALING = web.AppKey("signaling", Signaling)
DB = web.AppKey("db", Database)
CLOCK = web.AppKey("clock", Clock)
PROMETHEUS = web.AppKey("prometheus", PrometheusTelemetry)
OPENAPI = web.AppKey("openapi", dict)
