"""The rules of a customer-service ticket, without I/O: its categories and limits, and how its
status moves.

A ticket is ``open`` while the user waits for staff, ``answered`` once staff replied and until
the user writes again, ``closed`` when either side closes it (for good: the user opens a new
one).  ``waiting_since`` is when the user's unanswered message came in: the staff queue serves
the longest wait first.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

CATEGORIES = ("account", "payment", "session", "booking", "safety", "other")
STATUSES = ("open", "answered", "closed")
SUBJECT_MAX_CHARS = 80
BODY_MAX_CHARS = 2000
#: how users see every staff member: no admin's identity reaches a user
STAFF_NAME = "客服"


@dataclass(frozen=True, slots=True)
class Policy:
    #: tickets one user may have not closed
    max_open: int = 5
    #: tickets one user may open per rolling 24 h: closing them does not make room
    max_per_day: int = 20
    #: messages one ticket holds, both sides together
    max_messages: int = 100


@dataclass(frozen=True, slots=True)
class State:
    status: str
    waiting_since: datetime | None


class TicketRuleError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_text(raw: str, min_chars: int, max_chars: int) -> str | None:
    """``raw`` as stored: NFC, line breaks as ``\\n``, control characters (but newline and tab)
    and lone surrogates dropped, trimmed; ``None`` when what is left is not ``min_chars`` to
    ``max_chars`` characters.  Contact details are kept: users may need to quote them."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    ).strip()
    return text if min_chars <= len(text) <= max_chars else None


def after_user_message(state: State, message_count: int, now: datetime, policy: Policy) -> State:
    """The user wrote: the ticket waits for staff (since now, unless it was waiting already)."""
    _check_room(state, message_count, policy)
    if state.status == "open" and state.waiting_since is not None:
        return state
    return State("open", now)


def after_staff_reply(state: State, message_count: int, policy: Policy) -> State:
    """Staff replied: the ticket waits for the user."""
    _check_room(state, message_count, policy)
    return State("answered", None)


def after_close(state: State) -> State:
    return State("closed", None)


def _check_room(state: State, message_count: int, policy: Policy) -> None:
    if state.status == "closed":
        raise TicketRuleError("ticket_closed")
    if message_count >= policy.max_messages:
        raise TicketRuleError("ticket_full")
