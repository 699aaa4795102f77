"""What every tuning round's tests (``test_round*.py``) check of its lines, with the rules alone
(the ``rules`` fixture of this folder's conftest: no n-gram model, so a rule is what stops each
line): a widened class's wording stopped with its category, a look-alike allowed with no
category at all."""

from __future__ import annotations

from moderation.detect import Action, Category, Detector

KEY = b"tuning-round-test-key"


def assert_stopped(rules: Detector, text: str, category: Category | None = None) -> None:
    """``text`` raises ``category`` (any category when None)."""
    found = rules.check(text).categories
    assert (category in found) if category is not None else found, text


def assert_allowed(rules: Detector, text: str) -> None:
    decision = rules.check(text)
    assert decision.action is Action.ALLOW and not decision.categories, text
