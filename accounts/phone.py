"""Mainland China mobile numbers: ``1[3-9]`` followed by 9 digits.

Input may carry ``+86``/``0086``, spaces and dashes; everything is normalized to the bare 11 digits
before it is stored, compared or rate limited, so ``+86 138-0000-0001`` and ``13800000001`` are the
same phone for every rule.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[ \t\-]")
MAX_INPUT_CHARS = 32


def normalize_phone(raw: str) -> str | None:
    """The bare 11-digit number, or ``None`` if ``raw`` is not a mainland mobile number."""
    if len(raw) > MAX_INPUT_CHARS:
        return None
    s = _SEPARATORS.sub("", raw.strip())
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    # fullmatch on ASCII digits only: str.isdigit would accept '１' and '١'.
    return s if _MOBILE.fullmatch(s) else None


def mask_phone(phone: str) -> str:
    """``138****0001``: how a phone number appears to anyone but its owner and in logs."""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "****"
