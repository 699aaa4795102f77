"""The labelled moderation corpus (``*.tsv``, written by ``generate.py``) and its scoring.

Used by ``tests/moderation/test_detect.py`` (recall and false positives, asserted) and by
``bench/moderation.py`` (throughput over the same lines).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from moderation.detect import Action, Category, Detector
from moderation.window import Conversation

HERE = Path(__file__).resolve().parent
SPLIT = "␞"
BENIGN = "benign"
SECONDS_BETWEEN_PARTS = 5.0


@dataclass(frozen=True, slots=True)
class Line:
    label: str  # a Category value or "benign"
    kind: str  # the evasion, or what a benign line looks like
    messages: tuple[str, ...]  # one, or several sent in a row by one sender
    source: str  # file:line


def load() -> list[Line]:
    lines = []
    for path in sorted(HERE.glob("*.tsv")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            label, kind, text = raw.split("\t", 2)
            assert label == BENIGN or label in set(Category), f"{path.name}:{number}: {label}"
            lines.append(Line(label, kind, tuple(text.split(SPLIT)), f"{path.name}:{number}"))
    return lines


def categories_of(detector: Detector, line: Line, sender_role: str = "companion") -> set[str]:
    """What the detector flags anywhere in the line (its messages through one window)."""
    window = Conversation().window("sender")
    found: set[str] = set()
    for i, text in enumerate(line.messages):
        decision = detector.check(
            text, sender_role=sender_role, now_s=i * SECONDS_BETWEEN_PARTS, window=window
        )
        if decision.action is not Action.ALLOW:
            found.update(decision.categories)
    return found


@dataclass
class Score:
    lines: Counter[str] = field(default_factory=Counter)  # per label
    caught: Counter[str] = field(default_factory=Counter)
    missed: dict[str, list[Line]] = field(default_factory=lambda: defaultdict(list))
    false_positives: list[tuple[Line, set[str]]] = field(default_factory=list)
    benign_by_kind: Counter[str] = field(default_factory=Counter)
    fp_by_kind: Counter[str] = field(default_factory=Counter)

    def recall(self, label: str) -> float:
        return self.caught[label] / self.lines[label] if self.lines[label] else 1.0

    @property
    def benign_lines(self) -> int:
        return self.lines[BENIGN]

    @property
    def fp_rate(self) -> float:
        return len(self.false_positives) / self.benign_lines if self.benign_lines else 0.0

    def table(self) -> str:
        rows = [("category", "lines", "caught", "recall")]
        for c in Category:
            rows.append((c.value, str(self.lines[c]), str(self.caught[c]), f"{self.recall(c):.1%}"))
        rows.append(("", "", "", ""))
        rows.append(
            (
                "benign (all)",
                str(self.benign_lines),
                f"{len(self.false_positives)} FP",
                f"{self.fp_rate:.2%}",
            )
        )
        for kind in sorted(self.benign_by_kind):
            n, fp = self.benign_by_kind[kind], self.fp_by_kind[kind]
            rows.append((f"  benign {kind}", str(n), f"{fp} FP", f"{fp / n:.1%}"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        out = []
        for i, r in enumerate(rows):
            out.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
            if i == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)

    def to_json(self) -> dict[str, object]:
        return {
            "recall": {c.value: round(self.recall(c), 4) for c in Category},
            "lines": {c.value: self.lines[c] for c in Category},
            "benign_lines": self.benign_lines,
            "false_positives": len(self.false_positives),
            "false_positive_rate": round(self.fp_rate, 4),
        }


def score(detector: Detector, lines: list[Line] | None = None) -> Score:
    result = Score()
    for line in lines if lines is not None else load():
        found = categories_of(detector, line)
        result.lines[line.label] += 1
        if line.label == BENIGN:
            result.benign_by_kind[line.kind] += 1
            if found:
                result.false_positives.append((line, found))
                result.fp_by_kind[line.kind] += 1
        elif line.label in found:
            result.caught[line.label] += 1
        else:
            result.missed[line.label].append(line)
    return result
