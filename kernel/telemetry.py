"""Metrics through one interface; Prometheus is its adapter.

Metrics are declared once (name, help, labels); code records them through :class:`Telemetry`.
The Prometheus adapter owns its own registry (no process-global state), so two apps in one
process (as in the tests) do not collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import prometheus_client as prom
from prometheus_client import CollectorRegistry


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    help: str
    kind: Literal["counter", "histogram", "gauge"]
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


HTTP_REQUESTS = Metric(
    "peiliao_http_requests_total",
    "HTTP requests by route and status",
    "counter",
    ("method", "route", "status"),
)
HTTP_LATENCY = Metric(
    "peiliao_http_request_duration_seconds",
    "HTTP request duration",
    "histogram",
    ("method", "route"),
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SMS_CODES = Metric(
    "peiliao_sms_codes_total", "SMS code requests by outcome", "counter", ("outcome",)
)
LOGINS = Metric("peiliao_logins_total", "Code verifications by outcome", "counter", ("outcome",))

LOOP_LAG = Metric(
    "peiliao_event_loop_lag_seconds",
    "How late the event loop ran a timer due every 50 ms (kernel.loop_watch)",
    "histogram",
    (),
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LOOP_STALL_MAX = Metric(
    "peiliao_event_loop_stall_max_seconds",
    "The longest event-loop stall since the process started",
    "gauge",
)

ALL_METRICS = (HTTP_REQUESTS, HTTP_LATENCY, SMS_CODES, LOGINS, LOOP_LAG, LOOP_STALL_MAX)


class Telemetry(Protocol):
    def count(self, metric: Metric, value: float = 1, **labels: str) -> None: ...

    def observe(self, metric: Metric, value: float, **labels: str) -> None: ...

    def set(self, metric: Metric, value: float, **labels: str) -> None: ...


class PrometheusTelemetry:
    def __init__(self, metrics: tuple[Metric, ...] = ALL_METRICS) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._impl: dict[str, prom.Counter | prom.Histogram | prom.Gauge] = {}
        for m in metrics:
            self.declare(m)

    def declare(self, m: Metric) -> None:
        if m.name in self._impl:
            return
        if m.kind == "counter":
            self._impl[m.name] = prom.Counter(
                m.name.removesuffix("_total"), m.help, m.labels, registry=self.registry
            )
        elif m.kind == "histogram":
            self._impl[m.name] = prom.Histogram(
                m.name,
                m.help,
                m.labels,
                registry=self.registry,
                buckets=m.buckets or prom.Histogram.DEFAULT_BUCKETS,
            )
        else:
            self._impl[m.name] = prom.Gauge(m.name, m.help, m.labels, registry=self.registry)

    def _child(
        self, metric: Metric, labels: dict[str, str]
    ) -> prom.Counter | prom.Histogram | prom.Gauge:
        self.declare(metric)
        impl = self._impl[metric.name]
        return impl.labels(**labels) if metric.labels else impl

    def count(self, metric: Metric, value: float = 1, **labels: str) -> None:
        self._child(metric, labels).inc(value)  # type: ignore[union-attr]

    def observe(self, metric: Metric, value: float, **labels: str) -> None:
        self._child(metric, labels).observe(value)  # type: ignore[union-attr]

    def set(self, metric: Metric, value: float, **labels: str) -> None:
        self._child(metric, labels).set(value)  # type: ignore[union-attr]

    def render(self) -> tuple[bytes, str]:
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST
