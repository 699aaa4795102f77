"""``peiliao moderate``: checks UTF-8 lines from stdin and writes one JSON line per input line,
``{"action": "allow|mask|block|review", "categories": [...]}`` (with ``"text"``, the text to
deliver, when asked, ``"warn_receiver"`` when the sender is a companion, ``"flags"`` when there
are any and ``"priority"`` when it is not normal), for audits and benchmarks.  Invalid UTF-8 is
replaced, not fatal."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import BinaryIO, TextIO

from moderation.detect import COMPANION, Detector, Policy, Priority
from moderation.window import SenderWindow

SECONDS_BETWEEN_LINES = 1.0  # with ``window``: lines are one sender's messages this far apart
FLUSH_EVERY_LINES = 256


def moderate(
    lines: Iterable[bytes],
    out: TextIO,
    *,
    policy: Policy,
    sender_role: str = "customer",
    with_text: bool = False,
    window: bool = False,
    flush_each: bool = False,
) -> int:
    """Writes a decision per line; returns how many lines were read."""
    detector = Detector(os.urandom(32), policy)  # hashes are not printed: any key will do
    sender = SenderWindow() if window else None
    count = 0
    for raw in lines:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        decision = detector.check(
            text, sender_role=sender_role, now_s=count * SECONDS_BETWEEN_LINES, window=sender
        )
        row: dict[str, object] = {
            "action": decision.action.value,
            "categories": [c.value for c in decision.categories],
        }
        if with_text:
            row["text"] = decision.text
        if sender_role == COMPANION:
            row["warn_receiver"] = decision.warn_receiver
        if decision.flags:
            row["flags"] = [f.value for f in decision.flags]
        if decision.priority is not Priority.NORMAL:
            row["priority"] = decision.priority.value
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
        if flush_each or count % FLUSH_EVERY_LINES == 0:
            out.flush()
    out.flush()
    return count


def run(
    stdin: BinaryIO,
    stdout: TextIO,
    *,
    policy_spec: str = "",
    sender_role: str = "customer",
    with_text: bool = False,
    window: bool = False,
) -> int:
    """The command: 0; exits 1 with a message on a bad ``--policy``."""
    try:
        policy = Policy.parse(policy_spec)
    except ValueError as exc:
        raise SystemExit(f"peiliao: {exc}") from None
    moderate(
        stdin,
        stdout,
        policy=policy,
        sender_role=sender_role,
        with_text=with_text,
        window=window,
        flush_each=stdout.isatty(),
    )
    return 0
