"""The fair-service rule (``signaling.fairness``): pure, no I/O."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from media.talk import TalkLog
from signaling.fairness import (
    VOICED_FULL,
    FairRule,
    VoiceTrace,
    assess_text,
    assess_voice,
    minute_spans,
    percentile,
    refund_for,
    waits,
)

RULE = FairRule()
T0 = 1_000_000
MONEY = {"rate_fen_per_min": 300, "cash_minutes": 100, "refundable_fen": 30_000}


def trace(voiced_seconds: set[int], seconds: int) -> VoiceTrace:
    return VoiceTrace(T0, bytes(VOICED_FULL if i in voiced_seconds else 0 for i in range(seconds)))


def test_minute_spans_follow_connected_time_across_a_pause() -> None:
    # Connected 0–90 s, a pause of 30 s, then 90 s more: 3 billed minutes.
    intervals = [(T0, T0 + 90_000), (T0 + 120_000, T0 + 210_000)]
    spans = minute_spans(intervals, 3)
    assert spans[0] == [(T0, T0 + 60_000)]
    assert spans[1] == [(T0 + 60_000, T0 + 90_000), (T0 + 120_000, T0 + 150_000)]
    assert spans[2] == [(T0 + 150_000, T0 + 210_000)]


@given(
    st.lists(st.tuples(st.integers(1, 200_000), st.integers(0, 100_000)), min_size=1, max_size=8)
)
def test_minute_spans_cover_each_billed_minute_exactly(pieces: list[tuple[int, int]]) -> None:
    intervals, t = [], T0
    for length, gap in pieces:
        intervals.append((t, t + length))
        t += length + gap
    connected = sum(b - a for a, b in intervals)
    billed = -(-connected // 60_000)
    spans = minute_spans(intervals, billed)
    lengths = [sum(b - a for a, b in m) for m in spans]
    assert all(n == 60_000 for n in lengths[:-1])
    assert 0 < lengths[-1] <= 60_000 and sum(lengths) == connected


def test_a_silent_companion_and_a_quiet_customer_flag_every_minute() -> None:
    spans = minute_spans([(T0, T0 + 180_000)], 3)
    a = assess_voice(RULE, "voice", spans, trace({5}, 180), trace(set(), 180), **MONEY)
    assert a.flagged == (1, 2, 3)
    assert a.refund_fen == 3 * 300 * 50 // 100
    assert a.companion_voiced_ms == 1000 and a.talk_share_percent == 100


def test_a_companion_listening_to_a_customer_who_talks_is_not_silent() -> None:
    spans = minute_spans([(T0, T0 + 180_000)], 3)
    customer = trace(set(range(0, 180, 2)), 180)  # half of every minute: 30 s
    a = assess_voice(RULE, "voice", spans, trace(set(), 180), customer, **MONEY)
    assert a.flagged == () and a.refund_fen == 0
    assert a.talk_share_percent == 0


def test_a_companion_who_talks_five_seconds_a_minute_is_not_silent() -> None:
    spans = minute_spans([(T0, T0 + 180_000)], 3)
    companion = trace({s for m in range(3) for s in range(m * 60, m * 60 + 5)}, 180)
    a = assess_voice(RULE, "voice", spans, companion, trace(set(), 180), **MONEY)
    assert a.flagged == ()
    companion = trace({s for m in range(3) for s in range(m * 60, m * 60 + 4)}, 180)
    a = assess_voice(RULE, "voice", spans, companion, trace(set(), 180), **MONEY)
    assert a.flagged == (1, 2, 3)


def test_one_quiet_minute_of_ten_is_not_refunded() -> None:
    spans = minute_spans([(T0, T0 + 600_000)], 10)
    talking = trace(set(range(600)) - set(range(120, 180)), 600)
    a = assess_voice(RULE, "voice", spans, talking, trace(set(), 600), **MONEY)
    assert a.flagged == (3,) and a.refund_fen == 0


def test_the_refund_threshold_minutes_or_share() -> None:
    assert refund_for(RULE, 2, 10, 300, cash_minutes=10, refundable_fen=3000) == 0
    assert refund_for(RULE, 3, 10, 300, cash_minutes=10, refundable_fen=3000) == 450
    assert refund_for(RULE, 1, 2, 300, cash_minutes=2, refundable_fen=600) == 150  # half
    assert refund_for(RULE, 1, 1, 300, cash_minutes=1, refundable_fen=300) == 150
    # Package minutes were not paid in money; never more than is left to refund.
    assert refund_for(RULE, 5, 5, 300, cash_minutes=2, refundable_fen=1500) == 300
    assert refund_for(RULE, 5, 5, 300, cash_minutes=5, refundable_fen=100) == 100
    off = FairRule(enabled=False)
    assert refund_for(off, 5, 5, 300, cash_minutes=5, refundable_fen=1500) == 0


def test_a_partial_last_minute_is_judged_in_proportion() -> None:
    # 70 s connected: minute 2 covers 10 s; 1 s voiced there is above 5 s × 10/60 ≈ 0.83 s.
    spans = minute_spans([(T0, T0 + 70_000)], 2)
    companion = trace({65}, 70)
    a = assess_voice(RULE, "voice", spans, companion, trace(set(), 70), **MONEY)
    assert a.flagged == (1,)


def test_replies_and_waits_from_the_message_times() -> None:
    msgs = [(0, False), (5_000, False), (20_000, True), (21_000, True), (30_000, False)]
    latencies, waiting = waits(msgs, 100_000)
    assert latencies == [20_000]
    assert waiting == [(0, 20_000), (30_000, 100_000)]
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([1, 2, 3, 4, 5], 90) == 5
    assert percentile([], 50) is None


def test_an_unanswered_customer_makes_text_minutes_unresponsive() -> None:
    spans = minute_spans([(T0, T0 + 240_000)], 4)
    msgs = [(T0 + 1_000, False)]  # never answered
    a = assess_text(RULE, spans, msgs, T0 + 240_000, **MONEY)
    assert a.flagged == (1, 2, 3, 4) and a.refund_fen == 600
    assert a.reply_count == 0 and a.reply_median_ms is None


def test_a_companion_answering_within_the_wait_is_never_unresponsive() -> None:
    spans = minute_spans([(T0, T0 + 240_000)], 4)
    msgs = []
    for i in range(8):  # a customer message every 30 s, answered 15 s later
        msgs += [(T0 + i * 30_000, False), (T0 + i * 30_000 + 15_000, True)]
    a = assess_text(RULE, spans, msgs, T0 + 240_000, **MONEY)
    assert a.flagged == () and a.refund_fen == 0
    assert a.reply_count == 8 and a.reply_median_ms == 15_000 and a.reply_p90_ms == 15_000


def test_the_talk_counter_keeps_the_voiced_share_per_second() -> None:
    now = [100.0]
    log = TalkLog(lambda: now[0], origin_ms=T0, voiced_dbov=50)
    talk = log.of("u1")
    for i in range(50):  # second 0: 50 packets, 25 voiced by level, 5 by the VAD bit
        now[0] = 100.0 + i * 0.02
        talk.packet((False, 30) if i < 25 else (i < 30, 127))
    now[0] = 102.5  # second 2: one silent packet; second 1 had none
    talk.packet((False, 127))
    talk.packet(None)
    origin, shares = log.traces()["u1"]
    assert origin == T0
    assert list(shares) == [VOICED_FULL * 30 // 50, 0, 0]
    assert log.of("u1") is talk  # a reconnection counts on
