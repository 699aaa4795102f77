"""A faster ``finditer`` for the big alternations of cue words: the characters a match can
start with are worked out from the pattern once, a character class finds them (a scan in C),
and the pattern is tried only there.

Python's ``re`` skips ahead by itself only when every alternative starts with a plain
character; the cue patterns start with groups, classes and look-behinds, so a search tries all
alternatives at every position of the message.  Most chat characters cannot start any of them.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
MAX_CLASS = 4096  # a class wider than this (a negated one, a category) makes no gate


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


def _class(items: Any) -> set[str]:
    out: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            out.add(chr(av))
        elif op is sre.RANGE and av[1] - av[0] < MAX_CLASS:
            out.update(chr(c) for c in range(av[0], av[1] + 1))
        else:
            raise _Open
    return out


class Gated:
    """``pattern`` with ``finditer`` tried only where a match can start (the same matches)."""

    __slots__ = ("_gate", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        try:
            chars, nullable = _first(_parser.parse(pattern.pattern, pattern.flags))
        except _Open:
            chars, nullable = set(), True
        gate = "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"
        self._gate = None if nullable or not chars else re.compile(gate)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._gate is None:
            yield from self.pattern.finditer(text)
            return
        match = self.pattern.match
        search = self._gate.search
        pos = 0
        while (candidate := search(text, pos)) is not None:
            m = match(text, candidate.start())
            if m is None:
                pos = candidate.start() + 1
                continue
            yield m
            pos = m.end() if m.end() > m.start() else m.end() + 1

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)
