"""What the headless caller reports when something fails.

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

from typing import Any


class CallerError(Exception):
    """What went wrong, with what to do next (``hint``); ``code`` is stable (the server's own
    code when it refused something)."""

    def __init__(self, message: str, hint: str = "", code: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class ApiError(Exception):
    """An HTTP error answer: ``{"error": {code, message, details}}``."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


def refused(exc: ApiError, doing: str, hint: str = "") -> CallerError:
    return CallerError(f"{doing}: the server refused ({exc.code}: {exc.message})", hint, exc.code)
