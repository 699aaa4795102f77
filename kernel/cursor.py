"""Signed keyset cursors: the position after the last item of a page, as an opaque string.

A cursor is the JSON of its position (the sort it belongs to, the last item's sort key and id,
and whatever snapshot the sort needs), base64url, and an HMAC-SHA256 of it under the server's
key (truncated to 96 bits: forging one is pointless, the check only spares the database from
positions no page ever had).  A cursor that does not verify, does not parse, or was made for
another listing is :class:`BadCursor` (400 ``bad_cursor``).

Every paged list of the API uses this codec (one key, from ``PEILIAO_SECRET_KEY``, so every
process verifies every other's cursors): a client can only hand back a position the server
wrote, and the position is still checked in full after the signature (its shape, an aware
time), so a change of format between releases is a ``bad_cursor`` too, never a 500.  Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from kernel.errors import DomainError

MAX_CURSOR_CHARS = 300
#: the longest item id a keyset cursor holds (our ids are a prefix and 24-32 hex digits)
MAX_ID_CHARS = 64
_MAC_BYTES = 12


class BadCursor(DomainError):
    code = "bad_cursor"
    status = 400
    default_message = "the cursor is not one this server gave"


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("cursors need a non-empty key")
        self._key = key

    @classmethod
    def from_secret(cls, secret: str) -> CursorCodec:
        return cls(hmac.new(secret.encode(), b"peiliao cursor v1", hashlib.sha256).digest())

    def encode(self, kind: str, position: list[Any]) -> str:
        """A cursor for ``position`` (JSON values) in a listing of ``kind``."""
        raw = json.dumps([kind, *position], separators=(",", ":"), ensure_ascii=True).encode()
        return f"{_b64(raw)}.{_b64(self._mac(raw))}"

    def decode(self, kind: str, cursor: str) -> list[Any]:
        """The position a cursor of ``kind`` holds; :class:`BadCursor` for anything else."""
        if len(cursor) > MAX_CURSOR_CHARS:
            raise BadCursor()
        body, _, mac = cursor.partition(".")
        try:
            raw = _unb64(body)
            ok = hmac.compare_digest(_unb64(mac), self._mac(raw))
            data = json.loads(raw) if ok else None
        except (ValueError, binascii.Error):
            raise BadCursor() from None
        if not isinstance(data, list) or not data or data[0] != kind:
            raise BadCursor()
        return data[1:]

    def encode_keyset(self, kind: str, at: datetime, item_id: str) -> str:
        """The cursor after an item of a list ordered by (time, id)."""
        return self.encode(kind, [at.isoformat(), item_id])

    def decode_keyset(self, kind: str, cursor: str) -> tuple[datetime, str]:
        """The (aware time, id) an :meth:`encode_keyset` cursor of ``kind`` holds."""
        position = self.decode(kind, cursor)
        if len(position) != 2 or not all(isinstance(p, str) for p in position):
            raise BadCursor()
        at_text, item_id = position
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            raise BadCursor() from None
        if at.tzinfo is None or not (0 < len(item_id) <= MAX_ID_CHARS):
            raise BadCursor()
        return at, item_id

    def decode_int(self, kind: str, cursor: str) -> int:
        """The one positive integer (a row id) a cursor of ``kind`` holds."""
        position = self.decode(kind, cursor)
        if len(position) != 1 or type(position[0]) is not int or not 0 < position[0] < 2**63:
            raise BadCursor()
        return position[0]

    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self._key, raw, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
