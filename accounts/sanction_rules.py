"""The sanction ladder: what a confirmed violation costs a user, as pure rules.

Four kinds, lightest first: a **warning** (no restriction: the user is told what and why), a
**chat mute** for some hours (no chat messages), a **suspension** for some days (no login, so
no calls, rooms or going online; open sessions end) and a permanent **ban** (the same, for
good).  A suspension or ban may also **freeze** the user's pending earnings until it ends or is
lifted (an off-platform deal's money is not paid out while the case is looked at).

Repeat offences escalate: each kind carries points; the points of the user's sanctions in the
last ``window_days`` (lifted ones do not count) plus the new one's decide the kind actually
imposed, which is never lighter than the one asked for.  Points and thresholds are settings
(``PEILIAO_SANCTION_POINTS``, ``PEILIAO_SANCTION_ESCALATE_AT``, ``PEILIAO_SANCTION_WINDOW_DAYS``).

A sanctioned user may appeal each sanction once.  A user refused at login (suspended or banned)
appeals with a token that login refusal hands them: an HMAC of the sanction's id, valid for a
week, good for that one appeal only.  Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Kind(StrEnum):
    WARN = "warn"
    MUTE = "mute"
    SUSPEND = "suspend"
    BAN = "ban"


#: lightest first
LADDER: tuple[Kind, ...] = (Kind.WARN, Kind.MUTE, Kind.SUSPEND, Kind.BAN)
#: the default duration of a kind imposed without one (a warning and a ban have none)
DEFAULT_HOURS: Mapping[Kind, int] = {Kind.MUTE: 24, Kind.SUSPEND: 72}
MAX_HOURS: Mapping[Kind, int] = {Kind.MUTE: 30 * 24, Kind.SUSPEND: 365 * 24}
#: kinds that end the user's logins and sessions and refuse new logins
LOCKING: frozenset[Kind] = frozenset({Kind.SUSPEND, Kind.BAN})
APPEAL_TOKEN_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Ladder:
    points: Mapping[Kind, int]
    #: the kind imposed once the points reach this many (kinds without a threshold: never)
    escalate_at: Mapping[Kind, int]
    window_days: int

    @classmethod
    def parse(cls, points: str, escalate_at: str, window_days: int) -> Ladder:
        """From the settings' ``"warn=1,mute=2,suspend=4,ban=10"`` and ``"mute=3,..."``;
        ValueError names what is wrong."""
        parsed_points = _parse_table(points, "sanction points")
        missing = [k.value for k in LADDER if k not in parsed_points]
        if missing:
            raise ValueError(f"sanction points: missing {', '.join(missing)}")
        thresholds = _parse_table(escalate_at, "sanction escalation")
        if Kind.WARN in thresholds:
            raise ValueError("sanction escalation: a warning is the lightest; it has no threshold")
        ordered = [thresholds[k] for k in LADDER if k in thresholds]
        if ordered != sorted(ordered) or len(set(ordered)) != len(ordered):
            raise ValueError("sanction escalation: thresholds must rise with the kind")
        if window_days < 1:
            raise ValueError("the sanction window is at least one day")
        return cls(parsed_points, thresholds, window_days)


def _parse_table(text: str, what: str) -> dict[Kind, int]:
    table: dict[Kind, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            kind = Kind(name.strip())
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"{what}: {part!r} is not kind=number") from None
        if not sep or number < 0 or kind in table:
            raise ValueError(f"{what}: {part!r} is not kind=number (once, not negative)")
        table[kind] = number
    return table


DEFAULT_LADDER = Ladder.parse("warn=1,mute=2,suspend=4,ban=10", "mute=3,suspend=6,ban=12", 365)


@dataclass(frozen=True, slots=True)
class Past:
    """A sanction of the user's history, as the escalation rule sees it."""

    kind: Kind
    points: int
    starts_at: datetime
    lifted: bool


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    requested: Kind
    points: int
    #: the user's points in the window, this one included
    total_points: int
    ends_at: datetime | None

    @property
    def escalated(self) -> bool:
        return self.kind is not self.requested


def heavier(a: Kind, b: Kind) -> Kind:
    return a if LADDER.index(a) >= LADDER.index(b) else b


def decide(
    requested: Kind,
    hours: int | None,
    history: Iterable[Past],
    now: datetime,
    ladder: Ladder = DEFAULT_LADDER,
) -> Decision:
    """The sanction to impose when ``requested`` is asked for (``hours`` for a mute or a
    suspension; None: the default), given the user's ``history``.  ValueError for a duration
    that the kind does not take or that is out of range."""
    if requested in (Kind.WARN, Kind.BAN) and hours is not None:
        raise ValueError(f"a {requested.value} has no duration")
    if hours is not None and not (1 <= hours <= MAX_HOURS[requested]):
        raise ValueError(f"a {requested.value} lasts 1..{MAX_HOURS[requested]} hours")
    since = now - timedelta(days=ladder.window_days)
    prior = sum(p.points for p in history if not p.lifted and p.starts_at > since)
    # The offence weighs what was asked for; the total decides the kind actually imposed.
    points = ladder.points[requested]
    total = prior + points
    kind = requested
    for candidate in LADDER:
        threshold = ladder.escalate_at.get(candidate)
        if threshold is not None and total >= threshold:
            kind = heavier(kind, candidate)
    if kind in (Kind.WARN, Kind.BAN):
        ends_at = None
    else:
        # an escalated kind lasts its default duration, or the one asked for if longer
        chosen = DEFAULT_HOURS[kind] if hours is None else hours
        if kind is not requested:
            chosen = max(DEFAULT_HOURS[kind], hours or 0)
        ends_at = now + timedelta(hours=min(chosen, MAX_HOURS[kind]))
    return Decision(kind, requested, points, total, ends_at)


@dataclass(frozen=True, slots=True)
class Standing:
    """What a user's sanctions in force allow them now."""

    can_login: bool = True
    can_chat: bool = True
    earnings_frozen: bool = False
    #: the heaviest sanction in force (None: none)
    heaviest: Kind | None = None
    #: when the last restriction ends (None: none, or a permanent ban)
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class InForce:
    kind: Kind
    starts_at: datetime
    ends_at: datetime | None
    lifted: bool
    freeze_earnings: bool


def in_force(s: InForce, now: datetime) -> bool:
    """A sanction restricts from its start until its end (a ban: for good) unless lifted; a
    warning restricts nothing and is never "in force"."""
    if s.lifted or s.kind is Kind.WARN or s.starts_at > now:
        return False
    return s.ends_at is None or now < s.ends_at


def standing(sanctions: Iterable[InForce], now: datetime) -> Standing:
    active = [s for s in sanctions if in_force(s, now)]
    if not active:
        return Standing()
    heaviest = Kind.WARN
    for s in active:
        heaviest = heavier(heaviest, s.kind)
    permanent = any(s.kind is Kind.BAN for s in active)
    ends = [s.ends_at for s in active if s.ends_at is not None]
    return Standing(
        can_login=not any(s.kind in LOCKING for s in active),
        can_chat=False,  # every kind in force restricts chat (a mute, or no login at all)
        earnings_frozen=any(s.freeze_earnings for s in active),
        heaviest=heaviest,
        until=None if permanent or not ends else max(ends),
    )


def can_appeal(appealed: bool, lifted: bool) -> bool:
    """Once per sanction, and not once it is lifted."""
    return not appealed and not lifted


# -- the appeal token of a user who cannot log in ------------------------------------------------


def appeal_token(key: bytes, sanction_id: str, now: datetime) -> str:
    expires = int((now + APPEAL_TOKEN_TTL).timestamp())
    body = f"{sanction_id}.{expires}"
    return f"{body}.{_mac(key, body)}"


def read_appeal_token(key: bytes, token: str, now: datetime) -> str | None:
    """The sanction id a token was made for, or None (forged, malformed or expired)."""
    if len(token) > 120 or not token.isascii():
        return None
    body, _, mac = token.rpartition(".")
    sanction_id, _, expires = body.partition(".")
    if not (sanction_id and expires.isdigit() and mac):
        return None
    if not hmac.compare_digest(mac, _mac(key, body)):
        return None
    if int(expires) < now.timestamp():
        return None
    return sanction_id


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, b"appeal:" + body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
