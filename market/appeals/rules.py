"""The rules of an appeal, without I/O: who may appeal what and until when, how a decision turns
into a refund, and what counts as the same decision sent again.

An appeal is about one session: the customer may appeal it once it has ended, when it charged
money not yet refunded, within the window after it ended.  An admin's decision is ``full``
(everything still refundable), ``partial`` (an amount below that) or ``reject``; a decision is
final, and sending the same one again is not a second decision.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

REASONS = ("not_as_described", "companion_absent", "rude", "technical", "overcharged", "other")
OUTCOMES = ("full", "partial", "reject")
TEXT_MIN_CHARS = 10
TEXT_MAX_CHARS = 1000
RESPONSE_MAX_CHARS = 1000
DECISION_REASON_MAX_CHARS = 500
#: messages of the session's chat an admin sees with an appeal (the last ones)
TRANSCRIPT_MAX_MESSAGES = 200


@dataclass(frozen=True, slots=True)
class Policy:
    window_s: int = 7 * 24 * 3600
    #: appeals one customer may have waiting for a decision
    max_open: int = 3


def clean_text(raw: str, min_chars: int, max_chars: int) -> str | None:
    """``raw`` as stored: NFC, line breaks as ``\\n``, control characters (but newline and tab)
    and lone surrogates dropped, trimmed; ``None`` when what is left is not ``min_chars`` to
    ``max_chars`` characters.  Contact details are kept: a customer may need to quote them."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    ).strip()
    return text if min_chars <= len(text) <= max_chars else None


def why_not_appealable(
    *,
    status: str,
    ended_at: datetime | None,
    charged_fen: int,
    refunded_fen: int,
    now: datetime,
    policy: Policy,
) -> str | None:
    """The refusal's code, or ``None`` when the customer may appeal the session now."""
    if status != "ended" or ended_at is None:
        return "session_not_ended"
    if charged_fen - refunded_fen <= 0:
        return "nothing_to_appeal"
    if now > ended_at + timedelta(seconds=policy.window_s):
        return "appeal_window_closed"
    return None


@dataclass(frozen=True, slots=True)
class Refund:
    """What a decision refunds, or why it cannot (``error`` is a code)."""

    amount_fen: int = 0
    error: str | None = None


def refund_for(outcome: str, amount_fen: int | None, refundable_fen: int) -> Refund:
    """The refund of a decision on a session with ``refundable_fen`` left to refund.

    ``full`` refunds all of it (there must be some); ``partial`` an ``amount_fen`` of 1 to
    ``refundable_fen - 1`` (all of it is ``full``); ``reject`` nothing.  Only ``partial`` takes
    an amount."""
    if outcome not in OUTCOMES:
        return Refund(error="invalid_outcome")
    if outcome != "partial":
        if amount_fen is not None:
            return Refund(error="amount_not_expected")
        if outcome == "reject":
            return Refund(0)
        return Refund(refundable_fen) if refundable_fen > 0 else Refund(error="nothing_to_refund")
    if amount_fen is None:
        return Refund(error="amount_required")
    if not (1 <= amount_fen <= refundable_fen - 1):
        return Refund(error="invalid_refund_amount")
    return Refund(amount_fen)


def same_decision(
    stored_outcome: str | None, stored_refund_fen: int, outcome: str, amount_fen: int | None
) -> bool:
    """Whether a decision sent now is the one already taken (a resend, not a second one)."""
    if stored_outcome != outcome:
        return False
    return outcome != "partial" or amount_fen == stored_refund_fen
