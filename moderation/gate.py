"""A faster ``finditer`` for the big alternations of cue words: the characters a match can
start with are worked out from the pattern once, a character class finds them (a scan in C),
and the pattern is tried only there.

Python's ``re`` skips ahead by itself only when every alternative starts with a plain
character; the cue patterns start with groups, classes and look-behinds, so a search tries all
alternatives at every position of the message.  Most chat characters cannot start any of them.
Each top-level alternative is gated on its own too: at a candidate position only the
alternatives that can start with the character there are tried, compiled (on first use) as one
pattern in their original order.  ``re`` tries alternatives left to right and keeps the first
that matches, and an alternative that cannot start with the character fails there, so the match
at each position is the one the whole pattern finds.  ``GatedSet`` runs several patterns in one
pass and also skips a pattern where no match can start with the two characters there (the
first two characters of every match are worked out from the parse, look-arounds skipped).

Cost of the laziness: a process's first messages compile the alternatives their characters
need (tens of milliseconds for those holding the messenger names' big classes; about 2.6 s in
all over the whole corpus, once per process).  Compiling all at import would make every start
pay it; a server warms them in a background thread instead (``detect.warm``, started by
``moderation.setup``), so its first chats do not stall the event loop.  Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
MAX_CLASS = 4096  # a class wider than this (a negated one, a category) makes no gate
MAX_PAIRS = 1 << 16  # pairs of characters whose patterns to try are kept


class _Open(Exception):
    """The pattern may start with anything: no gate."""


def _first(items: Any) -> tuple[set[str], bool]:
    """The characters a sequence's match may start with, and whether it may match empty."""
    chars: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is sre.LITERAL:
            chars.add(chr(av))
            return chars, False
        if op is sre.IN:
            chars |= _class(av)
            return chars, False
        if op is sre.SUBPATTERN:
            sub, nullable = _first(av[-1])
        elif op is sre.BRANCH:
            sub, nullable = set(), False
            for alternative in av[1]:
                more, empty = _first(alternative)
                sub |= more
                nullable = nullable or empty
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            sub, nullable = _first(av[2])
            nullable = nullable or av[0] == 0
        else:
            raise _Open
        chars |= sub
        if not nullable:
            return chars, False
    return chars, True


# ``\s`` in a str pattern: what ``str.isspace`` calls space (none is above U+3000).
_SPACES = frozenset(chr(c) for c in range(0x3001) if chr(c).isspace())


def _class(items: Any) -> frozenset[str]:
    """The characters of a class (memoized: the same big classes recur in many patterns)."""
    key = tuple(items)
    found = _CLASSES.get(key)
    if found is None:
        found = _CLASSES[key] = frozenset(_class_chars(key))
    return found


_CLASSES: dict[tuple[Any, ...], frozenset[str]] = {}


def _class_chars(items: Any) -> set[str]:
    out: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            out.add(chr(av))
        elif op is sre.CATEGORY and av is sre.CATEGORY_SPACE:
            out |= _SPACES
        elif op is sre.RANGE and av[1] - av[0] < MAX_CLASS:
            out.update(chr(c) for c in range(av[0], av[1] + 1))
        else:
            raise _Open
    return out


def alternatives(source: str) -> list[str]:
    """The top-level alternatives of a pattern's source, in order, with a group that spans a
    whole alternative (``(?:a|b)``) opened up: ``(?:a|b)|c`` gives ``a``, ``b``, ``c``."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":  # a class: skip to its closing bracket (one first, or escaped, is literal)
            i += 2 if source[i + 1 : i + 2] == "^" else 1
            i += 1 if source[i : i + 1] == "]" else 0
            while source[i] != "]":
                i += 2 if source[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    out: list[str] = []
    for part in parts:
        inner = _whole_group(part)
        out.extend([part] if inner is None else alternatives(inner))
    return out


def _whole_group(part: str) -> str | None:
    """The inside of ``(?:…)`` when that group is the whole of ``part`` (no quantifier)."""
    if not part.startswith("(?:") or not part.endswith(")"):
        return None
    depth = 0
    i = 0
    while i < len(part):
        c = part[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 2 if part[i + 1 : i + 2] == "^" else 1
            i += 1 if part[i : i + 1] == "]" else 0
            while part[i] != "]":
                i += 2 if part[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return part[3:-1] if i == len(part) - 1 else None
        i += 1
    return None


def _starts(parsed: Any) -> set[str] | None:
    """The characters a match of a parsed source may start with; ``None`` if any, or empty."""
    try:
        chars, nullable = _first(parsed)
    except _Open:
        return None
    return None if nullable or not chars else chars


# The first two characters a match may take: paths of character sets (``None``: any character).
# A path shorter than two means the match may end there.  Lookarounds are skipped, so the paths
# are a superset of what can match: they tell only where a pattern cannot.
_Path = tuple[frozenset[str] | None, ...]
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_UNKNOWN: set[_Path] = {(), (None, None)}  # any op not followed: may be empty, may be anything


def _join(heads: set[_Path], tails: set[_Path]) -> set[_Path]:
    return {h if len(h) >= 2 else (h + t)[:2] for h in heads for t in tails}


def _paths(items: Any) -> set[_Path]:
    paths: set[_Path] = {()}
    for op, av in items:
        if all(len(p) >= 2 for p in paths):
            break
        if op not in _ZERO_WIDTH:
            paths = _join(paths, _item_paths(op, av))
    return paths


def _item_paths(op: Any, av: Any) -> set[_Path]:
    if op is sre.LITERAL:
        return {(frozenset(chr(av)),)}
    if op is sre.IN:
        try:
            return {(_class(av),)}
        except _Open:
            return {(None,)}
    if op is sre.SUBPATTERN:
        return _paths(av[-1])
    if op is sre.BRANCH:
        return set().union(*(_paths(alternative) for alternative in av[1]))
    if op in _REPEATS:
        once = _paths(av[2])
        return {()} | once | _join(once, once)  # none, one or two times (or more: a superset)
    return _UNKNOWN


def _seconds(parsed_sources: list[Any]) -> dict[str, frozenset[str] | None] | None:
    """For each character a match may start with, the characters that may follow it (``None``:
    any, or the match may end there); ``None`` when a path does not say its first character."""
    out: dict[str, frozenset[str] | None] = {}
    for parsed in parsed_sources:
        for path in _paths(parsed):
            if not path or path[0] is None:
                return None
            second = path[1] if len(path) > 1 else None
            for c in path[0]:
                if c in out and (out[c] is None or second is None):
                    out[c] = None
                elif c in out:
                    out[c] = out[c] | second  # type: ignore[operator]
                else:
                    out[c] = second
    return out


class Gated:
    """``pattern`` with ``finditer`` tried only where a match can start (the same matches)."""

    __slots__ = (
        "_alternatives",
        "_by_char",
        "_by_subset",
        "_flags",
        "_gate",
        "_seconds",
        "_starts",
        "pattern",
    )

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._flags = pattern.flags
        self._alternatives = alternatives(pattern.pattern)
        parsed = [_parser.parse(a, pattern.flags) for a in self._alternatives]  # parsed once
        starts = [_starts(p) for p in parsed]
        self._gate: re.Pattern[str] | None = None
        self._starts: list[set[str]] = []
        self._by_char: dict[str, re.Pattern[str]] = {}
        # Characters that start the same alternatives share one pattern (the ~100 characters
        # read wei start the same ones); each is compiled on first use, as a big class makes a
        # compile cost tens of milliseconds and most never occur.
        self._by_subset: dict[tuple[int, ...], re.Pattern[str]] = {}
        self._seconds: dict[str, frozenset[str] | None] | None = None
        if any(s is None for s in starts):
            return  # an alternative may start anywhere: no gate
        self._starts = [s for s in starts if s is not None]
        chars = set().union(*self._starts)
        self._gate = re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")
        self._seconds = _seconds(parsed)

    def may_start(self, pair: str) -> bool:
        """Whether a match may start with ``pair`` (its first character, and the next one if
        any): ``False`` only where none can."""
        if self._seconds is None:
            return True
        if pair[0] not in self._seconds:
            return False
        second = self._seconds[pair[0]]
        return second is None or len(pair) < 2 or pair[1] in second

    def _for(self, char: str) -> re.Pattern[str]:
        """The alternatives that can start with ``char``, as one pattern, in order."""
        subset = tuple(i for i, s in enumerate(self._starts) if char in s)
        pattern = self._by_subset.get(subset)
        if pattern is None:
            source = "|".join(f"(?:{self._alternatives[i]})" for i in subset)
            pattern = self._by_subset[subset] = re.compile(source, self._flags)
        self._by_char[char] = pattern
        return pattern

    def warm(self) -> int:
        """Compile now what the scans would compile on first use: the alternatives of every
        character a match can start with.  Returns how many patterns it compiled."""
        if self._gate is None:
            return 0
        before = len(self._by_subset)
        for char in sorted(set().union(*self._starts)):
            if char not in self._by_char:
                self._for(char)
        return len(self._by_subset) - before

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._gate is None:
            yield from self.pattern.finditer(text)
            return
        by_char = self._by_char
        search = self._gate.search
        pos = 0
        while (candidate := search(text, pos)) is not None:
            at = candidate.start()
            char = text[at]
            m = (by_char.get(char) or self._for(char)).match(text, at)
            if m is None:
                pos = at + 1
                continue
            yield m
            pos = m.end() if m.end() > m.start() else m.end() + 1

    def search(self, text: str) -> re.Match[str] | None:
        """The first match of ``finditer`` (without making an iterator)."""
        if self._gate is None:
            return self.pattern.search(text)
        by_char = self._by_char
        for candidate in self._gate.finditer(text):
            at = candidate.start()
            char = text[at]
            if (m := (by_char.get(char) or self._for(char)).match(text, at)) is not None:
                return m
        return None


class GatedSet:
    """Several gated patterns scanned in one pass: one search finds the characters any of them
    can start with, and at each only the patterns (and their alternatives) that can start there
    are tried.  ``finditer_each`` gives, for each pattern in order, the matches its own
    ``finditer`` gives (each pattern's matches do not overlap one another; another pattern's
    may)."""

    __slots__ = ("_by_pair", "_gate", "_gated")

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self._gated = [Gated(p) for p in patterns]
        self._gate: re.Pattern[str] | None = None
        # What to try at a position, by the two characters there (the second tells, inside a
        # run of digits, that no 1起/1次 can start at its 1): bounded, cleared when full.
        self._by_pair: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        if any(g._gate is None for g in self._gated):
            return  # one may start anywhere: each pattern is scanned alone
        chars = set().union(*(s for g in self._gated for s in g._starts))
        self._gate = re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")

    def warm(self) -> int:
        """``Gated.warm`` for each pattern; how many patterns it compiled."""
        return sum(g.warm() for g in self._gated)

    def _for(self, pair: str) -> list[tuple[int, re.Pattern[str]]]:
        """The patterns whose match may start with ``pair``: (their index, the alternatives that
        can start with its first character)."""
        found = [
            (i, g._by_char.get(pair[0]) or g._for(pair[0]))
            for i, g in enumerate(self._gated)
            if any(pair[0] in s for s in g._starts) and g.may_start(pair)
        ]
        if len(self._by_pair) >= MAX_PAIRS:
            self._by_pair.clear()
        self._by_pair[pair] = found
        return found

    def finditer_each(self, text: str) -> list[list[re.Match[str]]]:
        if self._gate is None:
            return [list(g.finditer(text)) for g in self._gated]
        out: list[list[re.Match[str]]] = [[] for _ in self._gated]
        after = [0] * len(self._gated)  # where each pattern's next match may start
        by_pair = self._by_pair
        for candidate in self._gate.finditer(text):  # every position a match may start at
            pos = candidate.start()
            pair = text[pos : pos + 2]
            tries = by_pair.get(pair)
            for i, pattern in self._for(pair) if tries is None else tries:
                if pos < after[i]:
                    continue
                m = pattern.match(text, pos)
                if m is not None:
                    out[i].append(m)
                    after[i] = m.end() if m.end() > pos else pos + 1
        return out
