"""A learned check beside the rules: a linear model over the character n-grams of the
normalized text, for the word categories (contact requests, messenger IDs, offline meetings,
payment outside the platform, sexual content, minors).

The rules say what a phrasing is only when their lexicon has seen its shape; a writer they were
not tuned on words the same request differently (``tests/moderation/fresh/HISTORY.md``).  The
model reads which one- to three-character pieces a message is made of, weighted by how often
each piece came in the labelled lines (the corpus, every old evaluation set and, since round 11,
2,000 synthetic lines of a blind writer), so a new
phrasing that shares pieces with old ones scores high without a rule for it.

Two parts: a binary score (logistic: some word category or benign) and, for a message above
``threshold``, the category (the largest of one linear score per category).  The weights are
trained offline (``python -m tests.moderation.model``) and shipped in ``ngram.json`` next to
this module, read once at import.  Pure otherwise: no clock, no network.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHTS = Path(__file__).with_name("ngram.json")
ORDERS = (1, 2, 3)
MIN_HAN = 5  # a shorter message (好, 在吗) has too few pieces to judge: the rules only
_HAN = re.compile(r"[\u3400-\u9fff]")


def grams(text: str, orders: tuple[int, ...] = ORDERS) -> list[str]:
    """Every piece of ``text`` of each length in ``orders`` (repeats kept)."""
    n = len(text)
    return [text[i : i + k] for k in orders for i in range(n - k + 1)]


@dataclass(frozen=True, slots=True)
class Model:
    bias: float
    threshold: float
    weights: dict[str, float]  # binary: a word category (> 0) or benign
    categories: tuple[str, ...]
    category_bias: tuple[float, ...]
    category_weights: dict[str, tuple[float, ...]]

    def score(self, text: str) -> float:
        """The probability that normalized ``text`` holds a word category."""
        pieces = grams(text)
        if not pieces:
            return 0.0
        get = self.weights.get
        z = self.bias + sum([get(g, 0.0) for g in pieces]) / math.sqrt(len(pieces) + 1)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def category(self, text: str) -> str:
        """The word category normalized ``text`` most looks like."""
        totals = list(self.category_bias)
        get = self.category_weights.get
        for g in grams(text):
            if (row := get(g)) is not None:
                for i, w in enumerate(row):
                    totals[i] += w
        return self.categories[max(range(len(totals)), key=totals.__getitem__)]

    def flags(self, text: str) -> str | None:
        """The category the model finds in normalized ``text``, or ``None``.  Text in
        another script than Chinese (under a quarter of its characters Chinese) is not judged: the
        model learned Chinese chat (English prose, read as pieces of IDs, scored high), and the
        rules read the English cues; nor is one of fewer than ``MIN_HAN`` Chinese characters."""
        han = len(_HAN.findall(text))
        if han < MIN_HAN or han * 4 < len(text) - text.count(" "):
            return None
        if self.score(text) < self.threshold:
            return None
        return self.category(text)

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> Model:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        """The model of weights as ``tests.moderation.model.train`` returns them."""
        categories = tuple(data["categories"])
        return cls(
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            weights={g: float(w) for g, w in data["weights"].items()},
            categories=categories,
            category_bias=tuple(float(b) for b in data["category_bias"]),
            category_weights={g: tuple(row) for g, row in data["category_weights"].items()},
        )
