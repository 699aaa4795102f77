"""The pure rules of a voice room: titles, rates, capacity, who is billed, media waits, ids."""

from __future__ import annotations

import pytest

from market.voicerooms import ids, rules
from market.voicerooms.rules import LeaveReason, MediaWait, Presence, RoomRuleError
from metering.tariff import Bounds


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  夜聊电台 ", "夜聊电台"),
        ("a", "a"),
        ("长" * 30, "长" * 30),
        ("Ｅｎｇｌｉｓｈ角", "Ｅｎｇｌｉｓｈ角"),
    ],
)
def test_titles_that_pass(raw: str, clean: str) -> None:
    assert rules.clean_title(raw) == clean


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "title_length"),
        (" \t ", "title_length"),
        ("长" * 31, "title_length"),
        ("晚安\u200b电台", "title_characters"),
        ("line\nbreak", "title_characters"),
        ("加V：abc_12345", "title_contact_details"),
        ("一三八一二三四五六七八", "title_contact_details"),
        ("见面聊 线下约", "title_contact_details"),
        ("www.example.com", "title_contact_details"),
    ],
)
def test_titles_that_do_not(raw: str, code: str) -> None:
    with pytest.raises(RoomRuleError) as caught:
        rules.clean_title(raw)
    assert caught.value.code == code, raw
    if code == "title_contact_details":
        assert caught.value.details["categories"]


def test_rate_and_capacity_bounds() -> None:
    bounds = Bounds(50, 500)
    assert rules.check_rate(50, bounds) == 50 and rules.check_rate(500, bounds) == 500
    for bad in (49, 501, 0):
        with pytest.raises(RoomRuleError, match=r"50\.\.500"):
            rules.check_rate(bad, bounds)
    assert rules.check_capacity(2) == 2 and rules.check_capacity(9) == 9
    for bad in (1, 10):
        with pytest.raises(RoomRuleError):
            rules.check_capacity(bad)
    assert rules.has_room_for_one_more(0, 2) and not rules.has_room_for_one_more(1, 2)
    assert rules.has_room_for_one_more(7, 9) and not rules.has_room_for_one_more(8, 9)


@pytest.mark.parametrize("member_alive", [True, False])
@pytest.mark.parametrize("member_away", [True, False])
@pytest.mark.parametrize("host_alive", [True, False])
@pytest.mark.parametrize("host_away", [True, False])
def test_a_member_is_billed_only_while_both_are_here(
    member_alive: bool, member_away: bool, host_alive: bool, host_away: bool
) -> None:
    billed = rules.connected(Presence(member_alive, member_away), Presence(host_alive, host_away))
    assert billed == (member_alive and not member_away and host_alive and not host_away)


def test_someone_who_never_offers_media_is_late_after_the_lost_time_out() -> None:
    wait = MediaWait(lost_s=60)
    assert wait.overdue({"h", "a"}, set(), now=0) == set()
    assert wait.overdue({"h", "a"}, {"h"}, now=59) == set()
    assert wait.overdue({"h", "a"}, {"h"}, now=60) == {"a"}
    assert wait.overdue({"h"}, {"h"}, now=61) == set()  # "a" left: forgotten
    assert wait.overdue({"h", "a"}, {"h"}, now=62) == set()  # back: a fresh wait
    # "h" no longer in the media room: counted from when it is first seen gone.
    assert wait.overdue({"h", "a"}, set(), now=121) == set()
    assert wait.overdue({"h", "a"}, set(), now=122) == {"a"}
    assert wait.overdue({"h", "a"}, set(), now=181) == {"h", "a"}


def test_why_a_member_leaves_when_metering_ended_their_session() -> None:
    assert rules.left_reason_for("insufficient_funds") is LeaveReason.FUNDS
    assert rules.left_reason_for("server_lost") is LeaveReason.SERVER_LOST
    assert rules.left_reason_for("anything") is LeaveReason.CLOSED


def test_ids_tell_rooms_and_member_sessions_from_calls() -> None:
    room, session = ids.new_room_id(), ids.new_session_id()
    assert ids.is_room_id(room) and not ids.is_room_id(session)
    assert ids.is_member_session(session) and not ids.is_member_session(room)
    assert not ids.is_member_session("call_" + "0" * 32) and len(session) <= 40
