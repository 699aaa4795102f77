"""Timeouts and bounds of the headless caller (every network await has one).

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import re

HTTP_TIMEOUT_S = 10.0
ACK_TIMEOUT_S = 10.0
CONFIG_TIMEOUT_S = 3.0  # media:config is optional: a server without it must not hold us up
MEDIA_SETUP_TIMEOUT_S = 20.0  # gathering candidates (STUN/TURN servers may be slow)
MEDIA_CONNECT_TIMEOUT_S = 15.0
RING_MARGIN_S = 5.0  # beyond the call's ring deadline: the server's sweep ends it
CLOSE_TIMEOUT_S = 5.0
STATUS_INTERVAL_S = 1.0
#: how often the media leg looks at this machine's addresses and its ICE state (issue 17)
NETWORK_WATCH_S = 0.25
#: ICE restarts one call may make (each also reconnects Socket.IO)
MAX_ICE_RESTARTS = 8
MAX_ICE_SERVERS = 8
MAX_INCOMING = 64
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # signaling/protocol.py's UserIdField
#: What the relay forwards as it is (docs/protocol.md), so all that we offer.
FORWARDABLE = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}
