"""The voice room lifecycle (``market.voicerooms.lifecycle``): a few transitions by example, and
a Hypothesis state machine driving random joins, leaves, aways, backs, reconciles and closes,
carrying out the effects as the shell does and checking the invariants after every step."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from market.voicerooms import rules
from market.voicerooms.errors import RoomClosed, RoomFull
from market.voicerooms.lifecycle import (
    Away,
    Back,
    Close,
    CloseMedia,
    CloseRoom,
    DropMedia,
    DropMember,
    Effect,
    EndSession,
    Event,
    ForgetRoom,
    Hold,
    Join,
    Leave,
    Rebill,
    Reconcile,
    ReleaseHost,
    Remove,
    Room,
    SessionState,
    StartBilling,
    Status,
    StopBilling,
    TellHost,
    TellLeft,
    TellRoom,
    Track,
    opened,
    step,
)
from market.voicerooms.rules import CloseReason, LeaveReason

HOST = "host"
T0 = 1_700_000_000_000


def seated(capacity: int = 4, *users: str) -> Room:
    room = opened(HOST, capacity)
    for user in users:
        room, effects = step(room, Join(f"s_{user}", user), T0)
        assert effects == [TellRoom(), Rebill()]
    return room


def everyone_here(room: Room) -> Reconcile:
    people = frozenset({HOST, *(x.user_id for x in room.seats)})
    return Reconcile(
        media=people, present=people, tracked=frozenset(x.session_id for x in room.seats)
    )


# -- examples ---------------------------------------------------------------------------------


def test_a_room_opens_empty_and_seats_up_to_capacity_less_the_host() -> None:
    room = seated(3, "a", "b")
    assert [x.user_id for x in room.seats] == ["a", "b"]
    assert room.joins == 2
    with pytest.raises(RoomFull):
        step(room, Join("s_c", "c"), T0)


def test_the_joins_over_a_rooms_life_are_bounded() -> None:
    room = Room(HOST, 9, joins=rules.MAX_JOINS_PER_ROOM)
    with pytest.raises(RoomFull) as refused:
        step(room, Join("s_a", "a"), T0)
    assert "as many listeners" in str(refused.value)


def test_a_member_leaving_ends_their_session_and_tells_them() -> None:
    room = seated(4, "a", "b")
    after, effects = step(room, Leave("s_a", LeaveReason.LEFT), T0 + 5)
    assert [x.user_id for x in after.seats] == ["b"]
    assert effects == [
        EndSession("s_a", "left"),
        DropMember("s_a", "a"),
        TellLeft("a", "left"),
        TellRoom(),
    ]
    # leaving again: nothing, and the shell says "already gone"
    assert step(after, Leave("s_a", LeaveReason.LEFT), T0 + 6) == (after, [])


def test_metering_ending_a_session_first_is_not_ended_twice() -> None:
    room = seated(4, "a")
    _, effects = step(room, Leave("s_a", LeaveReason.FUNDS, session_ended=True), T0)
    assert not any(isinstance(e, EndSession) for e in effects)


def test_closing_ends_every_session_and_releases_the_host() -> None:
    room = seated(4, "a", "b")
    after, effects = step(room, Close(CloseReason.HOST), T0 + 9)
    assert after.status is Status.CLOSED and after.seats == ()
    assert (after.closed_ms, after.close_reason) == (T0 + 9, CloseReason.HOST)
    assert effects == [
        EndSession("s_a", "closed"),
        EndSession("s_b", "closed"),
        CloseMedia(),
        ForgetRoom(("s_a", "s_b")),
        ReleaseHost(HOST),
        TellLeft("a", "closed"),
        TellLeft("b", "closed"),
        TellHost(HOST),
    ]
    # closed: a join is refused, anything else changes nothing
    with pytest.raises(RoomClosed):
        step(after, Join("s_c", "c"), T0 + 10)
    for event in (Close(CloseReason.ADMIN), Away(HOST), Back(HOST), everyone_here(room)):
        assert step(after, event, T0 + 10) == (after, [])


def test_a_dead_process_ends_the_sessions_as_server_lost() -> None:
    _, effects = step(seated(4, "a"), Close(CloseReason.SERVER_LOST), T0)
    assert EndSession("s_a", "server_lost") in effects
    assert TellLeft("a", "server_lost") in effects


def test_billing_runs_while_member_and_host_are_both_here() -> None:
    room = seated(4, "a")
    room, effects = step(room, everyone_here(room), T0)
    assert StartBilling("s_a", "a") in effects and room.seats[0].billed
    # the host goes away: the member stops, from the host's absence
    room, effects = step(room, Away(HOST, T0 + 100), T0 + 500)
    assert effects == [Rebill()] and room.host_away_ms == T0 + 100
    room, effects = step(room, everyone_here(room), T0 + 500)
    assert StopBilling("s_a", "a", T0 + 100) in effects and not room.seats[0].billed
    # back: billed again
    room, effects = step(room, Back(HOST), T0 + 600)
    assert effects == [Rebill()]
    room, effects = step(room, everyone_here(room), T0 + 600)
    assert StartBilling("s_a", "a") in effects
    # nothing changed: nothing to start, but the clock is tracked and the hold kept
    again, effects = step(room, everyone_here(room), T0 + 700)
    assert again == room and effects == [Hold("a", False)]


def test_away_twice_keeps_the_first_time_and_asks_nothing() -> None:
    room, _ = step(seated(4, "a"), Away("a", T0 + 50), T0 + 100)
    assert room.seats[0].away_ms == T0 + 50
    assert step(room, Away("a"), T0 + 200) == (room, [])
    # a later heartbeat than now is not believed
    fresh, _ = step(seated(4, "a"), Away("a", T0 + 999), T0 + 100)
    assert fresh.seats[0].away_ms == T0 + 100


def test_reconcile_removes_the_ended_and_the_overdue_and_closes_for_a_lost_host() -> None:
    room = seated(4, "a", "b", "c")
    r = everyone_here(room)
    event = Reconcile(
        media=r.media,
        present=r.present | {"stranger"},
        late=frozenset({"b"}),
        sessions={
            "s_a": SessionState("ended", "insufficient_funds"),
            "s_c": SessionState("paused"),
        },
        tracked=frozenset({"s_c"}),
    )
    _, effects = step(room, event, T0)
    assert effects == [
        Remove("s_a", LeaveReason.FUNDS, session_ended=True),
        Remove("s_b", LeaveReason.MEDIA_LOST),
        StartBilling("s_c", "c"),
        Hold("c", True),
        # whoever is not staying leaves the media room (the two going, and a stranger)
        DropMedia("a"),
        DropMedia("b"),
        DropMedia("stranger"),
    ]
    lost = Reconcile(late=frozenset({HOST}))
    assert step(room, lost, T0) == (room, [CloseRoom(CloseReason.MEDIA_LOST)])


def test_a_member_joined_elsewhere_has_their_clock_tracked_here() -> None:
    room = seated(4, "a")
    room, _ = step(room, everyone_here(room), T0)
    untracked = Reconcile(media=frozenset({HOST, "a"}), present=frozenset({HOST, "a"}))
    _, effects = step(room, untracked, T0)
    assert effects == [Track("s_a"), Hold("a", False)]


# -- the state machine ------------------------------------------------------------------------

USERS = [f"u{i}" for i in range(6)]
PEOPLE = [HOST, *USERS]
CLOSE_REASONS = list(CloseReason)
LEAVE_REASONS = list(LeaveReason)


class RoomMachine(RuleBasedStateMachine):
    """One room, its effects carried out as the shell does: ``running`` is the set of sessions
    whose billing clock runs, ``ended`` those settled."""

    @initialize(capacity=st.integers(rules.MIN_CAPACITY, rules.MAX_CAPACITY))
    def open_room(self, capacity: int) -> None:
        self.room = opened(HOST, capacity)
        self.now = T0
        self.joined = 0
        self.serial = 0
        self.running: set[str] = set()
        self.ended: set[str] = set()
        self.told_left: list[str] = []
        self.released = 0

    # -- the shell --------------------------------------------------------------------------

    def feed(self, event: Event) -> list[Effect]:
        before = self.room
        after, effects = step(before, event, self.now)
        if before.status is Status.CLOSED:
            assert (after, effects) == (before, []), "a closed room accepts nothing"
        self.room = after
        for effect in list(effects):
            self.carry_out(effect)
        return effects

    def carry_out(self, effect: Effect) -> None:
        seats = {x.session_id for x in self.room.seats}
        match effect:
            case EndSession(session_id, _):
                assert session_id not in self.ended, "a session is ended once"
                assert session_id not in seats
                self.ended.add(session_id)
                self.running.discard(session_id)
            case StartBilling(session_id, _):
                assert session_id in seats and session_id not in self.ended
                self.running.add(session_id)
            case StopBilling(session_id, _, _):
                assert session_id in self.running
                self.running.discard(session_id)
            case Remove(session_id, reason, session_ended):
                if session_ended:  # metering ended it: its clock stopped there
                    self.ended.add(session_id)
                    self.running.discard(session_id)
                self.feed(Leave(session_id, reason, session_ended))
            case CloseRoom(reason):
                self.feed(Close(reason))
            case TellLeft(user_id, _):
                self.told_left.append(user_id)
            case ReleaseHost(host_id):
                assert host_id == HOST
                self.released += 1

    # -- rules ------------------------------------------------------------------------------

    @rule(user=st.sampled_from(USERS))
    def join(self, user: str) -> None:
        if self.room.seat_of_user(user) is not None:
            return  # one seat per customer: the shell refuses before (already_in_room)
        self.serial += 1
        session_id = f"s{self.serial}"
        room = self.room
        may = room.status is Status.OPEN and len(room.seats) + 1 < room.capacity
        if not may:
            with pytest.raises((RoomClosed, RoomFull)):
                step(room, Join(session_id, user), self.now)
            return
        self.feed(Join(session_id, user))
        self.joined += 1
        assert self.room.seats[-1] == type(self.room.seats[-1])(session_id, user)

    @precondition(lambda self: bool(self.room.seats))
    @rule(data=st.data(), reason=st.sampled_from(LEAVE_REASONS), ended=st.booleans())
    def leave(self, data: st.DataObject, reason: LeaveReason, ended: bool) -> None:
        seat = data.draw(st.sampled_from(self.room.seats))
        if ended:
            self.ended.add(seat.session_id)
            self.running.discard(seat.session_id)
        effects = self.feed(Leave(seat.session_id, reason, ended))
        assert self.room.seat_of(seat.session_id) is None
        assert (EndSession(seat.session_id, reason.value) in effects) is not ended

    @rule(session=st.sampled_from(["s1", "s2", "nobody"]))
    def leave_unknown_or_again(self, session: str) -> None:
        if self.room.seat_of(session) is None:
            before = self.room
            assert self.feed(Leave(session, LeaveReason.LEFT)) == []
            assert self.room == before

    @rule(reason=st.sampled_from(CLOSE_REASONS))
    def close(self, reason: CloseReason) -> None:
        was_open = self.room.status is Status.OPEN
        self.feed(Close(reason))
        assert self.room.status is Status.CLOSED
        if was_open:
            assert self.room.close_reason is reason

    @rule(who=st.sampled_from(PEOPLE), earlier=st.none() | st.integers(0, 5_000))
    def away(self, who: str, earlier: int | None) -> None:
        self.feed(Away(who, None if earlier is None else self.now - earlier))

    @rule(who=st.sampled_from(PEOPLE))
    def back(self, who: str) -> None:
        self.feed(Back(who))

    @rule(ms=st.integers(1, 60_000))
    def tick(self, ms: int) -> None:
        self.now += ms

    @rule(data=st.data())
    def reconcile(self, data: st.DataObject) -> None:
        people = [HOST, *(x.user_id for x in self.room.seats)]
        media = data.draw(st.frozensets(st.sampled_from(people)))
        present = data.draw(st.frozensets(st.sampled_from([*people, "stranger"])))
        late = data.draw(st.frozensets(st.sampled_from(people)).filter(lambda s: len(s) <= 1))
        statuses = st.sampled_from(
            [SessionState("active"), SessionState("paused"), SessionState("ended", "x")]
        )
        sessions = {x.session_id: data.draw(statuses) for x in self.room.seats}
        before = self.room
        event = Reconcile(media, present, late, sessions, frozenset(self.running))
        effects = self.feed(event)
        if (
            before.status is not Status.OPEN
            or late
            or any(v.status == "ended" for v in sessions.values())
        ):
            return
        # nobody removed: each member billed exactly while they and the host are here
        assert not any(isinstance(e, (Remove, CloseRoom)) for e in effects)
        host_here = HOST in media and before.host_away_ms is None
        for seat in self.room.seats:
            here = seat.user_id in media and seat.away_ms is None
            assert seat.billed == (here and host_here)
            assert Hold(seat.user_id, sessions[seat.session_id].status == "paused") in effects

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def seats_never_exceed_capacity(self) -> None:
        assert len(self.room.seats) + 1 <= self.room.capacity
        assert self.room.joins == self.joined <= rules.MAX_JOINS_PER_ROOM

    @invariant()
    def one_seat_per_person_and_the_host_in_none(self) -> None:
        users = [x.user_id for x in self.room.seats]
        assert len(set(users)) == len(users)
        assert HOST not in users
        assert len({x.session_id for x in self.room.seats}) == len(users)

    @invariant()
    def billed_only_while_seated(self) -> None:
        seats = {x.session_id for x in self.room.seats}
        assert self.running <= seats
        assert self.running == {x.session_id for x in self.room.seats if x.billed}
        assert not (self.running & self.ended)

    @invariant()
    def a_closed_room_is_empty_and_its_host_released_once(self) -> None:
        closed = self.room.status is Status.CLOSED
        assert self.released == (1 if closed else 0)
        if closed:
            assert self.room.seats == () and self.running == set()
            assert self.room.host_away_ms is None
            assert self.room.closed_ms is not None and self.room.close_reason is not None

    @invariant()
    def every_member_who_left_was_told_once_and_settled(self) -> None:
        left = [x.user_id for x in self.room.left]
        assert sorted(self.told_left) == sorted(left)
        assert {x.session_id for x in self.room.left} <= self.ended
        assert not {x.session_id for x in self.room.left} & {x.session_id for x in self.room.seats}

    @invariant()
    def away_is_never_in_the_future(self) -> None:
        times = [x.away_ms for x in self.room.seats] + [self.room.host_away_ms]
        assert all(t is None or t <= self.now for t in times)


RoomMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_room_lifecycle = RoomMachine.TestCase
