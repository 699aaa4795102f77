"""Fair service: was the companion there for the minutes the customer paid for?  (pure)

After a 1:1 call ends, each billed minute is judged on what the server itself observed — never on
a client's figures:

- voice/video: how long each side was *voiced* in the minute, from the RFC 6464 audio levels the
  relay read off every packet (``media.talk``), kept per second of the session.  A minute is
  **silent** when the companion was voiced less than ``silent_voiced_s`` and the customer less
  than ``listening_voiced_s`` (a companion listening to a customer who talks is not silent).
- text: how long a customer's message waited for the companion's next message, from the times
  the server stored them.  A minute is **unresponsive** when such a wait covered more than
  ``text_wait_s`` of it.

A billed minute is a minute of *connected* time (``metering.billing_clock``: media flowing both
ways and the billing gate open), so it may span several stretches of wall-clock time; the last
one may be partial (charged whole): its thresholds shrink in proportion to the time it covers,
and one that covers less than ``min_judged_s`` (20 s) is not judged at all (a call hung up a
few seconds after a message, or after its last minute began, says nothing about silence).

The refund: when the flagged minutes are at least ``min_minutes``, or at least
``min_share_percent`` of the billed minutes, ``refund_percent`` of the price of each flagged
minute goes back — cash minutes only (a package or coupon minute was not paid for in money), and
never more than the session still has to refund.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

MS_PER_MINUTE = 60_000
MS_PER_SECOND = 1_000
#: a second's voiced share is kept as 0..VOICED_FULL (one byte)
VOICED_FULL = 250

Span = tuple[int, int]  # [start_ms, end_ms) of wall-clock (server) time


@dataclass(frozen=True, slots=True)
class FairRule:
    enabled: bool = True
    voiced_dbov: int = 50
    silent_voiced_s: float = 5.0
    listening_voiced_s: float = 30.0
    text_wait_s: float = 40.0
    refund_percent: int = 50
    min_minutes: int = 3
    min_share_percent: int = 50
    #: a minute that covers less connected time than this is not judged: too short to tell
    #: silence from a pause (a call hung up seconds after a message, or after a minute began)
    min_judged_s: float = 20.0

    def to_json(self) -> dict[str, float | int | bool]:
        return {
            "enabled": self.enabled,
            "voiced_dbov": self.voiced_dbov,
            "silent_voiced_s": self.silent_voiced_s,
            "listening_voiced_s": self.listening_voiced_s,
            "text_wait_s": self.text_wait_s,
            "refund_percent": self.refund_percent,
            "min_minutes": self.min_minutes,
            "min_share_percent": self.min_share_percent,
            "min_judged_s": self.min_judged_s,
        }


@dataclass(frozen=True, slots=True)
class VoiceTrace:
    """One participant's voiced share per second of the session, from ``origin_ms``: byte i is
    how much of second i was voiced, 0..VOICED_FULL."""

    origin_ms: int
    voiced: bytes

    def voiced_ms(self, span: Span) -> int:
        start, end = span
        total = 0  # in ms × VOICED_FULL
        first = max(0, (start - self.origin_ms) // MS_PER_SECOND)
        last = min(len(self.voiced) - 1, (end - 1 - self.origin_ms) // MS_PER_SECOND)
        for i in range(first, last + 1):
            share = self.voiced[i]
            if share:
                a = self.origin_ms + i * MS_PER_SECOND
                overlap = min(end, a + MS_PER_SECOND) - max(start, a)
                if overlap > 0:
                    total += share * overlap
        return total // VOICED_FULL

    def to_json(self) -> dict[str, int | str]:
        return {"origin_ms": self.origin_ms, "voiced": base64.b64encode(self.voiced).decode()}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> VoiceTrace:
        return cls(int(str(data["origin_ms"])), base64.b64decode(str(data["voiced"])))


@dataclass(frozen=True, slots=True)
class Assessment:
    """The judgement of one ended session (what both sides are shown, what is refunded)."""

    mode: str
    billed_minutes: int
    #: the minutes (1-based) judged silent (voice/video) or unresponsive (text)
    flagged: tuple[int, ...]
    #: voice/video: how long each side was voiced over the billed minutes
    companion_voiced_ms: int | None = None
    customer_voiced_ms: int | None = None
    #: text: the companion's replies to a waiting customer, and how long they took
    reply_count: int = 0
    reply_median_ms: int | None = None
    reply_p90_ms: int | None = None
    refund_fen: int = 0

    @property
    def talk_share_percent(self) -> int | None:
        """The companion's share of the voiced time of both (None: nobody spoke, or text)."""
        if self.companion_voiced_ms is None or self.customer_voiced_ms is None:
            return None
        both = self.companion_voiced_ms + self.customer_voiced_ms
        return None if both == 0 else round(100 * self.companion_voiced_ms / both)


def minute_spans(intervals: Sequence[Span], billed_minutes: int) -> list[list[Span]]:
    """The wall-clock stretches each billed minute covers: minute k is connected time
    [(k−1)·60 s, k·60 s) laid over the connected ``intervals`` (sorted, disjoint)."""
    spans: list[list[Span]] = [[] for _ in range(billed_minutes)]
    before = 0  # connected ms before the current interval
    for start, end in intervals:
        pos = start
        while pos < end:
            k = (before + pos - start) // MS_PER_MINUTE
            if k >= billed_minutes:
                return spans
            boundary = start + (k + 1) * MS_PER_MINUTE - before
            stop = min(end, boundary)
            spans[k].append((pos, stop))
            pos = stop
        before += end - start
    return spans


def _length(spans: Sequence[Span]) -> int:
    return sum(b - a for a, b in spans)


def _overlap(spans: Sequence[Span], others: Sequence[Span]) -> int:
    return sum(max(0, min(b, d) - max(a, c)) for a, b in spans for c, d in others)


def _below(value_ms: int, threshold_s: float, covered_ms: int) -> bool:
    """``value_ms`` < the threshold, scaled to a minute that covers ``covered_ms``."""
    return value_ms * MS_PER_MINUTE < threshold_s * MS_PER_SECOND * covered_ms


def refund_for(
    rule: FairRule,
    flagged: int,
    billed: int,
    rate_fen_per_min: int,
    *,
    cash_minutes: int,
    refundable_fen: int,
) -> int:
    """What goes back for ``flagged`` silent/unresponsive minutes of ``billed`` (fen)."""
    if not rule.enabled or flagged <= 0 or billed <= 0:
        return 0
    if flagged < rule.min_minutes and flagged * 100 < rule.min_share_percent * billed:
        return 0
    minutes = min(flagged, cash_minutes)
    return max(0, min(minutes * rate_fen_per_min * rule.refund_percent // 100, refundable_fen))


def assess_voice(
    rule: FairRule,
    mode: str,
    spans: Sequence[Sequence[Span]],
    companion: VoiceTrace | None,
    customer: VoiceTrace | None,
    *,
    rate_fen_per_min: int,
    cash_minutes: int,
    refundable_fen: int,
) -> Assessment:
    """Judge a voice/video session; a side the relay heard nothing from was silent."""
    flagged: list[int] = []
    companion_total = customer_total = 0
    for k, minute in enumerate(spans, start=1):
        covered = _length(minute)
        mine = sum(companion.voiced_ms(s) for s in minute) if companion else 0
        theirs = sum(customer.voiced_ms(s) for s in minute) if customer else 0
        companion_total += mine
        customer_total += theirs
        if (
            covered >= rule.min_judged_s * MS_PER_SECOND
            and _below(mine, rule.silent_voiced_s, covered)
            and _below(theirs, rule.listening_voiced_s, covered)
        ):
            flagged.append(k)
    billed = len(spans)
    return Assessment(
        mode=mode,
        billed_minutes=billed,
        flagged=tuple(flagged),
        companion_voiced_ms=companion_total,
        customer_voiced_ms=customer_total,
        refund_fen=refund_for(
            rule,
            len(flagged),
            billed,
            rate_fen_per_min,
            cash_minutes=cash_minutes,
            refundable_fen=refundable_fen,
        ),
    )


def waits(messages: Sequence[tuple[int, bool]], end_ms: int) -> tuple[list[int], list[Span]]:
    """From the messages (sent_ms, from the companion?) in order: how long each of the
    companion's replies took (from the first customer message it answered), and the stretches
    during which a customer's message waited for an answer (the last may run to ``end_ms``)."""
    latencies: list[int] = []
    waiting: list[Span] = []
    since: int | None = None
    for sent_ms, from_companion in messages:
        if from_companion:
            if since is not None:
                latencies.append(max(0, sent_ms - since))
                waiting.append((since, max(since, sent_ms)))
                since = None
        elif since is None:
            since = sent_ms
    if since is not None and end_ms > since:
        waiting.append((since, end_ms))
    return latencies, waiting


def percentile(values: Sequence[int], p: int) -> int | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))  # ceil(p·n/100)
    return ordered[rank - 1]


def assess_text(
    rule: FairRule,
    spans: Sequence[Sequence[Span]],
    messages: Sequence[tuple[int, bool]],
    end_ms: int,
    *,
    rate_fen_per_min: int,
    cash_minutes: int,
    refundable_fen: int,
) -> Assessment:
    """Judge a text session from its messages' server times."""
    latencies, waiting = waits(messages, end_ms)
    flagged = [
        k
        for k, minute in enumerate(spans, start=1)
        if (covered := _length(minute)) >= rule.min_judged_s * MS_PER_SECOND
        and _overlap(minute, waiting) * MS_PER_MINUTE > rule.text_wait_s * MS_PER_SECOND * covered
    ]
    billed = len(spans)
    return Assessment(
        mode="text",
        billed_minutes=billed,
        flagged=tuple(flagged),
        reply_count=len(latencies),
        reply_median_ms=percentile(latencies, 50),
        reply_p90_ms=percentile(latencies, 90),
        refund_fen=refund_for(
            rule,
            len(flagged),
            billed,
            rate_fen_per_min,
            cash_minutes=cash_minutes,
            refundable_fen=refundable_fen,
        ),
    )
