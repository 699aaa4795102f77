"""The rules of a voice room (pure: no I/O, no clock).

- Title: 1..30 characters after NFC normalization and trimming, no control or invisible
  characters, and nothing the chat detector (``moderation.detect``) finds: a title is public,
  so every category is refused outright (nothing is masked or queued), as for a companion's
  introduction.
- Rate: within the host's voice bounds for their level and specialty
  (``metering.tariff.bounds_for``); fixed for the room's life.
- Capacity: 2..9 people, the host included (the media relay forwards to at most 8 others).
- Billing: a member's session is *connected* — billed — while the member's media and the
  host's both arrive and neither has every device gone; otherwise it pauses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from metering.tariff import Bounds
from moderation.detect import REASONS, Action, Category, Detector, Policy

TITLE_MIN_CHARS = 1
TITLE_MAX_CHARS = 30
MIN_CAPACITY = 2
#: the host and eight others: the relay's ``media.room.MAX_SLOTS`` + 1
MAX_CAPACITY = 9
#: joins over a room's life (each opens a metered session): a bound, not a product rule
MAX_JOINS_PER_ROOM = 1_000
#: rooms one host may open in a rolling day, and joins one customer may make in a rolling
#: hour (each join reserves a minute and opens a session): bounds against churn, not rules
MAX_ROOMS_PER_HOST_PER_DAY = 48
MAX_JOINS_PER_USER_PER_HOUR = 60

# Every category refused; the hashes it computes are never kept, so any key will do.  The rules
# only: the n-gram model's word is a review by an admin, not a refusal (see vetting's intros).
_TITLE_DETECTOR = Detector(
    b"voiceroom-title", Policy({c: Action.BLOCK for c in Category}), model=None
)


class RoomRuleError(ValueError):
    """A room field breaks a rule; ``code`` is stable, ``details`` machine-readable."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class LeaveReason(StrEnum):
    """Why a member is no longer in a room (``room:left``)."""

    LEFT = "left"  # they left
    CLOSED = "closed"  # the room closed
    FUNDS = "funds"  # their money ran out and no top-up came within the grace
    AWAY = "away"  # every device of theirs was gone past the away time-out
    BLOCKED = "blocked"  # the host or they blocked the other
    MEDIA_LOST = "media_lost"  # their media stopped (or never came) past the lost time-out
    SERVER_LOST = "server_lost"  # the process running their session died; another settled it
    SANCTIONED = "sanctioned"  # they were suspended or banned


class CloseReason(StrEnum):
    """Why a room closed."""

    HOST = "host"  # the host closed it or left
    ADMIN = "admin"
    AWAY = "away"  # every device of the host was gone past the away time-out
    MEDIA_LOST = "media_lost"  # the host's media stopped (or never came) past the time-out
    SERVER_LOST = "server_lost"  # the process holding it died
    DRAIN = "drain"  # the process holding it shut down
    SANCTIONED = "sanctioned"  # the host was suspended or banned


def clean_title(raw: str) -> str:
    """The NFC-normalized, trimmed title, or :class:`RoomRuleError` (``title_length``,
    ``title_characters``, ``title_contact_details`` with ``details.categories``)."""
    title = unicodedata.normalize("NFC", raw).strip()
    if not (TITLE_MIN_CHARS <= len(title) <= TITLE_MAX_CHARS):
        raise RoomRuleError(
            "title_length",
            f"the title must be {TITLE_MIN_CHARS}-{TITLE_MAX_CHARS} characters",
            min_chars=TITLE_MIN_CHARS,
            max_chars=TITLE_MAX_CHARS,
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in title):
        raise RoomRuleError("title_characters", "the title has invisible or control characters")
    decision = _TITLE_DETECTOR.check(title, sender_role="companion")
    if decision.categories:
        raise RoomRuleError(
            "title_contact_details",
            "the title may not contain " + ", ".join(REASONS[c] for c in decision.categories),
            categories=[c.value for c in decision.categories],
        )
    return title


def check_rate(rate_fen_per_min: int, bounds: Bounds) -> int:
    if not (bounds.min_fen <= rate_fen_per_min <= bounds.max_fen):
        raise RoomRuleError(
            "rate_out_of_bounds",
            f"the rate must be {bounds.min_fen}..{bounds.max_fen} fen/min at your level",
            min_fen=bounds.min_fen,
            max_fen=bounds.max_fen,
        )
    return rate_fen_per_min


def check_capacity(capacity: int) -> int:
    if not (MIN_CAPACITY <= capacity <= MAX_CAPACITY):
        raise RoomRuleError(
            "capacity_out_of_bounds",
            f"a room holds {MIN_CAPACITY}..{MAX_CAPACITY} people, the host included",
            min=MIN_CAPACITY,
            max=MAX_CAPACITY,
        )
    return capacity


def has_room_for_one_more(members: int, capacity: int) -> bool:
    """Whether a customer may join a room with ``members`` members (the host not counted)."""
    return members + 1 < capacity


def left_reason_for(metering_end_reason: str) -> LeaveReason:
    """Why a member leaves when metering ended their session first."""
    if metering_end_reason == "insufficient_funds":
        return LeaveReason.FUNDS
    if metering_end_reason == "server_lost":
        return LeaveReason.SERVER_LOST
    return LeaveReason.CLOSED


@dataclass(frozen=True, slots=True)
class Presence:
    """What the room's owner knows of one person: media arriving, every device gone."""

    media_alive: bool = False
    away: bool = False

    @property
    def here(self) -> bool:
        return self.media_alive and not self.away


def connected(member: Presence, host: Presence) -> bool:
    """A member's session bills while both the member and the host are here."""
    return member.here and host.here


@dataclass
class MediaWait:
    """Loop-time bookkeeping of people expected in a media room who have not offered (yet):
    one not there ``lost_s`` after first expected is lost."""

    lost_s: float
    since: dict[str, float] = field(default_factory=dict)

    def overdue(self, expected: set[str], present: set[str], now: float) -> set[str]:
        for gone in set(self.since) - expected:
            del self.since[gone]
        late = set()
        for who in expected:
            if who in present:
                self.since.pop(who, None)
            elif now - self.since.setdefault(who, now) >= self.lost_s:
                late.add(who)
        return late
