"""Voice rooms' part of the app.  A room's members are a kind of metered session (``vrs_…``:
metering's notices and live spend of theirs come to the room's billing); the media relay watches
a room (``vr_…``) per participant; signaling serves the ``room:*`` events with this service and
the room's text chat (``roomchat:*``) with its transcript (``chat``); a block removes the
blocked member (``UserBlocked``, subscribed here).  The rooms start once the database and the
billing clocks run, and close (every seat settled) before they stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from audit.keys import AUDIT
from kernel.keys import API, CLOCK, EVENTS, OWNER, SETTINGS
from kernel.setup import before_cleanup
from market.voicerooms import routes
from market.voicerooms.chat import RoomTranscript
from market.voicerooms.ids import is_member_session, is_room_id
from market.voicerooms.keys import VOICE_ROOMS
from market.voicerooms.service import RoomPolicy, VoiceRoomService
from metering.keys import METERING, RUNNER, SESSION_KINDS
from moderation.events import UserBlocked
from signaling.domain_events import UserLockedOut
from signaling.keys import EMITTER, MEDIA_ROUTE, SIGNALING
from store.keys import DB

log = structlog.get_logger(__name__)


def setup(app: web.Application) -> None:
    settings, signaling, media_route = app[SETTINGS], app[SIGNALING], app[MEDIA_ROUTE]
    rooms = media_route.rooms
    voice_rooms = app[VOICE_ROOMS] = VoiceRoomService(
        app[DB],
        app[CLOCK],
        app[METERING],
        app[RUNNER],
        signaling.presence,
        app[EMITTER],
        app[AUDIT],
        rooms,
        media_route,
        owner=app[OWNER],
        policy=RoomPolicy(
            away_timeout_s=settings.away_timeout_s,
            media_lost_s=settings.media_lost_s,
            heartbeat_timeout_s=settings.heartbeat_timeout_s,
            sweep_interval_s=settings.sweep_interval_s,
            refresh_interval_s=settings.presence_ttl_s / 3,
        ),
        draining=lambda: signaling.calls.draining,
    )
    billing = voice_rooms.billing
    app[SESSION_KINDS].register("voice_room_seat", is_member_session, billing)
    rooms.serve_groups(is_room_id, billing.participant_alive, billing.participant_lost)
    signaling.serve_group_rooms(voice_rooms)
    transcript = RoomTranscript(app[DB], app[CLOCK])
    signaling.room_chat.serve(transcript)

    async def retaining(app_: web.Application) -> AsyncIterator[None]:
        """Room chat past the chat retention is purged now and then, as 1:1 chat is (every
        process may: deleting is idempotent)."""

        async def loop() -> None:
            while True:
                try:
                    await transcript.purge(settings.chat_retention_days)
                except Exception:
                    log.exception("room_chat_retention_failed")
                await asyncio.sleep(settings.chat_retention_interval_s)

        task = asyncio.create_task(loop(), name="room-chat-retention")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(retaining)

    async def blocked(event: UserBlocked) -> None:
        await voice_rooms.on_block(event.blocker_id, event.blocked_id)

    app[EVENTS].subscribe(UserBlocked, blocked)

    async def locked_out(event: UserLockedOut) -> None:
        await voice_rooms.on_sanctioned(event.user_id)

    app[EVENTS].subscribe(UserLockedOut, locked_out)

    async def start(app_: web.Application) -> None:
        await voice_rooms.start()  # on_startup: after the database and the runner are up

    app.on_startup.append(start)
    before_cleanup(app, voice_rooms.stop)  # before the sockets drain, the runner and database stop
    app[API].include(routes.api)
