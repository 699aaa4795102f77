"""Call admission as a pure rule: each refusal, their order, and properties over every mix of
facts (a blocked pair, a non-customer caller, a draining process are never admitted)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.roles import Role
from kernel.errors import DomainError
from signaling.admission import Admitted, Facts, decide

OK = Facts(
    caller_id="u_cust",
    caller_role=Role.CUSTOMER,
    companion_id="u_comp",
    companion_role=Role.COMPANION,
    caller_in_session=False,
    blocked=False,
    companion_status="online",
    draining=False,
)

facts = st.builds(
    Facts,
    caller_id=st.sampled_from(["u_cust", "u_comp"]),
    caller_role=st.sampled_from(list(Role)),
    companion_id=st.sampled_from(["u_cust", "u_comp"]),
    companion_role=st.sampled_from([*Role, None]),
    caller_in_session=st.booleans(),
    blocked=st.booleans(),
    companion_status=st.sampled_from(["online", "busy", "offline"]),
    draining=st.booleans(),
)


def code(f: Facts) -> str:
    verdict = decide(f)
    return verdict.code if isinstance(verdict, DomainError) else "admitted"


def test_a_customer_ringing_an_online_companion_is_admitted() -> None:
    assert decide(OK) == Admitted("u_cust", "u_comp")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"draining": True}, "draining"),
        ({"caller_role": Role.COMPANION}, "not_callable"),
        ({"caller_role": Role.ADMIN}, "not_callable"),
        ({"companion_role": None}, "not_callable"),
        ({"companion_role": Role.CUSTOMER}, "not_callable"),
        ({"companion_role": Role.ADMIN}, "not_callable"),
        ({"companion_id": "u_cust"}, "not_callable"),
        ({"caller_in_session": True}, "already_in_call"),
        ({"blocked": True}, "blocked"),
        ({"companion_status": "busy"}, "companion_busy"),
        ({"companion_status": "offline"}, "companion_offline"),
        # the first refusal that applies wins
        ({"draining": True, "caller_role": Role.COMPANION, "blocked": True}, "draining"),
        ({"caller_role": Role.COMPANION, "companion_role": None}, "not_callable"),
        ({"companion_role": None, "caller_in_session": True}, "not_callable"),
        ({"caller_in_session": True, "blocked": True}, "already_in_call"),
        ({"blocked": True, "companion_status": "offline"}, "blocked"),
        ({"caller_in_session": True, "companion_status": "busy"}, "already_in_call"),
    ],
)
def test_each_refusal_and_their_order(changes: dict[str, object], expected: str) -> None:
    assert code(replace(OK, **changes)) == expected


def test_a_non_customer_is_refused_with_the_customers_only_message() -> None:
    verdict = decide(replace(OK, caller_role=Role.COMPANION))
    assert isinstance(verdict, DomainError)
    assert verdict.message == "only customers can request sessions"


@given(facts)
def test_a_blocked_pair_is_never_admitted(f: Facts) -> None:
    assert code(replace(f, blocked=True)) != "admitted"


@given(facts)
def test_a_non_customer_never_passes(f: Facts) -> None:
    for role in (Role.COMPANION, Role.ADMIN):
        assert code(replace(f, caller_role=role)) == ("draining" if f.draining else "not_callable")


@given(facts)
def test_nobody_rings_themselves(f: Facts) -> None:
    assert code(replace(f, companion_id=f.caller_id)) != "admitted"


@given(facts)
def test_admitted_exactly_when_every_fact_allows_it(f: Facts) -> None:
    allowed = (
        not f.draining
        and f.caller_role == Role.CUSTOMER
        and f.companion_role == Role.COMPANION
        and f.companion_id != f.caller_id
        and not f.caller_in_session
        and not f.blocked
        and f.companion_status == "online"
    )
    verdict = decide(f)
    assert isinstance(verdict, Admitted) == allowed
    if allowed:
        assert verdict == Admitted(f.caller_id, f.companion_id)


@given(facts)
def test_a_draining_process_refuses_whatever_else_holds(f: Facts) -> None:
    assert code(replace(f, draining=True)) == "draining"
