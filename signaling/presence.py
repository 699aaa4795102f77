"""Presence, and the one-open-call-per-companion claim, shared by every server process.

One interface, two implementations that differ only in the I/O (as python-socketio's managers
do): :class:`MemoryPresence` for a single process, :class:`RedisPresence` when several processes
cooperate.  The same tests run against both.

- Devices: each connected socket of a user, with an expiry the owning process refreshes
  (``refresh``), so the devices of a process that died vanish by themselves.
- Accepting: the companion's "online, taking orders" switch (kept while they are connected).
- Claim: which call holds the companion (ringing or active); ``SET NX PX`` in Redis, refreshed
  while the call lives, so a dead process frees it by itself.  The database's partial unique index
  on open calls is the backstop; the claim is the fast, cross-process check.

A companion's status: ``busy`` while a call holds them, else ``online`` if they are accepting
and have a device connected, else ``offline``.

- Processes: each process heartbeats itself (``heartbeat``: a sorted set of process → time of
  its last heartbeat, in ms of the app's clock) and every device records the process holding
  its socket.  A process silent for longer than the lapse is dead; ``lapsed`` lists those, and
  ``reap`` — atomic, so exactly one live process wins it, and a heartbeat that comes after all
  (a process that was only slow) either beats it or finds itself reaped — removes the dead
  process's devices and says which users it left with none (``signaling.liveness`` marks them
  away as of that last heartbeat).  The device TTL stays as the backstop if nobody reaps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

ONLINE, BUSY, OFFLINE = "online", "busy", "offline"


def status_of(devices: int, accepting: bool, claimed: bool) -> str:
    if claimed:
        return BUSY
    return ONLINE if devices > 0 and accepting else OFFLINE


class Presence(Protocol):
    async def device_up(self, user_id: str, sid: str) -> int:
        """Count ``sid`` as a device of ``user_id``; the user's device count after."""

    async def device_down(self, user_id: str, sid: str) -> int:
        """Forget ``sid``; the user's device count after (0: every device is gone)."""

    async def devices(self, user_id: str) -> int: ...

    async def refresh(self, devices: Mapping[str, Iterable[str]]) -> None:
        """Keep this process's devices (user → sids) alive for another ``device_ttl``."""

    async def set_accepting(self, user_id: str, accepting: bool) -> None: ...

    async def statuses(self, user_ids: list[str]) -> dict[str, str]: ...

    async def claim(self, companion_id: str, call_id: str) -> str:
        """Hold the companion for ``call_id`` if free; the call that holds them after."""

    async def keep(self, companion_id: str, call_id: str) -> bool:
        """Extend ``call_id``'s claim; False if it no longer holds the companion."""

    async def release(self, companion_id: str, call_id: str) -> None:
        """Free the companion if ``call_id`` holds them (another call's claim is kept)."""

    async def holder(self, companion_id: str) -> str | None: ...

    async def heartbeat(self, now_ms: int, lapse_ms: int) -> bool:
        """This process is alive at ``now_ms``.  True if it was not known alive a moment ago
        (its first heartbeat, or its last is older than ``lapse_ms``: another process may
        have reaped it, so it must register its devices again)."""

    async def lapsed(self, before_ms: int, limit: int = 16) -> list[tuple[str, int]]:
        """Other processes whose last heartbeat is older than ``before_ms``: (process, last
        heartbeat ms), oldest first, at most ``limit``."""

    async def reap(self, process: str, before_ms: int) -> list[str] | None:
        """If ``process`` is still lapsed (last heartbeat older than ``before_ms``): forget it
        and its devices, and return the users it left with no device.  None if another
        process reaped it first or it heartbeat again meanwhile."""

    async def close(self) -> None: ...


class MemoryPresence:
    """Everything in this process's memory: there is no other process to tell."""

    def __init__(self) -> None:
        self._devices: dict[str, set[str]] = {}
        self._accepting: set[str] = set()
        self._claims: dict[str, str] = {}

    async def device_up(self, user_id: str, sid: str) -> int:
        self._devices.setdefault(user_id, set()).add(sid)
        return len(self._devices[user_id])

    async def device_down(self, user_id: str, sid: str) -> int:
        sids = self._devices.get(user_id, set())
        sids.discard(sid)
        if not sids:
            self._devices.pop(user_id, None)
        return len(sids)

    async def devices(self, user_id: str) -> int:
        return len(self._devices.get(user_id, ()))

    async def refresh(self, devices: Mapping[str, Iterable[str]]) -> None:
        return None  # nothing expires: a process's memory dies with it

    async def set_accepting(self, user_id: str, accepting: bool) -> None:
        if accepting:
            self._accepting.add(user_id)
        else:
            self._accepting.discard(user_id)

    async def statuses(self, user_ids: list[str]) -> dict[str, str]:
        return {
            u: status_of(len(self._devices.get(u, ())), u in self._accepting, u in self._claims)
            for u in user_ids
        }

    async def claim(self, companion_id: str, call_id: str) -> str:
        return self._claims.setdefault(companion_id, call_id)

    async def keep(self, companion_id: str, call_id: str) -> bool:
        return self._claims.get(companion_id) == call_id

    async def release(self, companion_id: str, call_id: str) -> None:
        if self._claims.get(companion_id) == call_id:
            del self._claims[companion_id]

    async def holder(self, companion_id: str) -> str | None:
        return self._claims.get(companion_id)

    async def heartbeat(self, now_ms: int, lapse_ms: int) -> bool:
        return False  # one process: nobody else can find it dead

    async def lapsed(self, before_ms: int, limit: int = 16) -> list[tuple[str, int]]:
        return []

    async def reap(self, process: str, before_ms: int) -> list[str] | None:
        return None

    async def close(self) -> None:
        return None


# Scripts run atomically in Redis, with Redis's own clock (one clock for every process).
# KEYS[2] (a hash sid → user of this process's devices) is what ``reap`` finds them by.
_DEVICE_UP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""
_DEVICE_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""
# KEYS[1]: the process heartbeats (sorted set); ARGV: process, now ms, lapse ms.
_HEARTBEAT = """
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if not last or tonumber(ARGV[2]) - tonumber(last) > tonumber(ARGV[3]) then
  return 1
end
return 0
"""
# KEYS[1]: the process heartbeats; KEYS[2]: the dead process's devices (sid → user);
# ARGV: process, lapsed-before ms, the device key prefix.  The user device keys are derived
# here (one Redis, not a cluster): the reap must be one atomic step against a late heartbeat.
_REAP = """
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not last or tonumber(last) >= tonumber(ARGV[2]) then
  return false
end
redis.call('ZREM', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local devices = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[2])
local gone = {}
for i = 1, #devices, 2 do
  local key = ARGV[3] .. devices[i + 1]
  redis.call('ZREM', key, devices[i])
  if redis.call('ZCOUNT', key, '(' .. now, '+inf') == 0 then
    gone[#gone + 1] = devices[i + 1]
  end
end
return gone
"""
_DEVICES = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""
_REFRESH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[i - 1], 'XX', now + ttl, ARGV[i])
  redis.call('PEXPIRE', KEYS[i - 1], ttl)
end
return 1
"""
_KEEP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisPresence:
    """Presence and claims in Redis, under ``prefix``, shared by every process."""

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "peiliao:",
        device_ttl_ms: int = 90_000,
        claim_ttl_ms: int = 90_000,
        process: str = "local",
    ) -> None:
        self._r = redis
        self._p = prefix
        #: this process, as its heartbeat and its devices name it (the app's ``owner``)
        self.process = process
        self._device_ttl_ms = device_ttl_ms
        self._claim_ttl_ms = claim_ttl_ms
        self._up = redis.register_script(_DEVICE_UP)
        self._down = redis.register_script(_DEVICE_DOWN)
        self._count = redis.register_script(_DEVICES)
        self._refresh = redis.register_script(_REFRESH)
        self._keep = redis.register_script(_KEEP)
        self._release = redis.register_script(_RELEASE)
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._reap = redis.register_script(_REAP)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisPresence:
        from redis import asyncio as aioredis

        return cls(aioredis.from_url(url, decode_responses=True), **kwargs)

    def _dev(self, user_id: str) -> str:
        return f"{self._p}dev:{user_id}"

    def _procs(self) -> str:
        return f"{self._p}procs"

    def _proc_devs(self, process: str) -> str:
        return f"{self._p}procdev:{process}"

    def _acc(self, user_id: str) -> str:
        return f"{self._p}accepting:{user_id}"

    def _claim(self, companion_id: str) -> str:
        return f"{self._p}claim:{companion_id}"

    async def device_up(self, user_id: str, sid: str) -> int:
        return int(
            await self._up(
                keys=[self._dev(user_id), self._proc_devs(self.process)],
                args=[sid, self._device_ttl_ms, user_id],
            )
        )

    async def device_down(self, user_id: str, sid: str) -> int:
        return int(
            await self._down(keys=[self._dev(user_id), self._proc_devs(self.process)], args=[sid])
        )

    async def devices(self, user_id: str) -> int:
        return int(await self._count(keys=[self._dev(user_id)]))

    async def refresh(self, devices: Mapping[str, Iterable[str]]) -> None:
        keys: list[str] = []
        sids: list[str] = []
        for user_id, user_sids in devices.items():
            for sid in user_sids:
                keys.append(self._dev(user_id))
                sids.append(sid)
        for lo in range(0, len(keys), 500):  # bounded script arguments
            await self._refresh(
                keys=keys[lo : lo + 500], args=[self._device_ttl_ms, *sids[lo : lo + 500]]
            )
        # The process's own list of its devices lives as long as they do.
        await self._r.pexpire(self._proc_devs(self.process), self._device_ttl_ms)

    async def set_accepting(self, user_id: str, accepting: bool) -> None:
        if accepting:
            await self._r.set(self._acc(user_id), "1")
        else:
            await self._r.delete(self._acc(user_id))

    async def statuses(self, user_ids: list[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        now_ms = int(time.time() * 1000)  # only to skip expired devices; they expire anyway
        async with self._r.pipeline(transaction=False) as pipe:
            for u in user_ids:
                pipe.zcount(self._dev(u), f"({now_ms}", "+inf")
                pipe.exists(self._acc(u))
                pipe.exists(self._claim(u))
            out = await pipe.execute()
        return {
            u: status_of(int(out[3 * i]), bool(out[3 * i + 1]), bool(out[3 * i + 2]))
            for i, u in enumerate(user_ids)
        }

    async def claim(self, companion_id: str, call_id: str) -> str:
        key = self._claim(companion_id)
        if await self._r.set(key, call_id, nx=True, px=self._claim_ttl_ms):
            return call_id
        holder = await self._r.get(key)
        if holder is None:  # it expired between the two commands: try once more
            if await self._r.set(key, call_id, nx=True, px=self._claim_ttl_ms):
                return call_id
            holder = await self._r.get(key)
        return str(holder) if holder is not None else ""  # held, by whom is unknown

    async def keep(self, companion_id: str, call_id: str) -> bool:
        return bool(
            await self._keep(keys=[self._claim(companion_id)], args=[call_id, self._claim_ttl_ms])
        )

    async def release(self, companion_id: str, call_id: str) -> None:
        await self._release(keys=[self._claim(companion_id)], args=[call_id])

    async def holder(self, companion_id: str) -> str | None:
        value = await self._r.get(self._claim(companion_id))
        return str(value) if value is not None else None

    async def heartbeat(self, now_ms: int, lapse_ms: int) -> bool:
        return bool(
            await self._heartbeat(keys=[self._procs()], args=[self.process, now_ms, lapse_ms])
        )

    async def lapsed(self, before_ms: int, limit: int = 16) -> list[tuple[str, int]]:
        found = await self._r.zrangebyscore(
            self._procs(), "-inf", f"({before_ms}", start=0, num=limit, withscores=True
        )
        return [(str(p), int(ms)) for p, ms in found if p != self.process]

    async def reap(self, process: str, before_ms: int) -> list[str] | None:
        gone = await self._reap(
            keys=[self._procs(), self._proc_devs(process)],
            args=[process, before_ms, f"{self._p}dev:"],
        )
        return None if gone is None else sorted({str(u) for u in gone})

    async def close(self) -> None:
        await self._r.aclose()
