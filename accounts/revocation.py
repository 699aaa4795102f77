"""Revocation: "this login, or every login of this user, is no longer valid" told to every process.

HTTP requests authenticate against the database each time, so a revoked login is refused there at
once; a Socket.IO connection authenticates once, when it connects, so every process holding
sockets must hear of a revocation and end them.  One interface, two implementations that differ
only in the I/O (as ``signaling.presence`` does): :class:`MemoryRevocations` for a single process,
:class:`RedisRevocations` (pub/sub on ``{prefix}revoked``) when several processes cooperate.

Publishers call :meth:`Revocations.publish` AFTER the database change has committed, so a
subscriber that re-checks the database on hearing it sees the change.  Pub/sub is at-most-once
(a process whose subscription was down misses messages), so subscribers must not rely on it
alone: the socket layer also re-checks each login against the database now and then
(``PEILIAO_SOCKET_REAUTH_S``).  ``publish`` never raises: the change is committed already, and a
lost message is what the re-check is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import structlog

from accounts.ids import AuthSessionId, UserId

log = structlog.get_logger(__name__)

#: how long ``start`` waits for the Redis subscription, and ``publish`` for Redis to take it
REDIS_TIMEOUT_S = 5.0
#: after a lost subscription, wait this long before subscribing again
RESUBSCRIBE_S = 1.0


class Reason(StrEnum):
    """Why a login ended; the socket's ``session:revoked`` event carries it to the client."""

    LOGOUT = "logout"  # that one login session logged out
    LOGOUT_ALL = "logout_all"  # the user logged out everywhere
    DELETED = "deleted"  # the account was deleted
    ROLE_CHANGED = "role_changed"  # the login stays valid, but its sockets carry the old role
    SANCTIONED = "sanctioned"  # banned or suspended
    SESSION_ENDED = "session_ended"  # found ended on a re-check (expired, or a missed message)


@dataclass(frozen=True, slots=True)
class Revoked:
    """``session_id`` set: that login only; ``None``: every login of ``user_id``."""

    user_id: UserId
    reason: Reason
    session_id: AuthSessionId | None = None

    def encode(self, origin: str) -> str:
        return json.dumps(
            {
                "origin": origin,
                "user_id": self.user_id,
                "reason": self.reason.value,
                "session_id": self.session_id,
            }
        )

    @staticmethod
    def decode(raw: str | bytes) -> tuple[str, Revoked] | None:
        """(origin process, revocation), or None for a message that is not one."""
        try:
            body = json.loads(raw)
            session_id = body["session_id"]
            revoked = Revoked(
                UserId(str(body["user_id"])),
                Reason(body["reason"]),
                None if session_id is None else AuthSessionId(str(session_id)),
            )
            return str(body["origin"]), revoked
        except (TypeError, ValueError, KeyError):
            return None


Listener = Callable[[Revoked], Awaitable[None]]


class Revocations(Protocol):
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every revocation published by any process (this one too)."""

    async def publish(self, revoked: Revoked) -> None:
        """Tell every process; never raises (see the module's docstring)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class _Listeners:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def _deliver(self, revoked: Revoked) -> None:
        for listener in self._listeners:
            try:
                await listener(revoked)
            except Exception:
                log.exception("revocation_listener_failed", user_id=revoked.user_id)


class MemoryRevocations(_Listeners):
    """One process: the listeners are called before ``publish`` returns."""

    async def publish(self, revoked: Revoked) -> None:
        log.info("login_revoked", user_id=revoked.user_id, reason=revoked.reason.value)
        await self._deliver(revoked)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisRevocations(_Listeners):
    """Every process subscribes to ``{prefix}revoked``.  This process's own listeners are called
    directly (before the message goes out), so a logout on this process never waits on Redis;
    its own messages coming back are skipped by their ``origin``.

    A process that only publishes (the CLI) never calls ``start``."""

    def __init__(self, redis: Any, prefix: str, origin: str) -> None:
        super().__init__()
        self._r = redis
        self._channel = f"{prefix}revoked"
        self._origin = origin
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @classmethod
    def from_url(cls, url: str, prefix: str, origin: str) -> RedisRevocations:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), prefix, origin)

    async def publish(self, revoked: Revoked) -> None:
        log.info("login_revoked", user_id=revoked.user_id, reason=revoked.reason.value)
        await self._deliver(revoked)
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                await self._r.publish(self._channel, revoked.encode(self._origin))
        except Exception:
            # Committed already: other processes' re-checks end those sockets instead.
            log.exception("revocation_publish_failed", user_id=revoked.user_id)

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="revocations")
        await asyncio.wait_for(self._ready.wait(), REDIS_TIMEOUT_S)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._r.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                await self._subscribed()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Messages published while we are away are lost: the sockets' database re-check
                # (PEILIAO_SOCKET_REAUTH_S) ends those logins instead.
                log.exception("revocation_subscription_lost")
                await asyncio.sleep(RESUBSCRIBE_S)

    async def _subscribed(self) -> None:
        pubsub = self._r.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            self._ready.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                decoded = Revoked.decode(message["data"])
                if decoded is None:
                    log.warning("revocation_message_malformed")
                    continue
                origin, revoked = decoded
                if origin != self._origin:  # our own were delivered when published
                    await self._deliver(revoked)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
