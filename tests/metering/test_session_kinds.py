"""The registry of session kinds: metering's notices and live updates of a session go to the one
kind that recognises its id (a call, a voice-room seat), and a session of no kind is dropped
with a warning."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from metering.service import Notice, Update
from metering.session_kinds import SessionKinds


class Kind:
    def __init__(self) -> None:
        self.notices: list[tuple[str, str]] = []
        self.updates: list[str] = []

    async def on_notice(self, session_id: str, notice: Notice) -> None:
        self.notices.append((session_id, notice.kind))

    async def on_update(self, session_id: str, update: Update) -> None:
        self.updates.append(session_id)


async def test_each_session_goes_to_its_own_kind() -> None:
    kinds, calls, seats = SessionKinds(), Kind(), Kind()
    kinds.register("call", lambda s: s.startswith("call_"), calls)
    kinds.register("seat", lambda s: s.startswith("vrs_"), seats)
    await kinds.notice("call_1", Notice("paused", 0))
    await kinds.notice("vrs_1", Notice("ended", 0))
    update = Update(view=None)  # type: ignore[arg-type]  # the kinds here never read it
    await kinds.update("vrs_1", update)
    await kinds.update("call_1", update)
    assert calls.notices == [("call_1", "paused")] and calls.updates == ["call_1"]
    assert seats.notices == [("vrs_1", "ended")] and seats.updates == ["vrs_1"]


async def test_a_session_of_no_kind_is_dropped_with_a_warning() -> None:
    kinds, calls = SessionKinds(), Kind()
    kinds.register("call", lambda s: s.startswith("call_"), calls)
    with capture_logs() as logs:
        await kinds.notice("other_1", Notice("paused", 0))
    assert calls.notices == []
    assert [x["event"] for x in logs] == ["session_kind_unknown"]


def test_a_kind_registers_once() -> None:
    kinds = SessionKinds()
    kinds.register("call", lambda s: True, Kind())
    with pytest.raises(ValueError):
        kinds.register("call", lambda s: True, Kind())
