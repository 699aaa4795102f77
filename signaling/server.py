"""The Socket.IO adapter: python-socketio's ``AsyncServer`` on the aiohttp app.

Every client → server event (``signaling.protocol.EVENTS``) goes through one wrapper that checks
who is connected, rate-limits the socket, validates the payload strictly and answers with an ack
``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``; an unknown event gets an
``unknown_event`` ack, and nothing a client sends can raise out of a handler.

Rooms: ``user:{id}`` holds every device of a user (calls, chat and meter events go there);
``presence:{id}`` holds the sockets watching a companion's status.  With ``PEILIAO_REDIS_URL``,
``AsyncRedisManager`` carries emits to sockets on other processes.

A socket lives only as long as its login (``signaling.logins``: revocations heard from any
process, and a periodic re-check).  When another process dies, ``signaling.process_loss`` settles
what it held.  The ``media:*`` events are ``signaling.media_events``.

Group voice rooms (``room:*``; ``voicerooms``) are served through ``Signaling.voice_rooms``
(``signaling.group_rooms.GroupRooms``), registered by the voicerooms package's setup
(``Signaling.serve_group_rooms``); ``media:*`` events take a room id (``vr_…``) in ``call_id`` for
the host and the members of an open room; the room's text chat (``roomchat:*``) is
``signaling.room_chat``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
import structlog
from aiohttp import web
from pydantic import ValidationError

from accounts.keys import SESSION_COOKIE
from accounts.roles import Role
from accounts.service import AccountService, Principal
from kernel.errors import CodedError, DomainError, Forbidden, RateLimited, Unauthenticated
from kernel.events import EventBus
from kernel.safe_json import JsonModule
from kernel.settings import Settings
from media.rooms import Rooms
from metering.tariff import Mode
from signaling.calls import CallService
from signaling.chat import ChatService
from signaling.domain_events import UserCameOnline
from signaling.events import Route, handles, invalid, routes
from signaling.frames import FrameRefusals, GuardedServer
from signaling.group_rooms import GroupRooms
from signaling.ids import SocketId
from signaling.lifecycle import EndReason
from signaling.limits import RateLimiter
from signaling.liveness import ProcessWatch
from signaling.logins import LOGIN_ENDED, Logins
from signaling.media_events import MediaEvents
from signaling.media_route import MediaRoute
from signaling.presence import Presence
from signaling.process_loss import ProcessLoss
from signaling.protocol import (
    CallAck,
    CallRef,
    CallRequest,
    ChatHistory,
    ChatMark,
    ChatPageAck,
    ChatReceiptsAck,
    ChatSend,
    ChatSendAck,
    ChatTypingAck,
    Done,
    OpenCallAck,
    OpenRoomAck,
    PresenceSet,
    PresenceSetAck,
    PresenceWatch,
    PresenceWatchAck,
    RoomAck,
    RoomJoin,
    RoomJoinAck,
    RoomRef,
)
from signaling.room_chat import RoomChat

log = structlog.get_logger(__name__)


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


class SocketEmitter:
    """``signaling.calls.Emitter`` over the Socket.IO server (and its manager)."""

    def __init__(self, sio: socketio.AsyncServer, events: EventBus) -> None:
        self._sio = sio
        #: ``UserCameOnline`` goes here when a user comes online (their fans are told)
        self._events = events

    async def to_user(self, user_id: str, event: str, data: dict[str, Any]) -> None:
        await self._sio.emit(event, data, room=f"user:{user_id}")

    async def presence_changed(self, user_id: str, status: str) -> None:
        await self._sio.emit(
            "presence:update", {"user_id": user_id, "status": status}, room=f"presence:{user_id}"
        )
        if status == "online":
            await self._events.publish(UserCameOnline(user_id))


def make_server(settings: Settings) -> GuardedServer:
    manager = None
    if settings.redis_url:
        manager = socketio.AsyncRedisManager(
            settings.redis_url, channel=f"{settings.redis_prefix}socketio"
        )
    return GuardedServer(
        FrameRefusals(settings.socket_refusal_logs_burst, settings.socket_refusal_logs_per_s),
        async_mode="aiohttp",
        client_manager=manager,
        # Our clients use websockets only; long-polling would be one more decoder to guard.
        transports=["websocket"],
        # Every packet's JSON: no recursion, no huge numbers, bounded nesting (signaling.frames).
        json=JsonModule(settings.max_json_depth),
        # Larger packets close the connection (engine.io's limit), before any parsing.
        max_http_buffer_size=settings.socket_max_payload_bytes,
        ping_interval=settings.socket_ping_interval_s,
        ping_timeout=settings.socket_ping_timeout_s,
        # Cookie-authenticated sockets: only pages of our own origin may open them.
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )


class Signaling:
    """The handlers, this process's sockets, and the background work (sweep, refresh, drain)."""

    def __init__(
        self,
        settings: Settings,
        sio: socketio.AsyncServer,
        accounts: AccountService,
        calls: CallService,
        chat: ChatService,
        presence: Presence,
        media: MediaRoute | None = None,
        *,
        room_chat: RoomChat,
    ) -> None:
        self.settings = settings
        self.media = media
        self.rooms: Rooms | None = media.rooms if media is not None else None
        #: group voice rooms, when the app has them (``serve_group_rooms``)
        self.voice_rooms: GroupRooms | None = None
        self.sio = sio
        self._accounts = accounts
        self.calls = calls
        self.chat = chat
        self.presence = presence
        #: this process's sockets and their logins (ended by a revocation, or a re-check)
        self.logins = Logins(settings, sio, accounts)
        self._flood = RateLimiter(settings.socket_events_burst, settings.socket_events_per_s)
        self._refused: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        loss = ProcessLoss(
            settings, calls, presence, local=self.logins.local, voice_rooms=lambda: self.voice_rooms
        )
        #: this process's heartbeat, and the reaping of processes whose heartbeat lapsed
        self.watch = ProcessWatch(
            presence,
            calls.now_ms,
            interval_s=settings.process_heartbeat_interval_s,
            lapse_s=settings.process_lapse_s,
            on_user_lost=loss.user_lost,
            on_process_lost=loss.process_lost,
            on_revived=loss.revived,
        )
        #: every client → server event and its handler (``@handles`` methods, here and media's)
        #: the ``roomchat:*`` events (text chat in group voice rooms)
        self.room_chat = room_chat
        self.routes = routes(self, MediaEvents(sio, calls, media, self._group), room_chat)
        # A logout, a deletion, a role change or a sanction, on any process, ends our sockets.
        accounts.revocations.subscribe(self.logins.revoked)
        sio.on("connect", self._connect)
        sio.on("disconnect", self._disconnect)
        sio.on("*", self._unknown)
        for name, route in self.routes.items():
            sio.on(name, self._wrap(route))

    # -- connection ---------------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if sid in self.logins.who:
            return  # a client's own event named "connect" reaches this handler too: ignored
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            request = environ.get("aiohttp.request")
            token = request.cookies.get(SESSION_COOKIE) if request is not None else None
        if self.calls.draining:
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "draining", "message": "this server is shutting down; reconnect"}
            )
        started = asyncio.get_running_loop().time()
        try:
            who = await self._accounts.authenticate(token or "")
        except Unauthenticated as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.to_dict()) from None
        self.logins.add(sid, who, started)
        try:
            await self.sio.enter_room(sid, f"user:{who.user_id}")
            devices = await self.presence.device_up(who.user_id, sid)
            if devices == 1:
                await self.calls.back(who.user_id)
                if self.voice_rooms is not None:
                    await self.voice_rooms.back(who.user_id)
                await self._announce_presence(who)
            # A reconnecting client learns its open call, and catches up from its last seq.
            call = await self.calls.open_call_of(who.user_id)
            hello = {
                "user_id": who.user_id,
                "role": who.role.value,
                "device": sid,
                "call": call,
                # the server's clock now: clients time a call from ``accepted_ms`` with it
                "server_ms": self.calls.now_ms(),
            }
            # A revocation that landed while we authenticated found no socket here to end:
            # ``Logins.confirm`` asks the database again when one of this login was heard since.
            valid = await self.logins.confirm(sid) is not None
        except Exception:
            # A refused connection gets no disconnect event: undo the registration here, or
            # the device would count as connected for ever.
            log.exception("socket_connect_failed", user_id=who.user_id)
            await self._forget(sid, who)
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "internal", "message": "could not connect you; try again"}
            ) from None
        if valid:
            await self.sio.emit("session:hello", hello, to=sid)
            if call is not None and call["status"] == "active":
                # the spend so far, now, not at the next billing step (a convenience: the
                # connection stands without it)
                try:
                    meter = await self.calls.meter_of(call["call_id"], who.user_id)
                    if meter is not None:
                        await self.sio.emit("session:meter", meter, to=sid)
                except Exception:
                    log.exception("resume_meter_failed", user_id=who.user_id)
        if not valid or self.logins.is_revoked(sid):  # ended before, or while we said hello
            await self._forget(sid, who)
            raise socketio.exceptions.ConnectionRefusedError(Unauthenticated(LOGIN_ENDED).to_dict())
        # No await since the check above: a revocation from now on disconnects the socket.
        self.logins.connected(sid)
        log.info("socket_connected", user_id=who.user_id, devices=devices)

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        if self.sio.manager.is_connected(sid, "/"):
            # A client's own event named "disconnect" reaches this handler too; the real one
            # comes after python-socketio has marked the socket gone.
            return
        who = self.logins.who.get(sid)
        self._flood.forget(sid)
        self._refused.pop(sid, None)
        self.logins.forget_revoked(sid)
        if who is None:
            return
        await self._forget(sid, who)
        log.info("socket_disconnected", user_id=who.user_id, reason=str(reason))

    async def _forget(self, sid: str, who: Principal) -> None:
        self.logins.remove(sid, who)
        try:
            devices = await self.presence.device_down(who.user_id, sid)
            if devices == 0:
                await self.calls.away(who.user_id)
                if self.voice_rooms is not None:
                    await self.voice_rooms.away(who.user_id)
                await self._announce_presence(who)
        except Exception:
            log.exception("disconnect_failed", user_id=who.user_id)

    async def _announce_presence(self, who: Principal) -> None:
        if who.role is Role.COMPANION:
            status = (await self.presence.statuses([who.user_id]))[who.user_id]
            await self.calls.emitter.presence_changed(who.user_id, status)

    # -- the wrapper --------------------------------------------------------------------------

    def _wrap(self, route: Route) -> Callable[..., Awaitable[dict[str, Any]]]:
        name = route.event

        async def run(sid: SocketId, *args: object) -> dict[str, Any]:
            who = self.logins.who.get(sid)
            if who is None:
                return error("unauthenticated", "connect with a valid token first")
            if self.logins.is_revoked(sid):
                return error("unauthenticated", LOGIN_ENDED)
            if not self._flood.allow(sid):
                return await self._flooding(sid)
            self._refused.pop(sid, None)  # only refusals in a row count towards a disconnect
            try:
                if await self.logins.confirm(sid) is None:
                    return error("unauthenticated", LOGIN_ENDED)
                payload = route.parse(args)  # strictly, with the event's protocol model
                async with asyncio.timeout(self.settings.db_timeout_s * 3):
                    result = await route.handler(who, sid, payload)
                return {"ok": True, **result}
            except ValidationError as exc:  # a model a handler built itself
                return {"ok": False, "error": invalid(exc).to_dict()}
            except DomainError as exc:
                return {"ok": False, "error": exc.to_dict()}
            except TimeoutError:
                log.warning("socket_event_timeout", socket_event=name, user_id=who.user_id)
                return error("timeout", "the server took too long; try again")
            except Exception:
                log.exception("socket_event_failed", socket_event=name, user_id=who.user_id)
                return error("internal", "something went wrong on our side; try again")

        return run

    async def _flooding(self, sid: str) -> dict[str, Any]:
        self._refused[sid] = self._refused.get(sid, 0) + 1
        if self._refused[sid] > self.settings.socket_events_burst:
            log.warning(
                "socket_flood_disconnect",
                user_id=getattr(self.logins.who.get(sid), "user_id", None),
            )
            await self.sio.disconnect(sid)
        return {"ok": False, "error": RateLimited("too many events; slow down").to_dict()}

    async def _unknown(self, *args: Any) -> dict[str, Any]:
        # python-socketio calls the catch-all with (event, sid, *data) for an unknown event, but
        # with (sid, *data) for an event literally named "*".
        if len(args) >= 2 and isinstance(args[1], str) and args[1] in self.logins.who:
            event, sid = args[0], args[1]
        elif args and isinstance(args[0], str) and args[0] in self.logins.who:
            event, sid = "*", args[0]
        else:
            return error("unauthenticated", "connect with a valid token first")
        if sid not in self.logins.who:
            return error("unauthenticated", "connect with a valid token first")
        if self.logins.is_revoked(sid):
            return error("unauthenticated", LOGIN_ENDED)
        if not self._flood.allow(sid):
            return await self._flooding(sid)
        return error("unknown_event", f"no such event: {str(event)[:64]!r}")

    # -- handlers -----------------------------------------------------------------------------

    @handles("presence:set", PresenceSet)
    async def _presence_set(self, who: Principal, sid: SocketId, p: PresenceSet) -> PresenceSetAck:
        if who.role is not Role.COMPANION:
            raise Forbidden("only companions take orders")
        await self.presence.set_accepting(who.user_id, p.accepting)
        status = (await self.presence.statuses([who.user_id]))[who.user_id]
        await self.calls.emitter.presence_changed(who.user_id, status)
        return {"status": status}

    @handles("presence:watch", PresenceWatch)
    async def _presence_watch(
        self, who: Principal, sid: SocketId, p: PresenceWatch
    ) -> PresenceWatchAck:
        ids: list[str] = list(dict.fromkeys(p.user_ids))
        # Someone who blocked you (or whom you blocked) is never seen online by you.
        hidden = {uid for uid in ids if await self.calls.blocks.between(who.user_id, uid)}
        visible = [uid for uid in ids if uid not in hidden]
        for uid in visible:
            await self.sio.enter_room(sid, f"presence:{uid}")
        statuses = await self.presence.statuses(visible)
        return {"statuses": statuses | dict.fromkeys(hidden, "offline")}

    @handles("presence:unwatch", PresenceWatch)
    async def _presence_unwatch(self, who: Principal, sid: SocketId, p: PresenceWatch) -> Done:
        for uid in p.user_ids:
            await self.sio.leave_room(sid, f"presence:{uid}")
        return {}

    @handles("call:request", CallRequest)
    async def _call_request(self, who: Principal, sid: SocketId, p: CallRequest) -> CallAck:
        return {"call": await self.calls.request(who, p.companion_id, Mode(p.mode), p.request_id)}

    @handles("call:accept", CallRef)
    async def _call_accept(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        return {"call": await self.calls.accept(who, p.call_id, sid)}

    @handles("call:decline", CallRef)
    async def _call_decline(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        return {"call": await self.calls.decline(who, p.call_id)}

    @handles("call:cancel", CallRef)
    async def _call_cancel(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        return {"call": await self.calls.cancel(who, p.call_id)}

    @handles("call:hangup", CallRef)
    async def _call_hangup(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        return {"call": await self.calls.hangup(who, p.call_id)}

    @handles("call:get", CallRef)
    async def _call_get(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        return {"call": await self.calls.get(who, p.call_id)}

    @handles("call:current", None)
    async def _call_current(self, who: Principal, sid: SocketId, p: None) -> OpenCallAck:
        return {"call": await self.calls.open_call_of(who.user_id)}

    @handles("chat:send", ChatSend)
    async def _chat_send(self, who: Principal, sid: SocketId, p: ChatSend) -> ChatSendAck:
        return await self.chat.send(who, p.call_id, p.client_id, p.text)

    @handles("chat:history", ChatHistory)
    async def _chat_history(self, who: Principal, sid: SocketId, p: ChatHistory) -> ChatPageAck:
        return await self.chat.history(
            who, p.call_id, after_seq=p.after_seq, before_seq=p.before_seq, limit=p.limit
        )

    @handles("chat:delivered", ChatMark)
    async def _chat_delivered(self, who: Principal, sid: SocketId, p: ChatMark) -> ChatReceiptsAck:
        return await self.chat.mark(who, p.call_id, p.seq, "delivered")

    @handles("chat:read", ChatMark)
    async def _chat_read(self, who: Principal, sid: SocketId, p: ChatMark) -> ChatReceiptsAck:
        return await self.chat.mark(who, p.call_id, p.seq, "read")

    @handles("chat:typing", CallRef)
    async def _chat_typing(self, who: Principal, sid: SocketId, p: CallRef) -> ChatTypingAck:
        return await self.chat.typing(who, p.call_id)

    def _group(self) -> GroupRooms:
        if self.voice_rooms is None:
            raise CodedError("rooms_unavailable", "this server has no voice rooms")
        return self.voice_rooms

    @handles("room:join", RoomJoin)
    async def _room_join(self, who: Principal, sid: SocketId, p: RoomJoin) -> RoomJoinAck:
        joined = await self._group().join(who, p.room_id, p.request_id)
        return {"room": joined["room"], "session_id": joined["session_id"]}

    @handles("room:leave", RoomRef)
    async def _room_leave(self, who: Principal, sid: SocketId, p: RoomRef) -> RoomAck:
        return {"room": (await self._group().leave(who, p.room_id))["room"]}

    @handles("room:current", None)
    async def _room_current(self, who: Principal, sid: SocketId, p: None) -> OpenRoomAck:
        return {"room": await self._group().current(who.user_id)}

    @handles("admin:end", CallRef)
    async def _admin_end(self, who: Principal, sid: SocketId, p: CallRef) -> CallAck:
        if who.role is not Role.ADMIN:
            raise Forbidden("only admins can end someone else's session")
        return {"call": await self.calls.terminate(p.call_id, EndReason.ADMIN)}

    # -- background ---------------------------------------------------------------------------

    async def _sweeping(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval_s)
            try:
                await self.calls.sweep()
            except Exception:
                log.exception("call_sweep_failed")

    async def _retaining(self) -> None:
        """Purge chat older than the retention, and call evidence past its own, now and then
        (every process may: deleting is idempotent)."""
        while True:
            try:
                await self.chat.purge(self.settings.chat_retention_days)
            except Exception:
                log.exception("chat_retention_failed")
            if self.media is not None and self.media.evidence is not None:
                try:
                    await self.media.evidence.sweep()
                except Exception:
                    log.exception("call_evidence_sweep_failed")
            await asyncio.sleep(self.settings.chat_retention_interval_s)

    async def _reauthing(self) -> None:
        """Every half ``PEILIAO_SOCKET_REAUTH_S``: the sockets' login re-checks, in batches
        (``Logins.refresh``), ahead of the events that would otherwise wait for them."""
        while True:
            await asyncio.sleep(self.settings.socket_reauth_s / 2)
            try:
                await self.logins.refresh()
            except Exception:
                log.exception("login_recheck_failed")

    async def _refreshing(self) -> None:
        while True:
            await asyncio.sleep(self.settings.presence_ttl_s / 3)
            try:
                await self.presence.refresh(self.logins.local)
                await self.calls.keep_claims()
            except Exception:
                log.exception("presence_refresh_failed")

    async def start(self) -> None:
        await self.chat.writer.start()
        if self.media is not None:
            await self.media.start()
        self._tasks = [
            asyncio.create_task(self._sweeping(), name="call-sweep"),
            asyncio.create_task(self._refreshing(), name="presence-refresh"),
            asyncio.create_task(self._retaining(), name="chat-retention"),
            asyncio.create_task(self.watch.run(), name="process-watch"),
        ]
        if self.settings.socket_reauth_ahead:
            self._tasks.append(asyncio.create_task(self._reauthing(), name="login-recheck"))

    def serve_group_rooms(self, rooms: GroupRooms) -> None:
        """Serve ``room:*`` events with these group voice rooms (the voicerooms package's
        setup registers its service here)."""
        self.voice_rooms = rooms

    async def stop(self) -> None:
        pending = [*self._tasks, *self.logins.ending]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.chat.writer.stop()
        if self.media is not None:
            await self.media.stop()
            await self.media.rooms.close_all()

    async def drain(self) -> None:
        """Stop taking calls; let this process's calls go on for the drain time-out; then end
        them with final billing and tell every client here to reconnect elsewhere."""
        if self.calls.draining:
            return  # drained already (by the serve command, before the app's shutdown hook)
        self.calls.draining = True
        await self._to_local(
            "server:draining",
            {"reconnect": True, "deadline_s": self.settings.drain_timeout_s},
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.drain_timeout_s
        try:
            while loop.time() < deadline and await self.calls.open_owned():  # noqa: ASYNC110 (polls the database)
                await asyncio.sleep(min(0.5, max(0.0, deadline - loop.time())))
            ended = await self.calls.drain()
            log.info("signaling_drained", ended_calls=len(ended))
        except Exception:
            # The database is gone: the sweep of another process (or of this one on restart)
            # settles these calls from their metered sessions.
            log.exception("signaling_drain_failed")
        for sid in list(self.logins.who):
            with contextlib.suppress(Exception):
                await self.sio.disconnect(sid)

    async def _to_local(self, event: str, data: dict[str, Any]) -> None:
        for sid in list(self.logins.who):
            with contextlib.suppress(Exception):
                await self.sio.emit(event, data, to=sid)


def lifecycle_ctx(signaling: Signaling) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        await signaling.start()
        yield
        await signaling.stop()
        await signaling.presence.close()

    return ctx
