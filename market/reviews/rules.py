"""The rules of reviews, with no I/O: who may review what and until when, the fixed tags, the
limits, and the Bayesian rating that discovery ranks by.

A review is of one *paid* session: ended, with at least one billed minute (package and coupon
minutes count: the customer paid for them one way or another), written by its customer within
the review window after the session ended.  One per session; the companion replies once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: What a customer may tick (the web client shows them as chips; zh-CN is the stored form).
REVIEW_TAGS: tuple[str, ...] = (
    "耐心",
    "声音好听",
    "专业",
    "有趣",
    "准时",
    "温柔",
    "幽默",
    "善解人意",
    "技术好",
    "健谈",
    "治愈",
    "有礼貌",
)
MAX_TAGS = 5
MIN_STARS = 1
MAX_STARS = 5
MAX_TEXT_CHARS = 500
MAX_REPLY_CHARS = 300
#: how the author of an anonymous review is shown
ANONYMOUS_NAME = "匿名"

# The Bayesian average (C·m + Σstars) / (C + n): a companion's mean is pulled toward the prior
# mean m by C "virtual" reviews, so a handful of 5★ reviews cannot outrank a long record of
# 4.9s (three 5★: 4.57; three hundred 4.9s: 4.88).  m = 4.5 because reviews on platforms like
# this cluster high (a plain "ok" session gets 4-5★), so 4.5 is what an unknown companion is
# expected to earn, and a fixed m keeps the figure stable and computable per companion without
# a platform-wide pass.  C = 20: about a week of steady work; below that a companion's own mean
# is less than half of their figure, above it more than half.
PRIOR_MEAN_X100 = 450
PRIOR_WEIGHT = 20


class RuleError(ValueError):
    """A review or reply that breaks a rule; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def bayesian_x100(count: int, stars_sum: int) -> int:
    """The Bayesian average of ``count`` reviews summing ``stars_sum`` stars, × 100, rounded
    half up (integers only, so every database and process agrees)."""
    if count < 0 or stars_sum < 0:
        raise ValueError("count and stars_sum cannot be negative")
    numerator = PRIOR_WEIGHT * PRIOR_MEAN_X100 + 100 * stars_sum
    denominator = PRIOR_WEIGHT + count
    return (2 * numerator + denominator) // (2 * denominator)


def check_stars(stars: int) -> int:
    if not (MIN_STARS <= stars <= MAX_STARS):
        raise RuleError("invalid_stars", f"stars must be {MIN_STARS}-{MAX_STARS}")
    return stars


def clean_tags(raw: Sequence[str]) -> list[str]:
    """Known tags only, duplicates dropped, order kept, at most ``MAX_TAGS``."""
    unknown = [t for t in raw if t not in REVIEW_TAGS]
    if unknown:
        raise RuleError("unknown_review_tag", f"unknown review tags: {', '.join(unknown[:5])}")
    tags = list(dict.fromkeys(raw))
    if len(tags) > MAX_TAGS:
        raise RuleError("too_many_review_tags", f"at most {MAX_TAGS} tags")
    return tags


def clean_text(raw: str, limit: int) -> str:
    text = raw.strip()
    if len(text) > limit:
        raise RuleError("text_too_long", f"at most {limit} characters")
    return text


@dataclass(frozen=True, slots=True)
class Window:
    """Whether a session can be reviewed now: ``open``, until ``until`` (None: never, the
    session is not a paid one yet), or why not (``code``)."""

    open: bool
    until: datetime | None
    code: str | None


def review_window(
    status: str, billed_minutes: int, ended_at: datetime | None, now: datetime, window_s: int
) -> Window:
    """The review window of a metered session (its ``status``, ``billed_minutes`` and
    ``ended_at``), at ``now``; ``window_s`` is how long after the end a review may be written."""
    if status != "ended" or ended_at is None:
        return Window(False, None, "session_not_ended")
    if billed_minutes <= 0:
        return Window(False, None, "session_not_paid")
    until = ended_at + timedelta(seconds=window_s)
    if now >= until:
        return Window(False, until, "review_window_closed")
    return Window(True, until, None)


def display_name(nickname: str, anonymous: bool) -> str:
    return ANONYMOUS_NAME if anonymous else nickname
