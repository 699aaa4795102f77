"""The SMS login-code rules, as pure functions of (state, now).

- A code is 6 random digits (``secrets``), valid ``code_ttl_s`` (5 min), single use, and only its
  keyed hash is stored: 10^6 codes are too few for a plain hash to hide them.
- Only the newest code of a phone counts; sending a new one retires the old.
- ``max_failed_attempts`` (5) wrong tries lock the phone for ``lockout_s`` (15 min); while locked
  neither sending nor verifying works, not even with the right code.
- At most one send per ``resend_interval_s`` (60 s) and ``max_per_phone_per_day`` (10) per rolling
  24 h per phone, and ``max_per_ip_per_hour`` (20) per rolling hour per client IP.
- Nothing here looks at whether the phone is registered, so registered and unregistered phones
  get identical answers.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

CODE_DIGITS = 6
DAY_S = 24 * 3600
HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class SmsLimits:
    code_ttl_s: int = 300
    resend_interval_s: int = 60
    max_per_phone_per_day: int = 10
    max_per_ip_per_hour: int = 20
    max_failed_attempts: int = 5
    lockout_s: int = 900


class Refusal(StrEnum):
    RESEND_TOO_SOON = "sms_resend_too_soon"
    PHONE_DAILY_LIMIT = "sms_daily_limit"
    IP_HOURLY_LIMIT = "sms_ip_limit"
    PHONE_LOCKED = "phone_locked"


@dataclass(frozen=True, slots=True)
class SendAllowed:
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SendRefused:
    reason: Refusal
    retry_after_s: int


@dataclass(frozen=True, slots=True)
class StoredCode:
    code_hash: str
    expires_at: datetime
    used: bool


class VerifyResult(StrEnum):
    ACCEPTED = "accepted"
    INVALID = "code_invalid"
    EXPIRED = "code_expired"
    LOCKED = "phone_locked"


@dataclass(frozen=True, slots=True)
class VerifyDecision:
    result: VerifyResult
    #: the phone's failed-attempt counter after this attempt
    failed_attempts: int
    #: the lock after this attempt (``None`` when not locked)
    locked_until: datetime | None
    retry_after_s: int = 0

    @property
    def accepted(self) -> bool:
        return self.result is VerifyResult.ACCEPTED


def new_code() -> str:
    """Six uniformly random digits from the OS CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(secret_key: str, phone: str, code: str) -> str:
    """HMAC-SHA256 keyed by the server secret and bound to the phone."""
    msg = f"{phone}:{code}".encode()
    return hmac.new(secret_key.encode(), msg, hashlib.sha256).hexdigest()


def _seconds_until(later: datetime, now: datetime) -> int:
    return max(1, math.ceil((later - now).total_seconds()))


def decide_send(
    *,
    phone_sends: Sequence[datetime],
    ip_sends: Sequence[datetime],
    locked_until: datetime | None,
    now: datetime,
    limits: SmsLimits,
) -> SendAllowed | SendRefused:
    """May a code be sent now?  ``phone_sends``/``ip_sends``: earlier accepted sends (any order)."""
    if locked_until is not None and locked_until > now:
        return SendRefused(Refusal.PHONE_LOCKED, _seconds_until(locked_until, now))
    day_ago = now - timedelta(seconds=DAY_S)
    recent_phone = sorted(t for t in phone_sends if t > day_ago)
    if recent_phone:
        next_ok = recent_phone[-1] + timedelta(seconds=limits.resend_interval_s)
        if next_ok > now:
            return SendRefused(Refusal.RESEND_TOO_SOON, _seconds_until(next_ok, now))
    if len(recent_phone) >= limits.max_per_phone_per_day:
        # The window frees a slot when the oldest send that still counts leaves it.
        oldest = recent_phone[len(recent_phone) - limits.max_per_phone_per_day]
        return SendRefused(
            Refusal.PHONE_DAILY_LIMIT, _seconds_until(oldest + timedelta(seconds=DAY_S), now)
        )
    hour_ago = now - timedelta(seconds=HOUR_S)
    recent_ip = sorted(t for t in ip_sends if t > hour_ago)
    if len(recent_ip) >= limits.max_per_ip_per_hour:
        oldest = recent_ip[len(recent_ip) - limits.max_per_ip_per_hour]
        return SendRefused(
            Refusal.IP_HOURLY_LIMIT, _seconds_until(oldest + timedelta(seconds=HOUR_S), now)
        )
    return SendAllowed(expires_at=now + timedelta(seconds=limits.code_ttl_s))


def decide_verify(
    *,
    latest: StoredCode | None,
    presented_hash: str,
    failed_attempts: int,
    locked_until: datetime | None,
    now: datetime,
    limits: SmsLimits,
) -> VerifyDecision:
    """Judge one verification attempt against the phone's newest code."""
    if locked_until is not None and locked_until > now:
        return VerifyDecision(
            VerifyResult.LOCKED, failed_attempts, locked_until, _seconds_until(locked_until, now)
        )
    if (
        latest is not None
        and not latest.used
        and hmac.compare_digest(latest.code_hash, presented_hash)
    ):
        if latest.expires_at <= now:
            result = VerifyResult.EXPIRED
        else:
            return VerifyDecision(VerifyResult.ACCEPTED, 0, None)
    else:
        result = VerifyResult.INVALID
    # A wrong, reused or expired code is a failed attempt: each one costs a guess.
    failed = failed_attempts + 1
    if failed >= limits.max_failed_attempts:
        until = now + timedelta(seconds=limits.lockout_s)
        return VerifyDecision(VerifyResult.LOCKED, 0, until, limits.lockout_s)
    return VerifyDecision(result, failed, None)
