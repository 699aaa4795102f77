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


@dataclass(frozen=True, slots=True)
class UserLockedOut:
    """A suspension or ban of the user was heard (from whichever process imposed it): their
    sessions end now, billed to this moment (each reaction idempotent: every process hears it)."""

    user_id: str
