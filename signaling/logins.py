"""This process's sockets and the logins behind them.

A socket lives only as long as its login: a revocation heard from ``accounts.revocation`` (any
process) ends that login's sockets here (``session:revoked``, then disconnect), and each event
re-checks the login in the database when its last check is older than
``PEILIAO_SOCKET_REAUTH_S`` (pub/sub is at-most-once); ``refresh`` re-checks every socket's
login ahead of that, in batches, so events rarely wait for it.  ``Signaling`` registers a
socket here on connect, asks :meth:`Logins.confirm` before each event, and forgets it on
disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import socketio
import structlog

from accounts.ids import AuthSessionId
from accounts.revocation import Reason, Revoked
from accounts.service import AccountService, Principal
from kernel.coalesce import Coalescer
from kernel.errors import Unauthenticated
from kernel.settings import Settings

log = structlog.get_logger(__name__)

#: revocations heard, kept for the connect race (see ``Logins.confirm``): at most this many
MAX_HEARD = 100_000
#: what a socket whose login ended is told (``session:revoked``, and the refused acks)
LOGIN_ENDED = "your login has ended; log in again"


class Logins:
    def __init__(
        self, settings: Settings, sio: socketio.AsyncServer, accounts: AccountService
    ) -> None:
        self.settings = settings
        self.sio = sio
        self._accounts = accounts
        self.who: dict[str, Principal] = {}  # sid → principal, sockets of this process
        self.local: dict[str, set[str]] = {}  # user id → sids on this process
        #: sid → loop time at which its login was last found valid in the database
        self._checked: dict[str, float] = {}
        #: sids whose login ended: every event refused until the disconnect lands
        self._revoked: dict[str, Reason] = {}
        #: sids inside ``Signaling._connect`` (not yet connected: refused there, not disconnected)
        self._connecting: set[str] = set()
        #: "u:{user}" / "s:{login session}" → loop time a revocation of it was heard
        self._heard: OrderedDict[str, float] = OrderedDict()
        #: disconnects of revoked sockets under way
        self.ending: set[asyncio.Task[None]] = set()
        #: called with the user id when a suspension or ban of theirs is heard (from any
        #: process) or found (a login ended while one is in force): end their sessions
        self.on_sanctioned: list[Callable[[str], Awaitable[None]]] = []
        #: whether a suspension or ban keeps the user out now (None: no sanctions here)
        self.locked_out: Callable[[str], Awaitable[bool]] | None = None
        #: the re-checks of many sockets' logins, one query per batch (``kernel.coalesce``)
        self._checks: Coalescer[AuthSessionId, Principal] = Coalescer(accounts.check_many)

    # -- this process's sockets ---------------------------------------------------------------

    def add(self, sid: str, who: Principal, checked_at: float) -> None:
        """A connecting socket, its login found valid at loop time ``checked_at``."""
        self.who[sid] = who
        self._checked[sid] = checked_at
        self._connecting.add(sid)
        self.local.setdefault(who.user_id, set()).add(sid)

    def connected(self, sid: str) -> None:
        """The socket is connected: a revocation from now on disconnects it."""
        self._connecting.discard(sid)

    def remove(self, sid: str, who: Principal) -> None:
        self.who.pop(sid, None)
        self._checked.pop(sid, None)
        self._connecting.discard(sid)
        self._revoked.pop(sid, None)
        sids = self.local.get(who.user_id, set())
        sids.discard(sid)
        if not sids:
            self.local.pop(who.user_id, None)

    def is_revoked(self, sid: str) -> bool:
        return sid in self._revoked

    def forget_revoked(self, sid: str) -> None:
        self._revoked.pop(sid, None)

    # -- revocation ---------------------------------------------------------------------------

    async def revoked(self, r: Revoked) -> None:
        """A login (or every login of a user) ended on some process: end its sockets here."""
        self._hear(r)
        for sid in list(self.local.get(r.user_id, ())):
            who = self.who.get(sid)
            if who is not None and r.session_id in (None, who.session_id):
                await self.end(sid, r.reason)
        if r.reason is Reason.SANCTIONED:
            await self.sanctioned(r.user_id)

    async def sanctioned(self, user_id: str) -> None:
        """End the user's open sessions (each hook is idempotent: every process that hears the
        sanction runs them, and whichever is first ends the call or seat)."""
        for hook in self.on_sanctioned:
            try:
                await hook(user_id)
            except Exception:
                log.exception("sanction_hook_failed", user_id=user_id)

    def _hear(self, r: Revoked) -> None:
        now = asyncio.get_running_loop().time()
        key = f"s:{r.session_id}" if r.session_id is not None else f"u:{r.user_id}"
        self._heard[key] = now
        self._heard.move_to_end(key)
        # Kept as long as a check can be older than it: past that, the periodic check is due.
        keep_s = self.settings.socket_reauth_s + self.settings.db_timeout_s * 3
        while self._heard and (
            len(self._heard) > MAX_HEARD or next(iter(self._heard.values())) < now - keep_s
        ):
            self._heard.popitem(last=False)

    def _heard_since(self, who: Principal, since: float) -> bool:
        for key in (f"u:{who.user_id}", f"s:{who.session_id}"):
            at = self._heard.get(key)
            if at is not None and at >= since:
                return True
        return False

    async def confirm(self, sid: str) -> Principal | None:
        """The socket's principal if its login is still valid, else None (and the socket is
        ended).  Pub/sub is at-most-once, so the database is asked again when the last answer
        is older than ``PEILIAO_SOCKET_REAUTH_S``, or a revocation of this login was heard since
        (a connect that authenticated just before a revocation landed)."""
        who = self.who.get(sid)
        if who is None or sid in self._revoked:
            return None
        loop = asyncio.get_running_loop()
        checked = self._checked.get(sid, float("-inf"))
        if loop.time() - checked < self.settings.socket_reauth_s and not self._heard_since(
            who, checked
        ):
            return who
        return await self._recheck(sid, who, after_ack=True)

    async def _recheck(self, sid: str, who: Principal, *, after_ack: bool) -> Principal | None:
        """Ask the database about the socket's login now (coalesced with every other re-check
        asked meanwhile); end the socket if the login ended or its role changed."""
        started = asyncio.get_running_loop().time()
        try:
            fresh = await self._checks.get(who.session_id)
        except Unauthenticated:
            # A sanction imposed where no message reached us (no Redis, say): the same effect.
            locked = self.locked_out is not None and await self.locked_out(who.user_id)
            await self.end(
                sid, Reason.SANCTIONED if locked else Reason.SESSION_ENDED, after_ack=after_ack
            )
            if locked:
                await self.sanctioned(who.user_id)
            return None
        if fresh.role is not who.role:
            # The cached principal must not outlive a role change: reconnect to get the new one.
            await self.end(sid, Reason.ROLE_CHANGED, after_ack=after_ack)
            return None
        if sid in self._revoked or sid not in self.who:  # ended (or gone) while we asked
            return None
        self._checked[sid] = max(started, self._checked.get(sid, started))
        return who

    async def refresh(self) -> int:
        """Re-check ahead of their events the logins last checked more than half of
        ``PEILIAO_SOCKET_REAUTH_S`` ago, all at once (one query per ``kernel.coalesce`` batch):
        a socket's event then finds its check fresh and does not wait for the database, and a
        login that ended with no message heard is ended here without waiting for an event.  The
        bound is unchanged: an event whose check is older than the full interval still asks
        itself.  Returns how many sockets were re-checked."""
        now = asyncio.get_running_loop().time()
        half = self.settings.socket_reauth_s / 2
        due = [
            (sid, self.who[sid])
            for sid, at in list(self._checked.items())
            if now - at >= half
            and sid in self.who
            and sid not in self._revoked
            and sid not in self._connecting
        ]
        if due:
            await asyncio.gather(
                *(self._recheck(sid, who, after_ack=False) for sid, who in due),
                return_exceptions=True,
            )
        return len(due)

    async def end(self, sid: str, reason: Reason, *, after_ack: bool = False) -> None:
        """Refuse the socket's events from now on; tell it why, then disconnect it.

        ``after_ack``: called while handling one of its events, whose refusal must reach the
        client; a disconnect now would go out before that ack, which the client then drops."""
        if sid in self._revoked:
            return
        self._revoked[sid] = reason
        who = self.who.get(sid)
        log.info("socket_revoked", user_id=getattr(who, "user_id", None), reason=reason.value)
        if sid in self._connecting:
            return  # ``Signaling._connect`` refuses it
        with contextlib.suppress(Exception):
            await self.sio.emit(
                "session:revoked",
                {"reason": reason.value, "message": LOGIN_ENDED},
                to=sid,
                ignore_queue=True,  # the socket is ours: no need to go round Redis
            )
        if after_ack:
            # A task's first step runs after the handler's task has returned and queued its ack.
            task = asyncio.create_task(self._disconnect_revoked(sid), name="socket-revoked")
            self.ending.add(task)
            task.add_done_callback(self.ending.discard)
        else:
            await self._disconnect_revoked(sid)

    async def _disconnect_revoked(self, sid: str) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect(sid, ignore_queue=True)
