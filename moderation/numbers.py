"""Numbers in normalized chat text: mobile and landline numbers, ID card numbers (GB 11643),
bank card numbers (Luhn), and the digit runs a messenger-ID cue may claim (QQ numbers).

A *digit run* is digits with at most ``MAX_SEP`` separator characters between them
(``138 1234 5678``, ``1.3.8-1234``, ``138_1234\\n5678``), where ``o`` reads as 0 and ``l``/``i``
as 1 when they stand by digits and not inside a word (``138o0l38000``, ``l3800138000``).  The
separators split a run into groups; a number is looked for only between group boundaries
(``13812345678 45`` holds a phone number, a bare ``202405121345`` does not hold one), longest
first.

Before that, what only looks like a number is blanked out (same length, so positions hold):
the platform's own ids (``call_`` + 32 hex, ``T`` + 20 hex for top-up orders, ``u_``/``s_``/
``g_``/``w_``/``po_``/``PAY``/``SB`` ids from ``accounts.tokens.new_id`` and ``metering``),
dates (``2024-05-12``) and clock times (``21:45``).  Prices, durations, scores and ranks end at
a unit or a Chinese character (``45元``, ``60分钟``, ``星耀2``), which ends a run.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from accounts import idcard

# What may stand between the digits of one number: spaces, punctuation (ASCII after NFKC and
# CJK), arrows, dingbats and emoji.  Not ``$``, ``%``, ``¥``: they end a price.
SEP = (
    r"[\s.,:;!?'\"`~^*+=#&|/\\()\[\]{}<>_\-。、·•・【】《》〈〉「」『』“”‘’—–―～〜"
    "\u2190-\u2bff\U0001f000-\U0001faff]"
)
MAX_SEP = 8  # separator characters between two digits of one number
_LOOK = r"(?<![a-z])[oli](?![a-z])"
_RUN = re.compile(
    rf"(?:[0-9]|{_LOOK}(?=[0-9]))(?:{SEP}{{0,{MAX_SEP}}}(?:[0-9]|{_LOOK}))*"
    rf"(?:{SEP}{{0,{MAX_SEP}}}x(?![a-z0-9]))?"
)
_LOOKALIKE = {"o": "0", "l": "1", "i": "1", "x": "x"}

BLANK = "\x00"  # what a benign look-alike is replaced with: no digit, letter or separator
_BENIGN = re.compile(
    r"(?<![0-9a-z])(?:call_[0-9a-f]{32}|[usgw]_[0-9a-f]{20,24}|po_[0-9a-f]{16}|t[0-9a-f]{20}"
    r"|pay[0-9a-f]{12}|sb[0-9a-f]{16})(?![0-9a-z])"
    r"|(?<![0-9])(?:19|20)[0-9]{2}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])"
    r"|(?<![0-9])(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?(?![0-9])"
)
# Just before a run: a phone cue lets a 7–8 digit local landline count; an order cue keeps a
# 16–19 digit order number from being read as a card.
_PHONE_CUE = re.compile(r"(?:电话|手机|座机|号码|tel|call|打给我|拨打)[^0-9]{0,4}$")
_ORDER_CUE = re.compile(r"(?:订单|单号|运单|快递|物流|流水|交易号|编号|工号|学号)[^0-9]{0,6}$")
_CUE_WINDOW = 12  # characters before a run searched for a cue
_SHORTEST, _LONGEST = 7, 19  # digits in a number looked for (local landline, bank card)


@dataclass(frozen=True, slots=True)
class NumberHit:
    """A number found: its category name, span in the (normalized) text, and its digits."""

    category: str
    start: int
    end: int
    value: str


@dataclass(frozen=True, slots=True)
class Run:
    """A digit run no rule claimed (5–12 digits): a messenger-ID cue nearby may claim it."""

    start: int
    end: int
    value: str


def blank_benign(text: str) -> str:
    """``text`` with the platform's ids, dates and clock times replaced by ``BLANK``."""
    return _BENIGN.sub(lambda m: BLANK * (m.end() - m.start()), text)


def id_card_valid(number: str) -> bool:
    """An 18-character resident ID number (lower-case ``x`` as text is normalized): a region
    whose first digit is 1–8, a birth year from 1900 on, and the rest as ``accounts.idcard``
    checks it (a real birth date, the GB 11643 check character)."""
    if len(number) != 18 or not number[:17].isdigit() or number[0] in "09":
        return False
    if not 1900 <= int(number[6:10]) <= 2099:
        return False
    return idcard.valid(number)


def luhn_valid(number: str) -> bool:
    """The Luhn (ISO/IEC 7812-1 Annex B) check over a string of digits."""
    total = 0
    for i, d in enumerate(reversed(number)):
        n = ord(d) - 48
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _classify(d: str, phone_cue: bool, order_cue: bool) -> str | None:
    n = len(d)
    if d[-1] == "x":
        return "id_card" if n == 18 and id_card_valid(d) else None
    if n == 11:
        if d[0] == "1" and d[1] in "3456789":
            return "phone"
        return "phone" if _landline(d) else None
    if n == 18 and id_card_valid(d):
        return "id_card"
    if 16 <= n <= 19:
        if d[0] in "345689" and not order_cue and luhn_valid(d):
            return "bank_card"
        return None
    if n == 13 and d.startswith("86") and d[2] == "1" and d[3] in "3456789":
        return "phone"
    if n == 15 and d.startswith("0086") and d[4] == "1" and d[5] in "3456789":
        return "phone"
    if n in (10, 12):
        return "phone" if _landline(d) else None
    if n in (7, 8):
        return "phone" if phone_cue and d[0] in "23456789" else None
    return None


def _landline(d: str) -> bool:
    """A mainland landline with its area code: 010/02x and 8 digits, or 0xxx and 7–8 digits;
    local numbers start with 2–9."""
    if d[0] != "0" or len(d) not in (10, 11, 12):
        return False
    if (d[1] == "1" and d[2] == "0") or d[1] == "2":
        return len(d) == 11 and d[3] in "23456789"
    return d[1] in "3456789" and d[4] in "23456789" and len(d) in (11, 12)


def scan_numbers(text: str) -> tuple[list[NumberHit], list[Run]]:
    """The numbers in normalized, blanked ``text``, and the runs left for a cue to claim."""
    hits: list[NumberHit] = []
    runs: list[Run] = []
    for m in _RUN.finditer(text):
        if m.end() - m.start() < 5:
            continue
        digits: list[str] = []
        where: list[int] = []
        starts: list[int] = []
        after_sep = True
        for i in range(m.start(), m.end()):
            c = text[i]
            if "0" <= c <= "9" or c in _LOOKALIKE:
                if after_sep:
                    starts.append(len(digits))
                digits.append(_LOOKALIKE.get(c, c))
                where.append(i)
                after_sep = False
            else:
                after_sep = True
        n = len(digits)
        if n < 5:
            continue
        d = "".join(digits)
        before = text[max(0, m.start() - _CUE_WINDOW) : m.start()]
        phone_cue = bool(_PHONE_CUE.search(before))
        order_cue = bool(_ORDER_CUE.search(before))
        ends = [*starts[1:], n]
        consumed = 0
        found = False
        for s in starts:
            if s < consumed:
                continue
            for k in range(bisect_right(ends, s + _LONGEST) - 1, -1, -1):
                e = ends[k]
                if e - s < _SHORTEST:
                    break
                whole = s == 0 and e == n  # a cue before the run speaks for all of it
                category = _classify(d[s:e], phone_cue and whole, order_cue and s == 0)
                if category:
                    hits.append(NumberHit(category, where[s], where[e - 1] + 1, d[s:e]))
                    consumed = e
                    found = True
                    break
        if not found and n <= 12:
            runs.append(Run(where[0], where[-1] + 1, d.rstrip("x")))
    return hits, runs
