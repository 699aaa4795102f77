"""The two middlewares every request passes through.

``request_context`` (outermost): a request id (taken from ``X-Request-Id`` when well-formed, else
new) bound to every log line of the request, one access-log line, and HTTP metrics.
``errors``: the one place that turns exceptions into ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from peiliao.errors import DomainError, MethodNotAllowed, NotFound, PayloadTooLarge
from peiliao.telemetry import HTTP_LATENCY, HTTP_REQUESTS, Telemetry

log = structlog.get_logger("peiliao.http")

TELEMETRY = web.AppKey("telemetry", Telemetry)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(err: DomainError) -> web.Response:
    resp = web.json_response({"error": err.to_dict()}, status=err.status)
    retry = err.details.get("retry_after_s")
    if err.status == 429 and isinstance(retry, int):
        resp.headers["Retry-After"] = str(retry)
    return resp


def _route_of(request: web.Request) -> str:
    # The route pattern, never the raw path: paths can carry ids we do not want as label values.
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def request_context(request: web.Request, handler: _Handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if _REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        elapsed = time.perf_counter() - started
        route = _route_of(request)
        telemetry = request.app[TELEMETRY]
        telemetry.count(HTTP_REQUESTS, method=request.method, route=route, status=str(status))
        telemetry.observe(HTTP_LATENCY, elapsed, method=request.method, route=route)
        log.info(
            "http_request",
            method=request.method,
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
        )
        structlog.contextvars.clear_contextvars()


@web.middleware
async def errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as err:
        if err.status >= 500:
            log.warning("request_failed", code=err.code)
        return error_response(err)
    except web.HTTPRequestEntityTooLarge:
        return error_response(PayloadTooLarge())
    except web.HTTPNotFound:
        return error_response(NotFound())
    except web.HTTPMethodNotAllowed:
        return error_response(MethodNotAllowed())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_") or "http_error"
        return web.json_response(
            {"error": {"code": code, "message": exc.reason}}, status=exc.status
        )
    except Exception:
        log.exception("unhandled_error")
        return web.json_response(
            {"error": {"code": "internal", "message": "internal error; it has been logged"}},
            status=500,
        )
