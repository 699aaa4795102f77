"""The pure account rules: phone numbers, the SMS policy (with properties), profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import sms_policy as p
from accounts.phone import mask_phone, normalize_phone
from accounts.profile import INTEREST_TAGS, ProfileRuleError, clean_nickname, clean_tags

T0 = datetime(2026, 5, 1, tzinfo=UTC)
LIMITS = p.SmsLimits()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800000001", "13800000001"),
        ("+8613800000001", "13800000001"),
        ("+86 138 0000 0001", "13800000001"),
        ("138-0000-0001", "13800000001"),
        ("008613900000001", "13900000001"),
        (" 19912345678 ", "19912345678"),
        ("12800000001", None),
        ("10000000000", None),
        ("1380000000", None),
        ("138000000011", None),
        ("１３８００００００01", None),
        ("+85213800000001", None),
        ("13800000001x", None),
        ("", None),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_mask_phone() -> None:
    assert mask_phone("13800000001") == "138****0001"


def test_codes_are_six_digits_and_vary() -> None:
    codes = {p.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_code_hash_is_keyed_and_bound_to_the_phone() -> None:
    h = p.hash_code("k1", "13800000001", "123456")
    assert h != p.hash_code("k2", "13800000001", "123456")
    assert h != p.hash_code("k1", "13800000002", "123456")


def stored(code: str = "123456", *, age_s: int = 0, used: bool = False) -> p.StoredCode:
    return p.StoredCode(
        p.hash_code("k", "13800000001", code),
        T0 - timedelta(seconds=age_s) + timedelta(seconds=300),
        used,
    )


def verify(
    code: str,
    latest: p.StoredCode | None,
    failed: int = 0,
    locked: datetime | None = None,
    now: datetime = T0,
) -> p.VerifyDecision:
    return p.decide_verify(
        latest=latest,
        presented_hash=p.hash_code("k", "13800000001", code),
        failed_attempts=failed,
        locked_until=locked,
        now=now,
        limits=LIMITS,
    )


def test_verify_outcomes() -> None:
    assert verify("123456", stored()).accepted
    assert verify("123456", stored(age_s=300)).result is p.VerifyResult.EXPIRED
    assert verify("123456", stored(used=True)).result is p.VerifyResult.INVALID
    assert verify("654321", stored()).result is p.VerifyResult.INVALID
    assert verify("123456", None).result is p.VerifyResult.INVALID
    fifth = verify("654321", stored(), failed=4)
    assert fifth.result is p.VerifyResult.LOCKED
    assert fifth.locked_until == T0 + timedelta(minutes=15) and fifth.failed_attempts == 0
    locked = verify("123456", stored(), locked=T0 + timedelta(seconds=5))
    assert locked.result is p.VerifyResult.LOCKED and locked.retry_after_s == 5


def test_success_resets_the_failure_count() -> None:
    assert verify("123456", stored(), failed=3).failed_attempts == 0


offsets = st.lists(st.integers(min_value=0, max_value=3 * 24 * 3600), max_size=40)


@settings(max_examples=300, deadline=None)
@given(phone_offsets=offsets, ip_offsets=offsets, now_offset=st.integers(0, 3 * 24 * 3600))
def test_an_allowed_send_never_breaks_a_limit(
    phone_offsets: list[int], ip_offsets: list[int], now_offset: int
) -> None:
    now = T0 + timedelta(seconds=now_offset)
    phone = [T0 + timedelta(seconds=o) for o in phone_offsets if o <= now_offset]
    ip = [T0 + timedelta(seconds=o) for o in ip_offsets if o <= now_offset]
    d = p.decide_send(phone_sends=phone, ip_sends=ip, locked_until=None, now=now, limits=LIMITS)
    day = [t for t in phone if t > now - timedelta(days=1)]
    hour = [t for t in ip if t > now - timedelta(hours=1)]
    if isinstance(d, p.SendAllowed):
        assert len(day) < LIMITS.max_per_phone_per_day
        assert len(hour) < LIMITS.max_per_ip_per_hour
        assert all((now - t).total_seconds() >= LIMITS.resend_interval_s for t in phone)
        assert d.expires_at == now + timedelta(seconds=300)
    else:
        assert d.retry_after_s >= 1
        # Waiting as told always lifts the refusal that was given.
        later = now + timedelta(seconds=d.retry_after_s)
        again = p.decide_send(
            phone_sends=phone, ip_sends=ip, locked_until=None, now=later, limits=LIMITS
        )
        assert not (isinstance(again, p.SendRefused) and again.reason is d.reason)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_never_more_than_five_wrong_guesses_per_lockout(guesses_right: list[bool]) -> None:
    failed, locked, wrong_judged = 0, None, 0
    for right in guesses_right:
        d = verify("123456" if right else "000000", stored(), failed, locked)
        if d.result in (p.VerifyResult.INVALID,) or (
            d.result is p.VerifyResult.LOCKED and locked is None
        ):
            wrong_judged += 1
        failed, locked = d.failed_attempts, d.locked_until
        if d.accepted:
            wrong_judged = 0
        assert wrong_judged <= LIMITS.max_failed_attempts


def test_profile_rules() -> None:
    assert clean_nickname("  小明 ") == "小明"
    assert clean_tags(["游戏", "游戏", "音乐"]) == ["游戏", "音乐"]
    with pytest.raises(ProfileRuleError):
        clean_tags(list(INTEREST_TAGS[:9]))
    with pytest.raises(ProfileRuleError):
        clean_nickname("\u202eevil")
