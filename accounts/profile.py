"""Profile rules: nicknames and the curated interest tags."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

#: The curated interest tags a profile may carry (and discovery filters on).
INTEREST_TAGS: tuple[str, ...] = (
    "游戏",
    "动漫",
    "情感",
    "外语",
    "考研",
    "职场",
    "音乐",
    "电影",
    "读书",
    "运动",
    "旅行",
    "美食",
    "心理",
    "星座",
    "宠物",
    "摄影",
)
MAX_TAGS = 8
NICKNAME_MIN_CHARS = 1
NICKNAME_MAX_CHARS = 20


class ProfileRuleError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def clean_nickname(raw: str) -> str:
    """NFC-normalized, trimmed nickname; control and format characters refused."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not (NICKNAME_MIN_CHARS <= len(name) <= NICKNAME_MAX_CHARS):
        raise ProfileRuleError(
            "nickname_length", f"nickname must be {NICKNAME_MIN_CHARS}-{NICKNAME_MAX_CHARS} chars"
        )
    # Cc: control, Cf: format (zero-width and bidi tricks), Co/Cs: private use, surrogates.
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in name):
        raise ProfileRuleError(
            "nickname_characters", "nickname has invisible or control characters"
        )
    return name


def clean_tags(raw: Sequence[str]) -> list[str]:
    """Known tags only, duplicates dropped, order kept."""
    unknown = [t for t in raw if t not in INTEREST_TAGS]
    if unknown:
        raise ProfileRuleError("unknown_tag", f"unknown interest tags: {', '.join(unknown[:5])}")
    tags = list(dict.fromkeys(raw))
    if len(tags) > MAX_TAGS:
        raise ProfileRuleError("too_many_tags", f"at most {MAX_TAGS} interest tags")
    return tags


def default_nickname(phone: str) -> str:
    """The nickname a new account starts with: never the phone number itself."""
    return f"用户{phone[-4:]}"
