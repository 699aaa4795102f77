"""The detector decides exactly as recorded (``tests/moderation/golden``): action, categories,
flags, priority, masked text and findings, message by message."""

from __future__ import annotations

import pytest

from tests.moderation.golden import RECORDED, records


@pytest.mark.timeout(120)
def test_every_recorded_decision_is_unchanged() -> None:
    recorded = RECORDED.read_text(encoding="utf-8").splitlines()
    now = list(records())
    changed = [(old, new) for old, new in zip(recorded, now, strict=False) if old != new]
    assert len(now) == len(recorded), f"{len(now)} decisions, {len(recorded)} recorded"
    assert not changed, f"{len(changed)} decisions changed, first: {changed[:3]}"
