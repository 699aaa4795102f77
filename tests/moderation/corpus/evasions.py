"""The ways a digit string is disguised (full-width, Chinese numerals, circled, keycap, …)."""

from __future__ import annotations

from collections.abc import Callable

from tests.moderation.corpus.values import rng

# ---------------------------------------------------------------- digit evasions

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CHINESE = "零一二三四五六七八九"
CHINESE_ALT = {"0": "〇零洞", "1": "一幺", "2": "二两", "7": "七拐", "9": "九勾"}
DAXIE = "零壹贰叁肆伍陆柒捌玖"
CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
DINGBAT = "⓿❶❷❸❹❺❻❼❽❾"
MATH = "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"
MATH_DS = "𝟘𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠𝟡"
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
EMOJI_SEP = ["❤", "🌹", "✨", "⭐", "💕", "🐱", "🍓", "～", "♥"]


def each(d: str, f: Callable[[str], str]) -> str:
    return "".join(f(c) if c.isdigit() else c for c in d)


def plain(d: str) -> str:
    return d


def grouped(d: str) -> str:
    if len(d) == 11:
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    return " ".join(d[i : i + 4] for i in range(0, len(d), 4))


def dashed(d: str) -> str:
    if len(d) == 11:
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    return "-".join(d[i : i + 4] for i in range(0, len(d), 4))


def dotted(d: str) -> str:
    return ".".join(d)


def spaced(d: str) -> str:
    return " ".join(d)


def mixed_separators(d: str) -> str:
    seps = [" ", "-", ".", "·", "/", "_", "~", "、", "，", "  "]
    return "".join(
        c + (rng.choice(seps) if i % rng.randint(1, 3) == 0 else "") for i, c in enumerate(d)
    ).rstrip("".join(seps))


def fullwidth(d: str) -> str:
    return d.translate(FULLWIDTH)


def fullwidth_spaced(d: str) -> str:
    return "\u3000".join(d.translate(FULLWIDTH))


def zero_width(d: str) -> str:
    return "".join(c + (rng.choice(ZERO_WIDTH) if rng.random() < 0.6 else "") for c in d)


def chinese(d: str) -> str:
    return each(d, lambda c: rng.choice(CHINESE_ALT.get(c, CHINESE[int(c)])))


def daxie(d: str) -> str:
    return each(d, lambda c: DAXIE[int(c)])


def chinese_mixed(d: str) -> str:
    return each(d, lambda c: c if rng.random() < 0.5 else CHINESE[int(c)])


def circled(d: str) -> str:
    return each(d, lambda c: CIRCLED[int(c)])


def dingbat(d: str) -> str:
    return each(d, lambda c: DINGBAT[int(c)])


def keycap(d: str) -> str:
    return each(d, lambda c: c + "\ufe0f\u20e3")


def math_bold(d: str) -> str:
    return each(d, lambda c: rng.choice([MATH, MATH_DS])[int(c)])


def superscript(d: str) -> str:
    return each(d, lambda c: SUPERSCRIPT[int(c)])


def emoji_separated(d: str) -> str:
    return "".join(c + (rng.choice(EMOJI_SEP) if i < len(d) - 1 else "") for i, c in enumerate(d))


def lookalike(d: str) -> str:
    out = list(d)
    swaps = [i for i, c in enumerate(d) if c in "01" and 0 < i < len(d) - 1]
    for i in rng.sample(swaps, min(len(swaps), 2)):
        out[i] = rng.choice(["o", "O"]) if d[i] == "0" else rng.choice(["l", "I"])
    return "".join(out)


def parenthesized(d: str) -> str:
    return f"({d[:3]}){d[3:7]}-{d[7:]}"


def mixed_everything(d: str) -> str:
    fs = [fullwidth, chinese, circled, plain, daxie]
    return "".join(rng.choice(fs)(c) + rng.choice(["", " ", "", "\u200b"]) for c in d)


DIGIT_EVASIONS: list[tuple[str, Callable[[str], str]]] = [
    ("plain", plain),
    ("grouped", grouped),
    ("dashed", dashed),
    ("dotted", dotted),
    ("spaced", spaced),
    ("separators", mixed_separators),
    ("fullwidth", fullwidth),
    ("fullwidth", fullwidth_spaced),
    ("zero_width", zero_width),
    ("chinese", chinese),
    ("chinese", daxie),
    ("chinese", chinese_mixed),
    ("circled", circled),
    ("circled", dingbat),
    ("keycap", keycap),
    ("math", math_bold),
    ("superscript", superscript),
    ("emoji", emoji_separated),
    ("lookalike", lookalike),
    ("mixed", mixed_everything),
]
