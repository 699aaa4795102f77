"""The sanction ladder's pure rules: escalation by points, durations, what a user may do under
the sanctions in force, and the appeal token of a user who cannot log in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts import sanction_rules as rules
from accounts.sanction_rules import DEFAULT_LADDER, Kind, Ladder, Past

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def past(kind: Kind, days_ago: float = 1, *, lifted: bool = False) -> Past:
    return Past(kind, DEFAULT_LADDER.points[kind], NOW - timedelta(days=days_ago), lifted)


def test_a_first_offence_gets_what_was_asked() -> None:
    d = rules.decide(Kind.WARN, None, [], NOW)
    assert (d.kind, d.points, d.total_points, d.ends_at, d.escalated) == (
        Kind.WARN,
        1,
        1,
        None,
        False,
    )
    mute = rules.decide(Kind.MUTE, 6, [], NOW)
    assert mute.kind is Kind.MUTE and mute.ends_at == NOW + timedelta(hours=6)
    assert rules.decide(Kind.SUSPEND, None, [], NOW).ends_at == NOW + timedelta(hours=72)
    assert rules.decide(Kind.BAN, None, [], NOW).ends_at is None


def test_repeat_offences_escalate_by_points() -> None:
    # two warnings (2 points) and a third (3): a mute of the default length
    d = rules.decide(Kind.WARN, None, [past(Kind.WARN), past(Kind.WARN, 2)], NOW)
    assert d.kind is Kind.MUTE and d.escalated and d.requested is Kind.WARN
    assert d.ends_at == NOW + timedelta(hours=24)
    assert d.points == 1  # the offence weighs what was asked for
    # a mute after two mutes (6 points): a suspension
    d = rules.decide(Kind.MUTE, 48, [past(Kind.MUTE), past(Kind.MUTE, 3)], NOW)
    assert d.kind is Kind.SUSPEND and d.ends_at == NOW + timedelta(hours=72)
    # a suspension after two (12 points): a ban
    d = rules.decide(Kind.SUSPEND, None, [past(Kind.SUSPEND), past(Kind.SUSPEND, 30)], NOW)
    assert d.kind is Kind.BAN and d.ends_at is None


def test_lifted_and_old_sanctions_do_not_count() -> None:
    history = [past(Kind.WARN, lifted=True), past(Kind.WARN, 400), past(Kind.MUTE, 366)]
    assert rules.decide(Kind.WARN, None, history, NOW).kind is Kind.WARN


def test_an_escalated_kind_keeps_a_longer_duration_asked_for() -> None:
    d = rules.decide(Kind.MUTE, 200, [past(Kind.MUTE), past(Kind.MUTE)], NOW)
    assert d.kind is Kind.SUSPEND and d.ends_at == NOW + timedelta(hours=200)


@pytest.mark.parametrize(
    ("kind", "hours"),
    [(Kind.WARN, 1), (Kind.BAN, 24), (Kind.MUTE, 0), (Kind.MUTE, 31 * 24), (Kind.SUSPEND, -1)],
)
def test_durations_a_kind_does_not_take_are_refused(kind: Kind, hours: int) -> None:
    with pytest.raises(ValueError):
        rules.decide(kind, hours, [], NOW)


@pytest.mark.parametrize(
    ("points", "escalate_at", "days"),
    [
        ("warn=1,mute=2", "mute=3", 30),  # kinds missing
        ("warn=1,mute=2,suspend=4,ban=x", "mute=3", 30),
        ("warn=1,mute=2,suspend=4,ban=10", "warn=1", 30),
        ("warn=1,mute=2,suspend=4,ban=10", "mute=6,suspend=3", 30),  # not rising
        ("warn=1,mute=2,suspend=4,ban=10", "mute=3", 0),
        ("warn=1,warn=2,mute=2,suspend=4,ban=10", "", 30),
    ],
)
def test_a_bad_ladder_setting_is_refused(points: str, escalate_at: str, days: int) -> None:
    with pytest.raises(ValueError):
        Ladder.parse(points, escalate_at, days)


def test_a_configured_ladder_changes_the_escalation() -> None:
    strict = Ladder.parse("warn=5,mute=5,suspend=5,ban=5", "ban=5", 30)
    assert rules.decide(Kind.WARN, None, [], NOW, strict).kind is Kind.BAN


@given(
    requested=st.sampled_from(rules.LADDER),
    history=st.lists(
        st.tuples(st.sampled_from(rules.LADDER), st.floats(0, 800), st.booleans()), max_size=8
    ),
    hours=st.none() | st.integers(1, 30 * 24),
)
def test_the_imposed_kind_is_never_lighter_and_restrictions_end_later(
    requested: Kind, history: list[tuple[Kind, float, bool]], hours: int | None
) -> None:
    if requested in (Kind.WARN, Kind.BAN):
        hours = None
    d = rules.decide(requested, hours, [past(k, a, lifted=x) for k, a, x in history], NOW)
    assert rules.heavier(d.kind, requested) is d.kind
    assert (d.ends_at is None) == (d.kind in (Kind.WARN, Kind.BAN))
    if d.ends_at is not None:
        assert d.ends_at > NOW


def in_force(kind: Kind, ends_in_h: float | None, *, lifted: bool = False, freeze: bool = False):
    ends = None if ends_in_h is None else NOW + timedelta(hours=ends_in_h)
    return rules.InForce(kind, NOW - timedelta(hours=1), ends, lifted, freeze)


def test_standing_under_each_kind() -> None:
    assert rules.standing([], NOW) == rules.Standing()
    assert rules.standing([in_force(Kind.WARN, None)], NOW) == rules.Standing()
    muted = rules.standing([in_force(Kind.MUTE, 2)], NOW)
    assert (muted.can_login, muted.can_chat, muted.until) == (
        True,
        False,
        NOW + timedelta(hours=2),
    )
    suspended = rules.standing([in_force(Kind.SUSPEND, 5, freeze=True)], NOW)
    assert not suspended.can_login and suspended.earnings_frozen
    banned = rules.standing([in_force(Kind.BAN, None), in_force(Kind.MUTE, 2)], NOW)
    assert banned.heaviest is Kind.BAN and banned.until is None and not banned.can_login
    # ended or lifted: nothing
    assert rules.standing([in_force(Kind.SUSPEND, -1)], NOW) == rules.Standing()
    assert rules.standing([in_force(Kind.BAN, None, lifted=True)], NOW) == rules.Standing()


def test_an_appeal_token_names_its_sanction_until_it_expires() -> None:
    key = b"k" * 32
    token = rules.appeal_token(key, "sanc_abc", NOW)
    assert rules.read_appeal_token(key, token, NOW) == "sanc_abc"
    assert rules.read_appeal_token(key, token, NOW + timedelta(days=6)) == "sanc_abc"
    assert rules.read_appeal_token(key, token, NOW + timedelta(days=8)) is None
    assert rules.read_appeal_token(b"x" * 32, token, NOW) is None
    forged = token.replace("sanc_abc", "sanc_xyz")
    assert rules.read_appeal_token(key, forged, NOW) is None
    for junk in ("", "a.b", "x" * 200, "sanc.123.", "é.1.abc"):
        assert rules.read_appeal_token(key, junk, NOW) is None
