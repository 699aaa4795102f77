"""What signaling tells the other domains (``kernel.events``): they subscribe in their setup."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A 1:1 call ended (its billing ended too): its media room closes, its booking ends, the
    companion's figures count it."""

    call_id: str


@dataclass(frozen=True, slots=True)
class UserCameOnline:
    """A user's presence became ``online`` (their fans are told)."""

    user_id: str
