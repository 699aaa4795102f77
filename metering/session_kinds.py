"""Which kind of session a metered session is, and whom its notices and live updates go to.

Metering bills every kind of session the same way; what a notice means to the people in it (end
a 1:1 call, remove a voice-room member) is the business of the kind's own domain.  Each kind
registers itself here, in its own ``setup()``, with the test that recognises its session ids
(``call_…``, ``vrs_…``); the metering runner hands every notice and update to this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from metering.service import Notice, Update

log = structlog.get_logger("metering.session_kinds")

#: kinds of metered session (a call, a voice-room seat, …): a handful, never more than this
MAX_KINDS = 16


class SessionKind(Protocol):
    """What a kind of session does with metering's news of one of its sessions."""

    async def on_notice(self, session_id: str, notice: Notice, /) -> None: ...

    async def on_update(self, session_id: str, update: Update, /) -> None: ...


class SessionKinds:
    """The registry: a session id goes to the one kind that recognises it."""

    def __init__(self) -> None:
        self._kinds: list[tuple[str, Callable[[str], bool], SessionKind]] = []

    def register(self, name: str, owns: Callable[[str], bool], kind: SessionKind) -> None:
        if any(n == name for n, _, _ in self._kinds):
            raise ValueError(f"session kind {name!r} registered twice")
        if len(self._kinds) >= MAX_KINDS:
            raise RuntimeError(f"more than {MAX_KINDS} session kinds")
        self._kinds.append((name, owns, kind))

    def kind_of(self, session_id: str) -> SessionKind | None:
        for _, owns, kind in self._kinds:
            if owns(session_id):
                return kind
        return None

    async def notice(self, session_id: str, notice: Notice) -> None:
        """The runner's ``notify``: the session's kind tells its people."""
        kind = self.kind_of(session_id)
        if kind is None:
            log.warning("session_kind_unknown", session_id=session_id, notice=notice.kind)
            return
        await kind.on_notice(session_id, notice)

    async def update(self, session_id: str, update: Update) -> None:
        """The runner's ``observe``: the session's kind shows its people the live spend."""
        kind = self.kind_of(session_id)
        if kind is None:
            log.warning("session_kind_unknown", session_id=session_id)
            return
        await kind.on_update(session_id, update)
