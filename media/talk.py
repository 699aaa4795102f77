"""Who spoke when, from the audio levels the relay already reads (RFC 6464), never decoding.

Each audio packet a participant sends carries its level (0..127 dB below overload) and a voice
activity bit (``media.rtp.Levels``).  Per participant, per second of the room's life, we count
the packets heard and those voiced (VAD set, or the level within ``voiced_dbov`` of overload);
the share voiced per second is what ``signaling.fairness`` judges minutes by.  The packet path
costs a clock read and two byte increments: the arrays grow once per second, not per packet.

Time is the injected clock's monotonic seconds, anchored to its wall-clock time when the room was
made, so seconds line up with the billing clock's marks (a fake or scaled clock included).
"""

from __future__ import annotations

from collections.abc import Callable

#: a room's life is counted up to this many seconds (12 h); later packets are not counted
MAX_SECONDS = 12 * 3600
#: a second's voiced share as one byte (signaling.fairness.VOICED_FULL)
VOICED_FULL = 250
_BYTE_MAX = 255


class Talk:
    """One participant's packet counts per second."""

    __slots__ = ("_mono0", "_monotonic", "_voiced_dbov", "heard", "voiced")

    def __init__(self, monotonic: Callable[[], float], mono0: float, voiced_dbov: int) -> None:
        self._monotonic = monotonic
        self._mono0 = mono0
        self._voiced_dbov = voiced_dbov
        self.heard = bytearray()
        self.voiced = bytearray()

    def packet(self, level: tuple[bool, int] | None) -> None:
        """One audio packet arrived (``level``: its RFC 6464 (vad, -dBov), or None)."""
        i = int(self._monotonic() - self._mono0)
        if i < 0 or i >= MAX_SECONDS:
            return
        heard = self.heard
        if i >= len(heard):
            grow = i + 1 - len(heard)
            heard.extend(bytes(grow))
            self.voiced.extend(bytes(grow))
        if heard[i] < _BYTE_MAX:
            heard[i] += 1
            if level is not None and (level[0] or level[1] <= self._voiced_dbov):
                self.voiced[i] += 1

    def shares(self) -> bytes:
        """The voiced share of each second, 0..VOICED_FULL (a second with no packets: 0)."""
        return bytes(
            (v * VOICED_FULL) // h if h else 0 for v, h in zip(self.voiced, self.heard, strict=True)
        )


class TalkLog:
    """A room's ``Talk`` per participant, kept across reconnections (a new peer connection of
    the same user goes on counting in the same arrays)."""

    def __init__(
        self, monotonic: Callable[[], float], origin_ms: int, voiced_dbov: int = 50
    ) -> None:
        self._monotonic = monotonic
        self._mono0 = monotonic()
        self.origin_ms = origin_ms
        self._voiced_dbov = voiced_dbov
        self._talks: dict[str, Talk] = {}

    def of(self, user_id: str) -> Talk:
        talk = self._talks.get(user_id)
        if talk is None:
            talk = self._talks[user_id] = Talk(self._monotonic, self._mono0, self._voiced_dbov)
        return talk

    def traces(self) -> dict[str, tuple[int, bytes]]:
        """Per user: (origin ms, voiced share per second)."""
        return {user: (self.origin_ms, talk.shares()) for user, talk in self._talks.items()}
