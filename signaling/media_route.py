"""Media signaling goes to the process that holds the call's room.

A room lives on one process (as in LiveKit, a room fits on one node): the call's ``owner``, the
process where the companion accepted, which also runs its billing clock.  Both participants'
peer connections end there, whichever process their Socket.IO connection is on.  An offer, a
trickled candidate, a mute, a close or a report's request for the call's evidence (the
windows are sealed where they are held) that arrives on another process is sent to the owner over
Redis pub/sub and the owner's reply comes back the same way (``{prefix}media:{process}`` is each
process's inbox).  With no Redis there is one process: everything is local.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from typing import Any

import structlog

from kernel.errors import CodedError
from media.evidence_store import EvidenceStore
from media.ice import PortsExhausted
from media.room import BadOffer
from media.rooms import Rooms

log = structlog.get_logger(__name__)

#: how long a process waits for the owner of a room to answer
REPLY_TIMEOUT_S = 8.0


class MediaRoute:
    def __init__(self, rooms: Rooms, process: str) -> None:
        self.rooms = rooms
        self.process = process
        #: where a reported call's windows are written (``evidence`` runs on the room's owner:
        #: the windows are in its memory)
        self.evidence: EvidenceStore | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def call(self, owner: str, op: str, **args: Any) -> dict[str, Any]:
        """Run ``op`` on the room's owner; its result, or a ``CodedError``."""
        return await self.local(op, args)

    async def local(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            match op:
                case "answer":
                    sdp = await self.rooms.answer(
                        args["call_id"], args["mode"], args["user_id"], args["sdp"]
                    )
                    return {"sdp": sdp, "type": "answer"}
                case "candidate":
                    await self.rooms.candidate(
                        args["call_id"],
                        args["mode"],
                        args["user_id"],
                        args["candidate"],
                        args["sdp_mid"],
                        args["sdp_mline_index"],
                        args["ufrag"],
                    )
                    return {}
                case "mute":
                    joined = self.rooms.mute(
                        args["call_id"], args["user_id"], args["audio"], args["video"]
                    )
                    return {"joined": joined}
                case "close":
                    await self.rooms.close(args["call_id"])
                    return {}
                case "evidence":
                    if self.evidence is None:
                        return {"outcome": "nothing_kept"}
                    snapshots = self.rooms.snapshot(args["call_id"])
                    outcome = await self.evidence.keep(
                        args["report_id"], args["call_id"], snapshots
                    )
                    return {"outcome": outcome}
        except BadOffer as exc:
            raise CodedError("invalid_sdp", f"the offer could not be used: {exc}") from None
        except PortsExhausted:
            raise CodedError(
                "media_unavailable", "the server has no free media port; try again shortly"
            ) from None
        raise ValueError(f"unknown media operation {op!r}")


class RedisMediaRoute(MediaRoute):
    """Operations for rooms of other processes travel over Redis pub/sub."""

    def __init__(self, rooms: Rooms, process: str, redis: Any, prefix: str) -> None:
        super().__init__(rooms, process)
        self._r = redis
        self._prefix = prefix
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()

    @classmethod
    def from_url(cls, rooms: Rooms, process: str, url: str, prefix: str) -> RedisMediaRoute:
        from redis.asyncio import Redis

        return cls(rooms, process, Redis.from_url(url), prefix)

    def _inbox(self, process: str) -> str:
        return f"{self._prefix}media:{process}"

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="media-route")
        await asyncio.wait_for(self._ready.wait(), 5.0)

    async def stop(self) -> None:
        tasks = [t for t in (self._listener, *self._handlers) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._r.aclose()

    async def call(self, owner: str, op: str, **args: Any) -> dict[str, Any]:
        if owner in ("", self.process):
            return await self.local(op, args)
        request_id = secrets.token_hex(8)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        message = {"id": request_id, "reply_to": self.process, "op": op, "args": args}
        try:
            receivers = await self._r.publish(self._inbox(owner), json.dumps(message))
            if not receivers:
                raise CodedError(
                    "media_unreachable",
                    "the server holding this session's media is gone; the session will be "
                    "settled, call again",
                )
            reply = await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        except TimeoutError:
            raise CodedError(
                "media_unreachable",
                "the server holding this session's media did not answer; try again",
            ) from None
        finally:
            self._waiting.pop(request_id, None)
        if "error" in reply:
            raise CodedError(reply["error"]["code"], reply["error"]["message"])
        return dict(reply["result"])

    async def _listen(self) -> None:
        pubsub = self._r.pubsub()
        await pubsub.subscribe(self._inbox(self.process))
        self._ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    body = json.loads(message["data"])
                except (TypeError, ValueError):
                    continue
                if "reply" in body:
                    future = self._waiting.get(body["reply"])
                    if future is not None and not future.done():
                        future.set_result(body)
                else:
                    task = asyncio.create_task(self._handle(body))
                    self._handlers.add(task)
                    task.add_done_callback(self._handlers.discard)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _handle(self, body: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"reply": body.get("id")}
        try:
            reply["result"] = await self.local(str(body["op"]), dict(body["args"]))
        except CodedError as exc:
            reply["error"] = {"code": exc.code, "message": exc.message}
        except Exception:
            log.exception("media_route_failed", op=body.get("op"))
            reply["error"] = {"code": "internal", "message": "the media server failed"}
        with contextlib.suppress(Exception):
            await self._r.publish(self._inbox(str(body["reply_to"])), json.dumps(reply))
