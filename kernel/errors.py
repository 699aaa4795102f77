"""The base of every domain error.

Each package has its own ``errors.py`` with subclasses that carry a stable machine-readable
``code`` and an HTTP ``status``.  One middleware (``peiliao.http.middleware``) turns them into
``{"error": {"code", "message"}}``; Socket.IO acks return ``{"ok": false, "error": {...}}``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "request refused"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class CodedError(DomainError):
    """A refusal whose stable code is chosen where it is raised: a rule's own code.

    Where that code comes from an enum at run time (not a literal the contract can read), the
    class lists the members it may carry in ``codes``: ``python -m peiliao.contract`` lists their
    values with the other codes, so the client has words for each (a missed one reads as the
    generic error)."""

    codes: ClassVar[tuple[Enum, ...]] = ()

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code  # type: ignore[misc]


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400
    default_message = "the request body or parameters are not valid"


class MalformedJson(DomainError):
    code = "malformed_json"
    status = 400
    default_message = "the request body is not valid JSON"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_message = "the request body is too large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    default_message = "the request's content type is not accepted here"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "no such resource"


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405
    default_message = "method not allowed on this resource"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    default_message = "log in first"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "you may not do this"


class CsrfFailed(DomainError):
    code = "csrf_failed"
    status = 403
    default_message = "missing or wrong X-CSRF-Token header"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = "too many requests; try again later"


class Unavailable(DomainError):
    code = "unavailable"
    status = 503
    default_message = "a dependency is unavailable; try again shortly"
