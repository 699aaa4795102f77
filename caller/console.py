"""The caller's console: status lines to a terminal, a JSON summary at the end.

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import shutil
from typing import TextIO


class Console:
    """Event lines and a live status line (carriage-return updated, cut to the terminal's
    width) on stderr; the report of each session on stdout, unless stdout carries JSON."""

    def __init__(self, out: TextIO, err: TextIO, *, live: bool, json_out: bool) -> None:
        self._out = err if json_out else out
        self._err = err
        self._live = live
        self._shown = False

    def say(self, text: str) -> None:
        self._clear()
        print(f"peiliao caller: {text}", file=self._err, flush=True)

    def report(self, text: str) -> None:
        self._clear()
        print(text, file=self._out, flush=True)

    def status(self, text: str) -> None:
        if self._live:
            width = shutil.get_terminal_size().columns - 1
            self._err.write("\r" + text[:width] + "\x1b[K")
            self._err.flush()
            self._shown = True

    def end_status(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._shown:
            self._err.write("\r\x1b[K")
            self._err.flush()
            self._shown = False
