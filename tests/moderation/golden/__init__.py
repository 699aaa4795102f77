"""Every decision of the chat detector, recorded: a regression check for work that must not
change what the detector decides (a speed-up, a refactoring).

``records()`` runs the detector over fixed workloads and returns one line per message: the
workload, the message's place, action, categories, flags, priority, queue, warn_receiver, the
masked text and the keyed hashes of the findings (under a fixed key).  ``decisions.jsonl`` holds
them as recorded at a known-good commit; ``test_decisions_unchanged`` compares.

Workloads: every corpus message alone (as a companion and as a customer), every corpus line
through one sender window (as ``tests.moderation.corpus.categories_of`` runs it), the
conversations of ``bench.moderation``'s mix (its first ``MIX_MESSAGES``), and the development
and fresh sets ``dev``, ``fresh1``, ``fresh2`` run as their scorer runs them.  The later held-out
sets are not read here.

    .venv/bin/python -m tests.moderation.golden            # rewrite decisions.jsonl
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from moderation.detect import Decision, Detector
from moderation.window import Conversation
from tests.moderation import fresh
from tests.moderation.corpus import SECONDS_BETWEEN_PARTS, load

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "decisions.jsonl"
KEY = b"golden-decisions-fixed-key-000000"
FRESH_SETS = ("dev.jsonl", "fresh1.jsonl", "fresh2.jsonl")  # never the held-out ones
MIX_MESSAGES = 6000


def _record(where: str, d: Decision, text: str) -> str:
    """One decision as a JSON line (the delivered text only when it differs from the input)."""
    return json.dumps(
        [
            where,
            d.action.value,
            [c.value for c in d.categories],
            [f.value for f in d.flags],
            d.priority.value,
            d.queue,
            d.warn_receiver,
            d.reason,
            None if d.text == text else d.text,
            [f"{f.category.value}:{f.value_hash[:16]}" for f in d.findings],
        ],
        ensure_ascii=False,
    )


def records() -> Iterator[str]:
    from bench.moderation import mix  # the bench's own conversations

    detector = Detector(KEY)
    lines = load()
    for role in ("companion", "customer"):
        for line in lines:
            for i, text in enumerate(line.messages):
                d = detector.check(text, sender_role=role)
                yield _record(f"alone/{role}/{line.source}/{i}", d, text)
    for line in lines:
        window = Conversation().window("sender")
        for i, text in enumerate(line.messages):
            d = detector.check(
                text, sender_role="companion", now_s=i * SECONDS_BETWEEN_PARTS, window=window
            )
            yield _record(f"window/{line.source}/{i}", d, text)
    for i, (text, window, now_s) in enumerate(mix(lines, MIX_MESSAGES)()):
        d = detector.check(text, sender_role="companion", now_s=now_s, window=window)
        yield _record(f"mix/{i}", d, text)
    for name in FRESH_SETS:
        for case in fresh.load(HERE.parent / "fresh" / name):
            decisions = fresh.run(detector, case)
            for i, ((_, text), d) in enumerate(zip(case.messages, decisions, strict=True)):
                yield _record(f"{case.source}/{i}", d, text)
                yield _record(f"{case.source}/alone/{i}", detector.check(text), text)
