"""Fresh evaluation sets for chat detection (``*.jsonl`` here), written *before* the rules they
score were changed: each measures, once, how the detector generalises to phrasings it has not
seen.  ``HISTORY.md`` records every scoring.  The set of the next round waits unread in
``heldout/`` (none now: see its README); once scored it moves here and later rounds tune on it
like the labelled corpus (``tests/moderation/corpus``) and the development set (``dev.jsonl``).

A line is JSON: ``{"label", "kind", "text"}`` for one message (``"role"``: the sender,
``customer`` unless given), or ``{"label", "kind", "messages": [[role, text], ...]}`` for a
conversation, checked in order through one ``Conversation`` (messages 5 s apart).

What counts as stopped, per label:

- a detection category (``phone``, ``messenger_id``, ``contact_request``, ``offline_meeting``,
  ``sexual``, …): some message of the line is not allowed as written (``stopped``); the line is
  also counted as ``labelled`` when the category itself was among those found;
- ``minor``: the ``minor`` category was found;
- ``minor_combo``: some message was blocked at high priority;
- ``upsell``: the last message carries the ``upsell`` category;
- ``benign``: a false positive when any message is not allowed or carries any category.

    .venv/bin/python -m tests.moderation.fresh tests/moderation/fresh/fresh1.jsonl
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from moderation.detect import Action, Decision, Detector
from moderation.window import Conversation

HERE = Path(__file__).resolve().parent
BENIGN = "benign"
SECONDS_BETWEEN_MESSAGES = 5.0


@dataclass(frozen=True, slots=True)
class Case:
    label: str
    kind: str
    messages: tuple[tuple[str, str], ...]  # (sender role, text)
    source: str


def load(path: Path) -> list[Case]:
    cases = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        row = json.loads(raw)
        if "messages" in row:
            messages = tuple((role, text) for role, text in row["messages"])
        else:
            messages = ((row.get("role", "customer"), row["text"]),)
        cases.append(Case(row["label"], row.get("kind", ""), messages, f"{path.name}:{number}"))
    return cases


def talk(detector: Detector, messages: Iterable[tuple[str, str]]) -> list[Decision]:
    """Each (sender role, text) checked in order through one ``Conversation``, messages
    ``SECONDS_BETWEEN_MESSAGES`` apart."""
    chat = Conversation()
    return [
        detector.check(
            text, sender_role=role, now_s=i * SECONDS_BETWEEN_MESSAGES, window=chat.window(role)
        )
        for i, (role, text) in enumerate(messages)
    ]


def run(detector: Detector, case: Case) -> list[Decision]:
    return talk(detector, case.messages)


def _categories(decision: Decision) -> set[str]:
    return {c.value for c in decision.categories}


def stopped(case: Case, decisions: list[Decision]) -> tuple[bool, bool]:
    """(stopped, labelled): see the module docstring."""
    found = set().union(*(_categories(d) for d in decisions))
    if case.label == "minor":
        return "minor" in found, "minor" in found
    if case.label == "minor_combo":
        hit = any(
            d.action is Action.BLOCK and getattr(d, "priority", "") == "high" for d in decisions
        )
        return hit, hit
    if case.label == "upsell":
        hit = "upsell" in _categories(decisions[-1])
        return hit, hit
    return any(d.action is not Action.ALLOW for d in decisions), case.label in found


@dataclass
class Score:
    lines: Counter[str] = field(default_factory=Counter)
    stopped: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)
    missed: list[Case] = field(default_factory=list)
    false_positives: list[tuple[Case, set[str]]] = field(default_factory=list)

    def recall(self, label: str) -> float:
        return self.stopped[label] / self.lines[label] if self.lines[label] else 1.0

    @property
    def fp_rate(self) -> float:
        n = self.lines[BENIGN]
        return len(self.false_positives) / n if n else 0.0

    def table(self) -> str:
        out = ["| label | lines | stopped | recall | right category |", "|---|---|---|---|---|"]
        for label in sorted(self.lines):
            if label == BENIGN:
                continue
            n = self.lines[label]
            out.append(
                f"| {label} | {n} | {self.stopped[label]} | {self.recall(label):.1%} "
                f"| {self.labelled[label]} ({self.labelled[label] / n:.0%}) |"
            )
        n = self.lines[BENIGN]
        fp = len(self.false_positives)
        out.append(f"| benign | {n} | {fp} flagged | FP rate {self.fp_rate:.1%} | |")
        return "\n".join(out)


def score(detector: Detector, cases: list[Case]) -> Score:
    result = Score()
    for case in cases:
        decisions = run(detector, case)
        result.lines[case.label] += 1
        if case.label == BENIGN:
            found = set().union(*(_categories(d) for d in decisions))
            if found or any(d.action is not Action.ALLOW for d in decisions):
                result.false_positives.append((case, found))
            continue
        hit, right = stopped(case, decisions)
        result.stopped[case.label] += hit
        result.labelled[case.label] += right
        if not hit:
            result.missed.append(case)
    return result
