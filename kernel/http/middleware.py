"""The two middlewares every request passes through, and the headers every response carries.

``request_context`` (outermost): a request id (taken from ``X-Request-Id`` when well-formed, else
new) bound to every log line of the request, one access-log line, and HTTP metrics.
``errors``: the one place that turns exceptions into ``{"error": {"code", "message"}}``.
``security_headers``: CSP, framing, sniffing, referrer and (in prod) HSTS headers, on every
response: pages, assets, API answers and errors alike.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from kernel.errors import DomainError, MethodNotAllowed, NotFound, PayloadTooLarge
from kernel.telemetry import HTTP_LATENCY, HTTP_REQUESTS, Telemetry

log = structlog.get_logger("kernel.http")

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


#: The web client is a built Vue app: its scripts and styles are files under /assets (Vite
#: writes no inline script or style), so nothing inline is allowed.  Vue's ``:style`` bindings
#: set properties through the CSSOM, which CSP does not govern.  ``data:`` images: the page's
#: icon (web_client/index.html); ``blob:``: local previews of a chosen avatar or voice sample.
#: ``connect-src 'self'`` covers the API and the Socket.IO websocket of the same host (CSP 3).
#: Media streams of calls are ``srcObject``s, which CSP does not govern either.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: two years, the preload list's minimum; only sent in prod (dev runs over plain HTTP)
HSTS = "max-age=63072000; includeSubDomains"


def security_headers(*, hsts: bool) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` hook (not a middleware: it also reaches responses that are
    streamed, static files and answers made before the middlewares run)."""
    headers: Mapping[str, str] = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        # calls use the camera and microphone of our own pages only
        "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), payment=()",
        **({"Strict-Transport-Security": HSTS} if hsts else {}),
    }

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in headers.items():
            response.headers.setdefault(name, value)

    return add
