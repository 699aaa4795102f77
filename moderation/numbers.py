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
    # round 12: lottery numbers (双色球 03 08 15 22 27 31 + 09)
    r"|(?:双色球|大乐透|彩票|福彩|体彩|七乐彩|快乐8|排列[35]|开奖号码?|中奖号码?)[^0-9\n]{0,4}"
    r"(?:[0-9]{1,2}[ +,，、]{1,3}){4,}[0-9]{1,2}(?![0-9])"
)
# Just before a run: a phone cue lets a 7–8 digit local landline count; an order cue keeps a
# 16–19 digit order number from being read as a card.
_PHONE_CUE = re.compile(r"(?:电话|手机|座机|号码|tel|call|打给我|拨打)[^0-9]{0,4}$")
_ORDER_CUE = re.compile(r"(?:订单|单号|运单|快递|物流|流水|交易号|编号|工号|学号)[^0-9]{0,6}$")
# Next to a run (before or after it): a card or ID cue lets a number of that shape count without
# its checksum.  Real numbers pass Luhn and GB 11643, but people retype, misremember and make
# numbers up ("卡号 6222 0212 3456 7890 123"); with the cue said, the checksum adds nothing, while
# a bare number that fails it is left alone (order numbers, scores, long ids).
_CARD_CUE = re.compile(
    r"(?:卡|银行|[工建农招中交浦兴]行|开户|账号|帐号|账户|帐户|收款|card)[^0-9]{0,6}$"
)
_ID_CUE = re.compile(r"(?:身份证|证件|身份号|sfz|身份|实名)[^0-9]{0,8}$")
_CARD_CUE_AFTER = re.compile(r"^[^0-9\n]{0,8}?(?:卡号|银行卡|卡$|的卡|张卡)")
_ID_CUE_AFTER = re.compile(r"^[^0-9\n]{0,8}?(?:身份证|证件号)")
_CUE_WINDOW = 14  # characters before a run searched for a cue
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


def id_card_shaped(number: str) -> bool:
    """18 characters laid out as an ID number (region 1–8…, a birth year 19xx/20xx, a month and
    a day in range), whatever its check character."""
    if len(number) != 18 or not number[:17].isdigit() or number[0] in "09":
        return False
    month, day = int(number[10:12]), int(number[12:14])
    return number[6:8] in ("19", "20") and 1 <= month <= 12 and 1 <= day <= 31


@dataclass(frozen=True, slots=True)
class _Cues:
    phone: bool = False
    order: bool = False
    card: bool = False
    id_card: bool = False


_NO_CUES = _Cues()


def _classify(d: str, cues: _Cues) -> str | None:
    n = len(d)
    if d[-1] == "x":
        if n == 18 and (id_card_valid(d) or (cues.id_card and id_card_shaped(d))):
            return "id_card"
        return None
    if n == 11:
        if d[0] == "1" and (d[1] in "3456789" or cues.phone):
            return "phone"
        return "phone" if _landline(d) else None
    if n == 18 and (id_card_valid(d) or (cues.id_card and id_card_shaped(d))):
        return "id_card"
    if 16 <= n <= 19:
        if cues.order:
            return None
        if cues.card or (d[0] in "345689" and luhn_valid(d)):
            return "bank_card"
        return None
    if n == 13 and d.startswith("86") and d[2] == "1" and d[3] in "3456789":
        return "phone"
    if n == 15 and d.startswith("0086") and d[4] == "1" and d[5] in "3456789":
        return "phone"
    if n in (10, 12):
        return "phone" if _landline(d) else None
    if n in (7, 8):
        return "phone" if cues.phone and d[0] in "23456789" else None
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
        after = text[m.end() : m.end() + _CUE_WINDOW] if n >= 16 else ""
        cues = _Cues(
            phone=bool(_PHONE_CUE.search(before)),
            order=bool(_ORDER_CUE.search(before)),
            card=n >= 16 and bool(_CARD_CUE.search(before) or _CARD_CUE_AFTER.search(after)),
            id_card=n >= 17 and bool(_ID_CUE.search(before) or _ID_CUE_AFTER.search(after)),
        )
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
                # a phone cue speaks for the whole run; the other cues for its first number
                category = _classify(
                    d[s:e],
                    _Cues(cues.phone and s == 0 and e == n, cues.order, cues.card, cues.id_card)
                    if s == 0
                    else _NO_CUES,
                )
                if category:
                    hits.append(NumberHit(category, where[s], where[e - 1] + 1, d[s:e]))
                    consumed = e
                    found = True
                    break
        if not found and 9 <= n <= 15 and _INTL.search(text, max(0, m.start() - 2), m.start()):
            hits.append(NumberHit("phone", where[0], where[-1] + 1, d))  # +60 12-345 6789
            found = True
        if not found and n <= 12:
            runs.append(Run(where[0], where[-1] + 1, d.rstrip("x")))
    return hits, runs


_INTL = re.compile(r"\+\s?$")
# A mobile number told in pieces with words between them (前三位138 中间是8888 后面是0520,
# 155点3344点6677, 139 两个零 123456, or written backwards): with a phone cue in the text, all
# its digits read in order (or reversed) make one mobile number.
_SCATTER_CUE = re.compile(
    r"电话|手机|号码|号是|我号|我的号|打我|打给我|call|tel|尾号|前[0-9]位|后[0-9]位|前面是|后面是|倒过来"
    r"|打这个|拨这个|打这|拨打"
    # round 9: pieces said to be joined (188 加上 2056 再接 1937)
    r"|加上|再接|接上|后面接|然后接|再加上"
)
_NOT_PIECE = re.compile(
    r"(?:前|后|最后|中间|末)?[0-9]位|([2-9])个([0-9])|(?<![0-9])1(?=[下些起样直定般会])"
)
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PINYIN = {"ling": "0", "yao": "1", "yi": "1", "er": "2", "san": "3", "si": "4", "wu": "5"}
_PINYIN |= {"liu": "6", "qi": "7", "ba": "8", "jiu": "9"}
_PINYIN_DIGIT = re.compile(r"(?<![a-z])(?:" + "|".join(_PINYIN) + r")(?![a-z])")


def scattered_phone(text: str) -> NumberHit | None:
    """A mobile number whose digits are scattered through a text that names a phone (see
    above), or ``None``."""
    if not _SCATTER_CUE.search(text):
        return None
    if len(_PINYIN_DIGIT.findall(text)) >= 7:  # yao san liu ling …: each word as its digit
        text = _PINYIN_DIGIT.sub(lambda m: _PINYIN[m.group()].ljust(len(m.group())), text)
    digits: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _NOT_PIECE.finditer(text):
        _digits_in(text, pos, m.start(), digits, where)
        if m.group(1):  # 2个0: two zeros
            digits.extend(m.group(2) * int(m.group(1)))
            where.extend([m.start()] * int(m.group(1)))
        pos = m.end()
    _digits_in(text, pos, len(text), digits, where)
    if len(digits) != 11:
        return None
    d = "".join(digits)
    if _MOBILE.fullmatch(d) or _MOBILE.fullmatch(d := d[::-1]):
        return NumberHit("phone", where[0], where[-1] + 1, d)
    return None


def _digits_in(text: str, start: int, end: int, digits: list[str], where: list[int]) -> None:
    for i in range(start, end):
        if "0" <= text[i] <= "9":
            digits.append(text[i])
            where.append(i)


# Round 9: a mobile number spelled out in pinyin or English digit words with no phone cue
# (yao wu jiu ling …, one-five-two six-six-zero-one …): eleven such words in a row.
_WORD_DIGITS = _PINYIN | {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_WORD_DIGIT = "(?:" + "|".join(sorted(_WORD_DIGITS, key=len, reverse=True)) + ")(?![a-z])"
_SPELLED_RUN = re.compile(rf"(?<![a-z]){_WORD_DIGIT}(?:[\s,，.、-]*{_WORD_DIGIT}){{10,}}")
_WORD_DIGIT_ONE = re.compile(_WORD_DIGIT)


def spelled_phone(text: str) -> NumberHit | None:
    """A mobile number spelled out as eleven digit words in a row (pinyin or English), or
    ``None``."""
    for m in _SPELLED_RUN.finditer(text):
        d = "".join(_WORD_DIGITS[w] for w in _WORD_DIGIT_ONE.findall(m.group()))
        if len(d) == 11 and _MOBILE.fullmatch(d):
            return NumberHit("phone", m.start(), m.end(), d)
    return None


# Round 11: a bank card told in pieces, within one message or over a sender's messages joined
# by the window (卡号前面是 6216 6124 / 后面 9976 6024434): with a card word in the text, digit
# groups a few words apart whose digits, joined, make a 16–19 digit number passing Luhn.
_CARD_WORD = re.compile(r"卡号|银行卡|开户行|户名|[工建农招中交浦兴]行|银行")
_GROUP = re.compile(r"[0-9]+")
_PIECE_GAP = 10  # characters between two pieces of one card number


def scattered_card(text: str) -> NumberHit | None:
    """A bank card number told in pieces in a text that names a card (see above), or ``None``."""
    if not _CARD_WORD.search(text):
        return None
    groups = [m for m in _GROUP.finditer(text) if len(m.group()) >= 3]
    for i in range(len(groups)):
        d = ""
        for j in range(i, len(groups)):
            if j > i and groups[j].start() - groups[j - 1].end() > _PIECE_GAP:
                break
            d += groups[j].group()
            if len(d) > _LONGEST:
                break
            if j > i and len(d) >= 16 and luhn_valid(d):
                return NumberHit("bank_card", groups[i].start(), groups[j].end(), d)
    return None
