"""Structured logs: structlog, JSON outside dev, context (request_id, user_id, …) from contextvars.

Never log SMS codes, tokens, SDP, ID or card numbers, or message text; phones appear masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: fields whose value is never written, whatever it holds
SECRET_KEYS = frozenset(
    {
        "sms_code",
        "token",
        "sdp",
        "password",
        "secret",
        "csrf",
        "csrf_token",
        "authorization",
        "text",
    }
)
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{15,19}(?:[\dXx])?(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def _scrub(value: str) -> str:
    value = _LONG_DIGITS.sub("[number]", value)  # ID card and bank card numbers
    return _MOBILE.sub(r"\1****\2", value)


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The last line of defence: secrets by field name, ID/card numbers and phones by shape."""
    for key, value in list(event.items()):
        if key.lower() in SECRET_KEYS:
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = _scrub(value)
    return event


def configure_logging(*, level: str = "INFO", json_logs: bool = False) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_logs
        # Plain tracebacks: with rich installed (a test dependency pulls it in) the default
        # formatter prints every frame's locals, slowly (seconds per traceback, on the event
        # loop) and with whatever secrets the locals held.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # We write our own access log line (with the route, not the raw path); silence aiohttp's.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
