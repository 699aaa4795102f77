"""The composition root's own AppKeys: the metrics registry (as Prometheus, to render it) and the
OpenAPI document, both served by ``peiliao.system``.  Every other key lives with the package that
owns its state (``<package>/keys.py``; the shared ones in ``kernel.keys`` and ``store.keys``)."""

from __future__ import annotations

from aiohttp import web

from kernel.telemetry import PrometheusTelemetry

VERSION = "0.1.0"
PROMETHEUS = web.AppKey("prometheus", PrometheusTelemetry)
OPENAPI = web.AppKey("openapi", dict)
