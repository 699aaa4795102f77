"""Leave-one-set-out validation of the n-gram model (``tests/moderation/model.py``): for each
set named, a model is trained without it, then the set is scored with the full detector (the
rules and that model) and with the model alone.

    .venv/bin/python -m tests.moderation.loso fresh8 fresh9 fresh10 [--no-synth] [--old-sets]

*Model alone*: a line counts as found when the model flags any of its messages (each message
normalized and blanked as the detector does it), over the word categories (``minor_combo`` with
them) and benign lines only: what the model sees, whatever the rules would have found.
``--old-sets`` trains on the sets the model was trained on before round 11 (dev, fresh1–8) less
the one left out; ``--no-synth`` leaves the synthetic training lines (``tests/moderation/synth``)
out.  Never run it on a held-out set.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

from moderation.detect import Detector
from moderation.ngram import Model
from moderation.normalize import normalize
from moderation.numbers import blank_benign
from tests.moderation import fresh, model

OLD_SETS = ("dev", *(f"fresh{i}" for i in range(1, 9)))
MODEL_LABELS = frozenset({*model.WORD_CATEGORIES, "minor_combo", fresh.BENIGN})


def model_alone(m: Model, cases: list[fresh.Case]) -> tuple[Counter[str], Counter[str]]:
    """(lines, found) per label, for the lines the model is meant to judge."""
    lines: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for case in cases:
        if case.label not in MODEL_LABELS:
            continue
        lines[case.label] += 1
        texts = (normalize(text).text for _, text in case.messages)
        found[case.label] += any(m.flags(blank_benign(t)) for t in texts)
    return lines, found


def evaluate(name: str, m: Model) -> dict[str, object]:
    cases = fresh.load(fresh.HERE / f"{name}.jsonl")
    full = fresh.score(Detector(os.urandom(32), model=m), cases)
    lines, found = model_alone(m, cases)
    positives = sum(n for label, n in full.lines.items() if label != fresh.BENIGN)
    word = sum(n for label, n in lines.items() if label != fresh.BENIGN)
    return {
        "set": name,
        "detector": sum(full.stopped.values()),
        "positives": positives,
        "benign_flagged": len(full.false_positives),
        "benign": full.lines[fresh.BENIGN],
        "per_label": {k: f"{full.stopped[k]}/{full.lines[k]}" for k in sorted(full.lines)},
        "model": sum(v for label, v in found.items() if label != fresh.BENIGN),
        "model_positives": word,
        "model_benign": found[fresh.BENIGN],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.moderation.loso")
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--no-synth", action="store_true")
    parser.add_argument("--old-sets", action="store_true")
    parser.add_argument("--threshold", type=float, default=model.THRESHOLD)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for name in args.sets:
        sets = OLD_SETS if args.old_sets else model.TRAINING_SETS
        data = model.lines(
            frozenset({name}), sets=sets, synth=not args.no_synth and not args.old_sets
        )
        m = Model.from_dict(model.train(data, args.threshold))
        result = evaluate(name, m)
        results.append(result)
        print(
            f"{name}: detector {result['detector']}/{result['positives']}, benign "
            f"{result['benign_flagged']}/{result['benign']}; model alone "
            f"{result['model']}/{result['model_positives']}, benign "
            f"{result['model_benign']}/{result['benign']}  {result['per_label']}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
