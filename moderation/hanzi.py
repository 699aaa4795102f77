"""Chinese characters as the detector reads them: traditional forms folded to simplified
(OpenCC's character table, through ``opencc-python-reimplemented``) and characters grouped by
sound (``pypinyin``'s reading of every character), so a cue spelled with a homophone (``威信``,
``薇信``, ``徽芯`` for 微信) is the same cue.

Pure: both tables are built once, at import, from the libraries' own data; nothing here reads a
clock, a socket or a file of ours.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from opencc import OpenCC
from pypinyin.pinyin_dict import pinyin_dict

_CJK = [*range(0x3400, 0xA000), *range(0xF900, 0xFB00)]


def _simplified() -> dict[str, str]:
    """Each traditional character and its simplified form, one character to one (a phrase
    table would change lengths; OpenCC's first choice per character is enough to match on)."""
    chars = [chr(cp) for cp in _CJK]
    converted = OpenCC("t2s").convert("\n".join(chars)).split("\n")
    assert len(converted) == len(chars)
    return {c: s for c, s in zip(chars, converted, strict=True) if s != c and len(s) == 1}


def _toneless(reading: str) -> str:
    marks = unicodedata.normalize("NFD", reading)
    return "".join(c for c in marks if unicodedata.category(c) != "Mn").replace("ü", "v")


def _by_sound() -> dict[str, str]:
    """Every toneless syllable and the characters (simplified forms) whose first reading it
    is (a rare second reading would put 有 among the homophones of 微)."""
    sounds: dict[str, set[str]] = defaultdict(set)
    for cp, readings in pinyin_dict.items():
        c = chr(cp)
        if not "\u4e00" <= c <= "\u9fff":
            continue
        c = SIMPLIFIED.get(c, c)
        sounds[_toneless(readings.split(",")[0])].add(c)
    return {s: "".join(sorted(chars)) for s, chars in sounds.items()}


SIMPLIFIED = _simplified()
_SOUNDS = _by_sound()


def homophones(syllable: str, exclude: str = "") -> str:
    """The characters whose first reading is ``syllable`` (toneless pinyin, ``ü`` as ``v``),
    less ``exclude`` (the common words a cue must not match)."""
    chars = "".join(c for c in _SOUNDS.get(syllable, "") if c not in exclude)
    if not chars:
        raise ValueError(f"no character reads {syllable!r}")
    return chars


def sounding(syllable: str, exclude: str = "") -> str:
    """``homophones`` as a regular-expression class."""
    return "[" + "".join(re.escape(c) for c in homophones(syllable, exclude)) + "]"
