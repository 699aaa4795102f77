"""The server's own routes: liveness, readiness, the OpenAPI document, metrics."""

from __future__ import annotations

import hmac

import structlog
from aiohttp import web
from pydantic import BaseModel

from kernel.errors import Unauthenticated, Unavailable
from kernel.http.access import ANYONE, access
from kernel.http.api import Api, Call
from kernel.keys import SETTINGS
from peiliao.keys import OPENAPI, PROMETHEUS
from store.keys import DB

log = structlog.get_logger("peiliao")


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    database: str


system = Api()


@system.route(
    "GET",
    "/healthz",
    access=access(ANYONE),
    summary="Liveness: the process answers",
    tags=["system"],
    auth="none",
    response=Health,
)
async def healthz(call: Call) -> BaseModel:
    return Health(status="ok")


@system.route(
    "GET",
    "/readyz",
    access=access(ANYONE),
    summary="Readiness: the database answers",
    tags=["system"],
    auth="none",
    response=Ready,
    errors=[Unavailable],
)
async def readyz(call: Call) -> BaseModel:
    try:
        await call.request.app[DB].ping()
    except Exception as exc:
        log.warning("readyz_database_down", error=type(exc).__name__)
        raise Unavailable("the database does not answer") from exc
    return Ready(status="ok", database="ok")


@system.route(
    "GET",
    "/api/openapi.json",
    access=access(ANYONE),
    summary="This document",
    tags=["system"],
    auth="none",
)
async def openapi(call: Call) -> web.StreamResponse:
    return web.json_response(call.request.app[OPENAPI])


@system.route(
    "GET",
    "/metrics",
    access=access(ANYONE),
    summary="Prometheus metrics",
    tags=["system"],
    auth="none",
    raw_response_type="text/plain",
    errors=[Unauthenticated],
)
async def metrics(call: Call) -> web.StreamResponse:
    # Not public: route names, counts and latencies tell an outsider too much.  With a token
    # (required in prod) only a scraper sending it may read them; dev without one is open.
    token = call.request.app[SETTINGS].metrics_token
    if token:
        sent = call.request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise Unauthenticated("send the metrics bearer token (PEILIAO_METRICS_TOKEN)")
    body, content_type = call.request.app[PROMETHEUS].render()
    resp = web.Response(body=body)
    resp.headers["Content-Type"] = content_type
    return resp
