"""Text normalization before matching: one pure function, ``normalize``.

Evasions of contact-detail filters mostly respell characters, so matching runs on a canonical
form of the message:

- NFKC, per character (UAX #15): full-width ``１３８`` and ``ｖｘ`` become ``138`` and ``vx``,
  circled ``①`` and ``⑩`` become ``1`` and ``10``, math-bold ``𝟏`` becomes ``1``, ``＠`` ``@``;
- format characters (Unicode category Cf: zero-width space and joiners, BOM, bidi controls,
  soft hyphen, tag characters) and combining marks (Mn, Me: the variation selector and the
  enclosing keycap of the emoji digit ``1️⃣``) are removed, as are the invisible fillers;
- Chinese digits (零〇一二三四五六七八九, 壹贰叁肆伍陆柒捌玖, 幺 and 两) become ASCII digits,
  and 十/拾 next to a digit becomes what it spells (``三十五`` 35, ``二十`` 20, ``十三`` 13);
- ASCII is lower-cased, and the Cyrillic and Greek letters that look like Latin ones (``вх``
  is not, but ``vх`` with a Cyrillic х is) become those letters;
- digits NFKC leaves alone (dingbat ``❶``, ``➊``, ``⓫``; other scripts' decimal digits) become
  their values, and the keycap ten ``🔟`` becomes ``10``;
- traditional characters become simplified ones (``聯繫`` is ``联系``, ``號`` is ``号``:
  ``moderation.hanzi``, OpenCC's table);
- spaces, light punctuation and emoji between two Chinese characters are dropped (``微 信 多 少``
  is ``微信多少``, ``见❤面`` is ``见面``), but not the emoji that stand for a word (``🧧`` 红包,
  ``🐧`` QQ, ``💚`` WeChat, ``🔫`` 炮).

Look-alike *digits* (``o`` for 0, ``l`` and ``I`` for 1) are not changed here, because "ok"
and "lol" must stay words: ``moderation.numbers`` reads them as digits only inside digit runs.

The result keeps, for every character, the index of the original character it came from, so
matches found in the normalized text can be masked in the original one.  Most messages change
length nowhere; then no index list is built (``origin`` is ``None``: the identity).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from moderation.hanzi import SIMPLIFIED

CHINESE_DIGITS = {
    "零": "0",
    "〇": "0",
    "洞": "0",  # radio-style "zero" (洞幺两拐…)
    "一": "1",
    "壹": "1",
    "幺": "1",
    "二": "2",
    "贰": "2",
    "貳": "2",
    "两": "2",
    "兩": "2",
    "三": "3",
    "叁": "3",
    "參": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "陸": "6",
    "七": "7",
    "柒": "7",
    "拐": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
    "勾": "9",
}
TEN = "十"
TENS = {"十": TEN, "拾": TEN}

# Letters that render like Latin ones (Unicode TR 39 confusables, the ones used in practice).
# Characters OpenCC keeps that chat uses for a common one: the polite 您 and Taiwan's 妳 for 你,
# 砲 for 炮 (round 7).
VARIANTS = {"您": "你", "妳": "你", "祢": "你", "砲": "炮", "帐": "账"}  # 帐: round 11
CONFUSABLES = {
    "а": "a",
    "в": "b",
    "е": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ј": "j",
    "ԛ": "q",
    "ԝ": "w",
    "α": "a",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
}
# Characters that draw nothing but are not Cf (Hangul and braille fillers).
INVISIBLE = "\u115f\u1160\u3164\uffa0\u2800"
_DROPPED_CATEGORIES = {"Cf", "Mn", "Me"}
_HIGHEST_SCANNED = 0x30000  # the BMP, SMP and SIP: every character NFKC maps to ASCII
_TAGS = range(0xE0000, 0xE0080)  # Cf tag characters (emoji flags of regions hide text here)
_VARIATION_SELECTORS = range(0xE0100, 0xE01F0)


def _canonical(c: str) -> str:
    """What one character becomes; a dropped character becomes ``DROP``."""
    out = []
    for ch in unicodedata.normalize("NFKC", c):
        if unicodedata.category(ch) in _DROPPED_CATEGORIES or ch in INVISIBLE:
            out.append(DROP)
            continue
        ch = SIMPLIFIED.get(ch, ch)
        ch = VARIANTS.get(ch, ch)
        ch = CHINESE_DIGITS.get(ch) or TENS.get(ch) or CONFUSABLES.get(ch) or ch
        if not ch.isascii() and unicodedata.category(ch) == "No":
            value = unicodedata.numeric(ch, -1)  # ❶ ➀ ⓫: digits NFKC leaves alone
            if value == int(value) and 0 <= value <= 20:
                ch = str(int(value))
        elif not ch.isascii() and unicodedata.category(ch) == "Nd":
            ch = str(unicodedata.digit(ch))  # other scripts' decimal digits (٣, ३)
        if "A" <= ch <= "Z":
            ch = ch.lower()
        out.append(ch)
    kept = "".join(out).replace(DROP, "")
    return kept or DROP


def _build_table() -> dict[int, str]:
    """The translate table: a character either maps to one character (``DROP`` when it is
    removed) or expands to several (``⑩`` → ``10``)."""
    table: dict[int, str] = {}
    codepoints = [*range(_HIGHEST_SCANNED), *_TAGS, *_VARIATION_SELECTORS]
    for cp in codepoints:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        mapped = _canonical(c)
        if mapped != c:
            table[cp] = mapped
    table[ord("🔟")] = "10"
    table[ord(DROP)] = DROP
    return table


# Removed characters map to DROP (a noncharacter) rather than to nothing, so a translated text
# keeps its length unless something expanded, and one ``in`` test tells whether any was removed:
# most messages take the fast path with no index map at all.
DROP = "\ufffe"
TABLE = _build_table()
_TEN_BY_DIGIT = re.compile(r"[0-9]十|十[0-9]")
# What may be dropped between two Chinese characters: spaces, light punctuation and emoji (but
# not the emoji that stand for a word).  Commas, full stops, ! and ? are real breaks and stay.
WORD_EMOJI = "🧧🐧💚🔫✈🍆🍑"  # 红包, QQ, WeChat, 炮, Telegram; 🍆 and 🍑 (round 7)
_GAP_CHARS = r" .*~·•_/\\\-\u2190-\u2bff\U0001f000-\U0001faff"
_GAP_CHAR = f"(?![{WORD_EMOJI}])[{_GAP_CHARS}]"
_CJK_GAP = re.compile(f"[\u4e00-\u9fff](?:{_GAP_CHAR})+[\u4e00-\u9fff]")
_GAP = re.compile(_GAP_CHAR)
_ANY_GAP = re.compile(f"[{_GAP_CHARS}]")  # a plain class: re scans for it in C, fast


_PATTERN_TABLE = str.maketrans({**CHINESE_DIGITS, **TENS})


def pattern_form(pattern: str) -> str:
    """A regular expression written in plain Chinese, in the form of normalized text (its
    Chinese digits as ASCII digits: 一下 is matched as 1下)."""
    return pattern.translate(_PATTERN_TABLE)


@dataclass(frozen=True, slots=True)
class Normalized:
    """``text`` normalized; ``origin[i]`` is the index in the original of ``text[i]`` (``None``
    when every character maps to one character: the identity); ``source_len`` is the length of
    the original."""

    text: str
    source_len: int
    origin: tuple[int, ...] | None = None

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        """The original characters ``text[start:end]`` came from (``end`` exclusive), with the
        removed characters that follow them (the keycap after a digit goes with the digit)."""
        if self.origin is None:
            return start, end
        last = self.origin[end - 1] + 1
        following = self.origin[end] if end < len(self.origin) else self.source_len
        return self.origin[start], max(last, following)


def normalize(text: str) -> Normalized:
    """The canonical form of ``text`` (see the module docstring)."""
    out = text.translate(TABLE)
    n = len(text)
    if len(out) == n and DROP not in out:
        if not (TEN in out and _TEN_BY_DIGIT.search(out)) and not (
            _ANY_GAP.search(out) and _CJK_GAP.search(out)
        ):
            return Normalized(out, n)
        chars, origin = list(out), list(range(n))
    else:
        chars, origin = [], []
        for i, c in enumerate(text):
            for mapped in TABLE.get(ord(c), c):
                if mapped != DROP:
                    chars.append(mapped)
                    origin.append(i)
    if TEN in chars:
        chars, origin = _tens(chars, origin)
    chars, origin = _squeeze(chars, origin)
    return Normalized("".join(chars), n, tuple(origin))


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _tens(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """十 between digits is dropped (三十五 → 35), after a digit is 0 (二十 → 20), before one
    is 1 (十三 → 13); alone it stays 十 (十分钟 is not a digit)."""
    out_chars: list[str] = []
    out_origin: list[int] = []
    n = len(chars)
    for i, c in enumerate(chars):
        if c == TEN:
            before = i > 0 and "0" <= chars[i - 1] <= "9"
            after = i + 1 < n and "0" <= chars[i + 1] <= "9"
            if before and after:
                continue
            if before:
                c = "0"
            elif after:
                c = "1"
        out_chars.append(c)
        out_origin.append(origin[i])
    return out_chars, out_origin


def _squeeze(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """Spaces, light punctuation and emoji between two Chinese characters are dropped: Chinese
    is written without them, so ``微 信 多 少`` and ``见❤面`` are ``微信多少`` and ``见面``
    spelled out to dodge a filter."""
    out_chars: list[str] = []
    out_origin: list[int] = []
    n = len(chars)
    for i, c in enumerate(chars):
        if out_chars and _is_cjk(out_chars[-1]) and _GAP.match(c):
            j = i
            while j < n and _GAP.match(chars[j]):
                j += 1
            if j < n and _is_cjk(chars[j]):
                continue
        out_chars.append(c)
        out_origin.append(origin[i])
    return out_chars, out_origin
