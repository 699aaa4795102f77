"""Scores the detector on evaluation sets: ``python -m tests.moderation.fresh FILE...``
(prints a Markdown table per file, then every miss and false positive)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from moderation.detect import DEFAULT_MODEL, Detector
from moderation.ngram import Model
from tests.moderation.fresh import load, score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.moderation.fresh")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--quiet", action="store_true", help="the tables only")
    parser.add_argument("--model", type=Path, help="n-gram weights other than the shipped ones")
    parser.add_argument("--no-model", action="store_true", help="the rules alone")
    args = parser.parse_args(argv)
    model = None if args.no_model else Model.load(args.model) if args.model else DEFAULT_MODEL
    detector = Detector(os.urandom(32), model=model)
    for path in args.files:
        result = score(detector, load(path))
        print(f"## {path.name}\n\n{result.table()}\n")
        if not args.quiet:
            for case in result.missed:
                print(f"missed {case.label}/{case.kind}: {case.messages} ({case.source})")
            for case, found in result.false_positives:
                print(f"false positive {sorted(found)}: {case.messages} ({case.source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
