"""Typed ids of the signaling domain (pure).  A payload's ids take these types where they enter
(``signaling.protocol``: the pattern is checked there), and the handlers carry them on.

A call is ``call_`` + 32 hex digits.  A group voice room (``vr_`` + 32 hex digits) belongs to
``market.voicerooms``; signaling sees it only as an id it passes on (``signaling.group_rooms``).
"""

from typing import NewType

CallId = NewType("CallId", str)
RoomId = NewType("RoomId", str)
#: what ``media:*`` events negotiate for: a 1:1 call's id, or a group voice room's
MediaTarget = NewType("MediaTarget", str)
#: the client's idempotency key of a request (a resend names the same key)
ClientKey = NewType("ClientKey", str)
#: one connected socket (python-socketio's ``sid``); a user's device
SocketId = NewType("SocketId", str)

CALL_ID_PATTERN = r"^call_[0-9a-f]{32}$"
ROOM_ID_PATTERN = r"^vr_[0-9a-f]{32}$"
MEDIA_TARGET_PATTERN = r"^(call|vr)_[0-9a-f]{32}$"
