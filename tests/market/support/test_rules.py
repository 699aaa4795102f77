"""The pure rules of a ticket: how its status and its place in the staff queue move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.support import rules

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = rules.Policy(max_open=5, max_messages=100)


def test_user_and_staff_take_turns() -> None:
    opened = rules.State("open", T0)
    later = T0 + timedelta(minutes=5)
    assert rules.after_user_message(opened, 1, later, POLICY) == opened  # still waiting since T0
    answered = rules.after_staff_reply(opened, 2, POLICY)
    assert answered == rules.State("answered", None)
    assert rules.after_user_message(answered, 3, later, POLICY) == rules.State("open", later)
    assert rules.after_staff_reply(answered, 3, POLICY) == answered
    assert rules.after_close(answered) == rules.State("closed", None)


@pytest.mark.parametrize("step", ["user", "staff"])
def test_nothing_is_written_in_a_closed_or_full_ticket(step: str) -> None:
    def write(state: rules.State, count: int) -> rules.State:
        if step == "user":
            return rules.after_user_message(state, count, T0, POLICY)
        return rules.after_staff_reply(state, count, POLICY)

    with pytest.raises(rules.TicketRuleError) as closed:
        write(rules.State("closed", None), 1)
    assert closed.value.code == "ticket_closed"
    with pytest.raises(rules.TicketRuleError) as full:
        write(rules.State("open", T0), POLICY.max_messages)
    assert full.value.code == "ticket_full"
    write(rules.State("open", T0), POLICY.max_messages - 1)


@given(st.lists(st.sampled_from(["user", "staff", "close"]), max_size=30))
def test_waiting_since_is_set_exactly_while_open(steps: list[str]) -> None:
    state, count = rules.State("open", T0), 1
    for i, step in enumerate(steps):
        now = T0 + timedelta(minutes=i + 1)
        try:
            if step == "user":
                state = rules.after_user_message(state, count, now, POLICY)
            elif step == "staff":
                state = rules.after_staff_reply(state, count, POLICY)
            else:
                state = rules.after_close(state)
        except rules.TicketRuleError as exc:
            assert state.status == "closed" and exc.code == "ticket_closed"
            continue
        count += step != "close"
        assert state.status in rules.STATUSES
        assert (state.waiting_since is not None) == (state.status == "open")
