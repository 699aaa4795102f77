"""Mainland resident ID numbers (GB 11643-1999) and real names: pure checks, no I/O.

An ID number is 17 digits and a check character: the weighted sum of the digits (weights
2^(17-i) mod 11) mod 11 picks the check character from ``10X98765432``.  Digits 7–14 are the
birth date.  Shown only masked: the first 3 and last 4 characters.
"""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{1,10}(?:[·•][\u4e00-\u9fff]{1,10}){0,3}$")
ADULT_AGE = 18


def normalize(id_number: str) -> str:
    return id_number.strip().replace(" ", "").upper()


def valid(id_number: str) -> bool:
    """Shape, a real birth date, and the GB 11643 check character."""
    s = normalize(id_number)
    if not _SHAPE.match(s):
        return False
    total = sum(int(d) * w for d, w in zip(s[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != s[17]:
        return False
    try:
        birth_date(s)
    except ValueError:
        return False
    return True


def birth_date(id_number: str) -> date:
    s = normalize(id_number)
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def adult_from(id_number: str) -> date:
    """The day the holder turns 18 (29 February births: 1 March in common years)."""
    born = birth_date(id_number)
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:
        return date(born.year + ADULT_AGE, 3, 1)


def mask(id_number: str) -> str:
    s = normalize(id_number)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def valid_name(name: str) -> bool:
    """A Chinese name (1–10 characters, or several parts joined by a middle dot)."""
    return bool(_CJK_NAME.match(name.strip()))


def mask_name(name: str) -> str:
    n = name.strip()
    return n[0] + "*" * (len(n) - 1) if len(n) > 1 else "*"
