"""Rewrites ``decisions.jsonl`` from the detector as it is now (run only on a known-good commit)."""

from tests.moderation.golden import RECORDED, records

if __name__ == "__main__":
    RECORDED.write_text("".join(r + "\n" for r in records()), encoding="utf-8")
    print(f"wrote {RECORDED}")
