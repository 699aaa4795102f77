"""Signaling's part of the app: presence, calls, chat, the media relay and its route between
processes, the Socket.IO server on the app, and its background work and drain.

Its reactions to other domains' news are subscribed here: a block ends the call between the two
(``UserBlocked``); a call's end closes its media room and forgets its chat's moderation window
(``CallEnded``).  Calls are a kind of metered session: metering's notices of ``call_…`` sessions
come to ``CallService`` through the registry of session kinds."""

from __future__ import annotations

import contextlib

import structlog
from aiohttp import web

from accounts.keys import ACCOUNTS, SANCTIONS
from audit.keys import AUDIT
from kernel.crypto import Sealer
from kernel.errors import DomainError
from kernel.keys import API, CLOCK, EVENTS, OWNER, SETTINGS
from kernel.setup import before_cleanup
from media.evidence_store import EvidenceStore
from media.ice import IcePolicy
from media.rooms import Rooms
from metering.keys import METERING, RUNNER, SESSION_KINDS
from moderation.chat_rules import ChatRules
from moderation.events import UserBlocked
from moderation.keys import BLOCKS, CALL_EVIDENCE, REPORTS
from signaling import fair_routes, routes
from signaling.call_evidence import CallEvidence
from signaling.calls import Blocks, CallService
from signaling.chat import ChatService, ForReview, Moderation
from signaling.domain_events import CallEnded, UserLockedOut
from signaling.fair_service import FairService
from signaling.fairness import FairRule
from signaling.keys import CALLS, EMITTER, EVIDENCE, FAIR, MEDIA_ROUTE, SIGNALING
from signaling.lifecycle import EndReason
from signaling.lifecycle import Policy as CallPolicy
from signaling.limits import RateLimiter
from signaling.media_route import MediaRoute, RedisMediaRoute
from signaling.presence import MemoryPresence, Presence, RedisPresence
from signaling.ringing import is_call_id
from signaling.room_chat import RoomChat
from signaling.server import Signaling, SocketEmitter, lifecycle_ctx, make_server
from store.keys import DB

log = structlog.get_logger("peiliao")


def setup(
    app: web.Application, *, blocks: Blocks | None = None, moderation: Moderation | None = None
) -> None:
    """``blocks`` and ``moderation`` replace moderation's own (tests)."""
    settings, clock, db, owner, events = (
        app[SETTINGS],
        app[CLOCK],
        app[DB],
        app[OWNER],
        app[EVENTS],
    )
    sio = make_server(settings)
    presence: Presence = (
        RedisPresence.from_url(
            settings.redis_url,
            prefix=settings.redis_prefix,
            device_ttl_ms=settings.presence_ttl_s * 1000,
            claim_ttl_ms=settings.presence_ttl_s * 1000,
            process=owner,
        )
        if settings.redis_url
        else MemoryPresence()
    )
    emitter = app[EMITTER] = SocketEmitter(sio, events)
    calls = app[CALLS] = CallService(
        db,
        clock,
        app[METERING],
        app[RUNNER],
        presence,
        emitter,
        blocks or app[BLOCKS],
        events,
        policy=CallPolicy(
            ring_timeout_ms=settings.ring_timeout_s * 1000,
            away_timeout_ms=settings.away_timeout_s * 1000,
        ),
        owner=owner,
    )
    app[SESSION_KINDS].register("call", is_call_id, calls)
    chat_rules = ChatRules.from_secret(
        settings.secret_key, settings.moderation_policy, lambda: clock.now().timestamp()
    )
    chat = ChatService(
        db,
        clock,
        calls,
        emitter,
        moderation or chat_rules,
        RateLimiter(settings.chat_messages_burst, settings.chat_messages_per_s),
        may_send=app[SANCTIONS].check_chat,
    )
    reports = app[REPORTS]

    async def queue_for_review(item: ForReview) -> None:
        await reports.flag(
            item.call_id,
            item.sender_id,
            item.seq,
            item.categories,
            priority=item.priority,
            blocked_text=item.blocked_text,
        )

    chat.on_review.append(queue_for_review)
    # Text chat in group voice rooms: the same limits (a bucket of its own), mute, moderation
    # (its windows keyed by the room) and admin queue; the voicerooms package serves it.
    room_chat = RoomChat(
        emitter,
        moderation or chat_rules,
        RateLimiter(settings.chat_messages_burst, settings.chat_messages_per_s),
        app[BLOCKS].hidden_among,
        app[SANCTIONS].check_chat,
    )
    room_chat.on_review.append(queue_for_review)

    async def media_lost(call_id: str) -> None:
        await calls.terminate(call_id, EndReason.MEDIA_LOST)

    async def media_slots(call_id: str, user_id: str, slots: list[dict[str, str]]) -> None:
        await emitter.to_user(user_id, "media:slots", {"call_id": call_id, "slots": slots})

    fair = app[FAIR] = FairService(
        db,
        clock,
        app[METERING],
        app[AUDIT],
        emitter,
        FairRule(
            enabled=settings.fair_enabled,
            voiced_dbov=settings.fair_voiced_dbov,
            silent_voiced_s=settings.fair_silent_voiced_s,
            listening_voiced_s=settings.fair_listening_voiced_s,
            text_wait_s=settings.fair_text_wait_s,
            refund_percent=settings.fair_refund_percent,
            min_minutes=settings.fair_min_minutes,
            min_share_percent=settings.fair_min_share_percent,
            min_judged_s=settings.fair_min_judged_s,
        ),
    )

    rooms = Rooms(
        IcePolicy.from_settings(settings),
        on_flow=calls.media_flow,
        on_lost=media_lost,
        on_slots=media_slots,
        silence_s=settings.media_silence_s,
        lost_s=settings.media_lost_s,
        evidence_window_s=settings.evidence_window_s,
        after_call_s=settings.evidence_after_call_s,
        clock=clock,
        on_talk=fair.talk_recorded,
        voiced_dbov=settings.fair_voiced_dbov,
    )
    media_route = app[MEDIA_ROUTE] = (
        RedisMediaRoute.from_url(rooms, owner, settings.redis_url, settings.redis_prefix)
        if settings.redis_url
        else MediaRoute(rooms, owner)
    )
    # Safety evidence: the windows are sealed where they are held (the room's owner).
    media_route.evidence = app[EVIDENCE] = EvidenceStore(
        db, clock, Sealer.from_settings(settings), settings.evidence_retention_days
    )
    call_evidence = CallEvidence(
        db,
        clock,
        media_route,
        window_s=settings.evidence_window_s,
        after_call_s=settings.evidence_after_call_s,
        retention_days=settings.evidence_retention_days,
    )
    calls.safety_notice = call_evidence.notice
    app[CALL_EVIDENCE] = call_evidence.keep
    calls.on_notice_hooks.append(rooms.billing_notice)  # paused for money: the relay pauses too

    async def forget_chat(event: CallEnded) -> None:
        await chat_rules.forget(event.call_id)

    async def close_media(event: CallEnded) -> None:
        # The room lives on the call's owner, which may be another process.
        _, mode, home = await calls.media_home(event.call_id)
        if mode in ("voice", "video"):
            try:
                await media_route.call(home, "close", call_id=event.call_id)
            except DomainError as exc:
                log.warning("media_close_failed", call_id=event.call_id, code=exc.code)

    async def end_blocked_call(event: UserBlocked) -> None:
        # A block ends any open call between the two: no more messages or media either way.
        view = await calls.open_call_of(event.blocker_id)
        if view is not None and event.blocked_id in (
            view["customer"]["id"],
            view["companion"]["id"],
        ):
            with contextlib.suppress(DomainError):
                await calls.terminate(view["call_id"], EndReason.MODERATION)

    async def end_locked_out_call(event: UserLockedOut) -> None:
        # A suspension or ban ends the user's open call, billed to this moment.
        view = await calls.open_call_of(event.user_id)
        if view is not None:
            with contextlib.suppress(DomainError):
                await calls.terminate(view["call_id"], EndReason.MODERATION)

    events.subscribe(CallEnded, forget_chat)
    events.subscribe(UserLockedOut, end_locked_out_call)
    events.subscribe(CallEnded, close_media)

    async def judge_call(event: CallEnded) -> None:
        # After close_media: a voice/video call's traces are in by now when its room was here.
        await fair.call_ended(event.call_id)

    events.subscribe(CallEnded, judge_call)
    events.subscribe(UserBlocked, end_blocked_call)

    signaling = app[SIGNALING] = Signaling(
        settings, sio, app[ACCOUNTS], calls, chat, presence, media_route, room_chat=room_chat
    )
    sanctions = app[SANCTIONS]

    async def locked_out(user_id: str) -> None:
        await events.publish(UserLockedOut(user_id))

    # Heard through the revocation channel (or found on a socket's re-check): tell the domains.
    signaling.logins.on_sanctioned.append(locked_out)
    signaling.logins.locked_out = sanctions.locked_out
    sio.attach(app, socketio_path="socket.io")
    app[API].include(routes.api)
    app[API].include(fair_routes.api)
    app.cleanup_ctx.append(lifecycle_ctx(signaling))
    before_cleanup(app, signaling.drain)  # the last to stop: the packages on top stop first
