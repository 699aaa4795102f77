"""Typed ids of voice rooms and of their members' metered sessions (pure).

A room is ``vr_`` + 32 hex digits; a member's session ``vrs_`` + 32 hex digits.  The prefixes
are how the shared sinks tell a room's session from a 1:1 call's (``call_…``).
"""

from __future__ import annotations

import re
import secrets
from typing import NewType

RoomId = NewType("RoomId", str)
MemberSessionId = NewType("MemberSessionId", str)

ROOM_PREFIX = "vr_"
SESSION_PREFIX = "vrs_"
ROOM_ID_PATTERN = r"^vr_[0-9a-f]{32}$"
_ROOM = re.compile(ROOM_ID_PATTERN)
_SESSION = re.compile(r"^vrs_[0-9a-f]{32}$")


def new_room_id() -> RoomId:
    return RoomId(ROOM_PREFIX + secrets.token_hex(16))


def new_session_id() -> MemberSessionId:
    return MemberSessionId(SESSION_PREFIX + secrets.token_hex(16))


def is_room_id(value: str) -> bool:
    return bool(_ROOM.match(value))


def is_member_session(value: str) -> bool:
    """Whether a metered session id is a voice-room member's (not a 1:1 call's)."""
    return bool(_SESSION.match(value))
