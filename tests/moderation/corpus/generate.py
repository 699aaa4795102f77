"""Writes the labelled moderation corpus (``*.tsv`` next to this file).

    .venv/bin/python -m tests.moderation.corpus.generate

Every line is ``label<TAB>kind<TAB>text``: ``label`` is a detection category or ``benign``;
``kind`` is the evasion (``plain``, ``fullwidth``, ``zero_width``, ``chinese``, ``circled``,
``keycap``, ``spaced``, ``dotted``, ``lookalike``, ``split``, ``mixed_script``, …) or, for
benign lines, what they look like (``price``, ``duration``, ``date``, ``time``, ``order_id``,
``score``, ``rank``, ``chat``, ``emotional``, ``near_miss`` …).  A line of several messages
from one sender, sent a few seconds apart, separates them with ``␞``.

Values are made here, valid by construction (mobile prefixes, GB 11643 check characters, Luhn
digits) and random under a fixed seed, so the files are the same on every run.  Hand-written
lines are in the modules next to this one, and the generator is the one source: edit them, re-run
it, commit both.  ``values`` makes the numbers and ids (and holds the one seeded ``rng``),
``evasions`` disguises digits, ``positives`` and ``worded`` make the flagged lines, ``everyday``,
``handwritten`` and ``benign`` hold the rest; ``conduct`` has sexual, minor and upsell lines.
"""

from __future__ import annotations

from pathlib import Path

from tests.moderation.corpus import conduct, phrasings
from tests.moderation.corpus.benign import BENIGN, benign_splits, generated_benign, platform_ids
from tests.moderation.corpus.everyday import EVERYDAY
from tests.moderation.corpus.handwritten import HANDWRITTEN
from tests.moderation.corpus.positives import (
    bank_cards,
    emails_and_urls,
    id_cards,
    messenger_ids,
    phones,
    splits,
)
from tests.moderation.corpus.worded import CONTACT_LINES, OFFLINE_LINES, PAYMENT_LINES, worded

HERE = Path(__file__).resolve().parent


def main() -> None:
    files: dict[str, list[tuple[str, str, str]]] = {
        "phone.tsv": phones(),
        "id_card.tsv": id_cards(),
        "bank_card.tsv": bank_cards(),
        "messenger_id.tsv": messenger_ids(),
        "email_url.tsv": emails_and_urls(),
        "contact_request.tsv": worded("contact_request", CONTACT_LINES),
        "offline_meeting.tsv": worded("offline_meeting", OFFLINE_LINES),
        "off_platform_payment.tsv": worded("off_platform_payment", PAYMENT_LINES),
        "split.tsv": splits(),
        "sexual.tsv": conduct.sexual(),
        "minor.tsv": conduct.minors(),
        "upsell.tsv": conduct.upsells(),
        "phrasings.tsv": phrasings.lines(),
        "handwritten.tsv": [(label, "handwritten", text) for label, text in HANDWRITTEN],
        "benign.tsv": [
            ("benign", kind, t) for kind, block in BENIGN.items() for t in block.splitlines() if t
        ]
        + [("benign", "everyday", t) for t in EVERYDAY.splitlines() if t]
        + platform_ids()
        + generated_benign()
        + benign_splits()
        + conduct.benign(),
    }
    for name, lines in files.items():
        for _label, _kind, text in lines:
            assert "\t" not in text and "\n" not in text, text
        (HERE / name).write_text(
            "".join(f"{label}\t{kind}\t{text}\n" for label, kind, text in lines), encoding="utf-8"
        )
    print(f"wrote {sum(len(v) for v in files.values())} lines to {HERE}")


if __name__ == "__main__":
    main()
