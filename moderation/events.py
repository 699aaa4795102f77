"""What moderation tells the other domains (``kernel.events``): they subscribe in their setup."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserBlocked:
    """``blocker_id`` blocked ``blocked_id``: what is open between them ends (a call, a booking,
    a voice-room seat), each by the domain that holds it."""

    blocker_id: str
    blocked_id: str
