"""Which case a report joins and how urgent the case is, as pure rules.

A case is one target's conduct in one conversation (or, for a report about the user alone, in
none) in one category.  The detector's narrower categories fold into the one an admin decides
(a phone number, a WeChat id and an e-mail address are all "contact details"), and a user's
report reasons meet the detector's names (``upselling`` is ``upsell``), so four flagged messages
of one conversation, and the customer's report about them, are one case.

Severity orders the queue: 0 is the most urgent (minors, sexual content), then the report's
priority (high 1, normal 2, low 3).  A case is as urgent as its most urgent item.  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: a narrower name → the case's category
SYNONYMS: dict[str, str] = {
    "phone": "contact_request",
    "messenger_id": "contact_request",
    "email_url": "contact_request",
    "bank_card": "off_platform_payment",
    "upselling": "upsell",
}
#: categories that are always the most urgent, in this order when an item has several
CRITICAL: tuple[str, ...] = ("minor", "sexual")
#: the severities by name, most urgent first (the queue's counts use these names)
SEVERITIES: tuple[str, ...] = ("critical", "high", "normal", "low")
_PRIORITY_SEVERITY = {"high": 1, "normal": 2, "low": 3}
#: how long a decision may be taken back (``PEILIAO_CASE_UNDO_S`` overrides)
UNDO_WINDOW = timedelta(minutes=10)
DECISIONS = ("confirmed", "dismissed")


@dataclass(frozen=True, slots=True)
class Grouping:
    open_key: str
    category: str
    severity: int


def category_of(reason: str, details: str) -> str:
    """A user's report: its reason.  An automatic one (reason "auto", its categories listed in
    ``details``): the most urgent of them, else the first."""
    if reason != "auto":
        return SYNONYMS.get(reason, reason)
    found = [SYNONYMS.get(c.strip(), c.strip()) for c in details.split(",") if c.strip()]
    for urgent in CRITICAL:
        if urgent in found:
            return urgent
    return found[0] if found else "other"


def severity_of(category: str, priority: str) -> int:
    if category in CRITICAL:
        return 0
    return _PRIORITY_SEVERITY.get(priority, 2)


def group(target_id: str, call_key: str, reason: str, details: str, priority: str) -> Grouping:
    """The open case a report joins: (conversation or user alone, target, category)."""
    category = category_of(reason, details)
    return Grouping(
        f"{call_key or '-'}|{target_id}|{category}", category, severity_of(category, priority)
    )


def severity_name(severity: int) -> str:
    return SEVERITIES[min(max(severity, 0), len(SEVERITIES) - 1)]


def undo_until(decided_at: datetime | None, window: timedelta) -> datetime | None:
    return None if decided_at is None else decided_at + window


def may_undo(decided_at: datetime | None, now: datetime, window: timedelta) -> bool:
    return decided_at is not None and now <= decided_at + window


def around(flagged: Iterable[int], reach: int) -> set[int]:
    """The seqs of the messages shown with flagged ones: ``reach`` either side of each."""
    shown: set[int] = set()
    for seq in flagged:
        if seq >= 1:
            shown.update(range(max(1, seq - reach), seq + reach + 1))
    return shown
