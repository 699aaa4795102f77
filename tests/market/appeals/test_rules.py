"""The pure rules of an appeal: the window to the second, what a decision refunds, what counts
as the same decision, how text is cleaned."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from market.appeals import rules

ENDED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = rules.Policy(window_s=7 * 24 * 3600, max_open=3)


def refusal(now: datetime, **kw: object) -> str | None:
    figures: dict[str, object] = {
        "status": "ended",
        "ended_at": ENDED,
        "charged_fen": 400,
        "refunded_fen": 0,
    } | kw
    return rules.why_not_appealable(now=now, policy=POLICY, **figures)  # type: ignore[arg-type]


def test_the_window_closes_seven_days_after_the_end_to_the_second() -> None:
    assert refusal(ENDED) is None
    assert refusal(ENDED + timedelta(days=7)) is None
    assert refusal(ENDED + timedelta(days=7, seconds=1)) == "appeal_window_closed"
    assert refusal(ENDED + timedelta(days=8)) == "appeal_window_closed"


def test_only_an_ended_session_with_money_left_to_refund() -> None:
    assert refusal(ENDED, status="active", ended_at=None) == "session_not_ended"
    assert refusal(ENDED, charged_fen=0) == "nothing_to_appeal"
    assert refusal(ENDED, refunded_fen=400) == "nothing_to_appeal"
    assert refusal(ENDED, refunded_fen=399) is None


@given(refundable=st.integers(0, 10_000_000), amount=st.integers(-10, 10_000_010))
def test_a_partial_refund_is_strictly_between_nothing_and_everything(
    refundable: int, amount: int
) -> None:
    got = rules.refund_for("partial", amount, refundable)
    if 1 <= amount < refundable:
        assert got == rules.Refund(amount)
    else:
        assert got.error == "invalid_refund_amount" and got.amount_fen == 0


@given(refundable=st.integers(0, 10_000_000))
def test_full_refunds_everything_and_reject_nothing(refundable: int) -> None:
    full = rules.refund_for("full", None, refundable)
    if refundable > 0:
        assert full == rules.Refund(refundable)
    else:
        assert full.error == "nothing_to_refund"
    assert rules.refund_for("reject", None, refundable) == rules.Refund(0)
    assert rules.refund_for("full", 5, refundable).error == "amount_not_expected"
    assert rules.refund_for("reject", 5, refundable).error == "amount_not_expected"
    assert rules.refund_for("partial", None, refundable).error == "amount_required"
    assert rules.refund_for("refund", None, refundable).error == "invalid_outcome"


def test_the_same_decision_sent_again() -> None:
    assert rules.same_decision("full", 400, "full", None)
    assert rules.same_decision("reject", 0, "reject", None)
    assert rules.same_decision("partial", 150, "partial", 150)
    assert not rules.same_decision("partial", 150, "partial", 151)
    assert not rules.same_decision("full", 400, "reject", None)
    assert not rules.same_decision(None, 0, "reject", None)


@given(st.text(max_size=1200))
def test_clean_text_keeps_no_control_characters_and_respects_the_bounds(raw: str) -> None:
    got = rules.clean_text(raw, 10, 1000)
    if got is None:
        return
    assert 10 <= len(got) <= 1000 and got == got.strip()
    assert all(c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs") for c in got)
    assert "\r" not in got


def test_clean_text_keeps_what_a_customer_quotes() -> None:
    assert rules.clean_text(" 加我微信 wx_abc123\r\n电话13800000000 ", 1, 100) == (
        "加我微信 wx_abc123\n电话13800000000"
    )
    assert rules.clean_text("a\x00b\x07c", 1, 100) == "abc"
    assert rules.clean_text(" \n\t ", 1, 100) is None
