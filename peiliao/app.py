"""The composition root: ``create_app(settings)`` builds the whole server; nothing else wires."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from accounts import routes as account_routes
from accounts.real_name import RealNameService
from accounts.real_name import SandboxProvider as SandboxRealNameProvider
from accounts.revocation import MemoryRevocations, RedisRevocations, Revocations
from accounts.routes import ACCOUNTS, DEV_OUTBOX, SETTINGS, SessionAuthenticator
from accounts.sanctions import SanctionService
from accounts.service import AccountService
from accounts.sms import DevOutbox, SmsSender
from audit import routes as audit_routes
from audit.log import AuditLog
from kernel.clock import Clock, SystemClock
from kernel.crypto import Sealer as DataSealer
from kernel.cursor import CursorCodec
from kernel.errors import DomainError
from kernel.http.api import AUTHENTICATOR, CURSORS, Api
from kernel.http.middleware import TELEMETRY, errors, request_context, security_headers
from kernel.settings import Settings
from kernel.telemetry import PrometheusTelemetry
from market.appeals import routes as appeal_routes
from market.appeals.rules import Policy as AppealPolicy
from market.appeals.service import AppealService
from market.bookings import routes as booking_routes
from market.bookings.rules import Policy as BookingPolicy
from market.bookings.scheduler import BookingScheduler
from market.bookings.service import BookingService
from market.catalog import routes as catalog_routes
from market.catalog.favourites import FavouriteService
from market.catalog.listing import Catalog
from market.catalog.recommender import Recommender
from market.reviews import routes as review_routes
from market.reviews.service import ReviewService
from market.reviews.stats import StatsService
from market.support import routes as support_routes
from market.support.rules import Policy as TicketPolicy
from market.support.tickets import TicketService
from market.vetting import application_routes as vetting_application_routes
from market.vetting import review_routes as vetting_review_routes
from market.vetting import routes as vetting_routes
from market.vetting.applications import Policy as VettingPolicy
from market.vetting.service import VettingService
from market.voicerooms import routes as voicerooms_routes
from market.voicerooms.ids import is_member_session, is_room_id
from market.voicerooms.service import RoomPolicy, VoiceRoomService
from media.ice import IcePolicy
from media.rooms import Rooms
from metering import history as metering_history
from metering import keys as metering_keys
from metering.batch import TickBatcher
from metering.payments import (
    PaymentProvider,
)
from metering.payouts import PayoutProvider, Payouts, Sealer
from metering.routes import api as metering_api
from metering.runner import MeteringRunner
from metering.service import MeteringPolicy, MeteringService, Notice, Update
from metering.wallet import Wallets
from moderation import routes as moderation_routes
from moderation import sanction_routes
from moderation.blocks import BlockService
from moderation.chat_rules import ChatRules
from moderation.reports import ReportService
from moderation.sanction_routes import SANCTIONS
from peiliao.keys import CLOCK, DB, OPENAPI, PROMETHEUS, SIGNALING, VERSION
from peiliao.providers import build_payments, build_payouts, build_sms
from peiliao.system import system
from peiliao.web import mount_web_client
from privacy import routes as privacy_routes
from privacy.service import PrivacyService
from signaling import routes as signaling_routes
from signaling.calls import Blocks, CallService
from signaling.chat import ChatService, Moderation
from signaling.lifecycle import EndReason
from signaling.lifecycle import Policy as CallPolicy
from signaling.limits import RateLimiter
from signaling.media_route import MediaRoute, RedisMediaRoute
from signaling.presence import MemoryPresence, Presence, RedisPresence
from signaling.server import Signaling, SocketEmitter, make_server
from signaling.server import lifecycle_ctx as signaling_ctx
from store import Database
from store.migrate import current_revision, head_revision

log = structlog.get_logger("peiliao")


def process_id() -> str:
    """This server process, as other processes know it (metering's and calls' ``owner``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
    payments: PaymentProvider | None = None,
    payouts: PayoutProvider | None = None,
    check_schema: bool = True,
    blocks: Blocks | None = None,
    moderation: Moderation | None = None,
) -> web.Application:
    """Build the server.  Resources open in ``cleanup_ctx`` when the app starts, not here."""
    app = web.Application(
        client_max_size=max(settings.max_body_bytes, settings.max_avatar_bytes) + 1024,
        middlewares=[request_context, errors],
    )
    app.on_response_prepare.append(security_headers(hsts=settings.env == "prod"))
    clock = clock or SystemClock()
    sms = sms or build_sms(settings)
    db = Database(
        settings.database_url,
        timeout_s=settings.db_timeout_s,
        pool_size=settings.db_pool_size,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    telemetry = PrometheusTelemetry()
    owner = process_id()
    revocations: Revocations = (
        RedisRevocations.from_url(settings.redis_url, settings.redis_prefix, owner)
        if settings.redis_url
        else MemoryRevocations()
    )
    accounts = AccountService(db, sms, clock, settings, telemetry, revocations)
    sanctions = SanctionService(db, clock, settings, accounts)
    metering = MeteringService(
        db,
        clock,
        MeteringPolicy(
            resume_grace_s=settings.resume_grace_s,
            earnings_hold_s=settings.earnings_hold_s,
            heartbeat_timeout_s=settings.heartbeat_timeout_s,
        ),
        owner=owner,
    )

    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[DB] = db
    app[TELEMETRY] = telemetry
    app[PROMETHEUS] = telemetry
    app[ACCOUNTS] = accounts
    app[SANCTIONS] = sanctions
    app[AUTHENTICATOR] = SessionAuthenticator(accounts, settings)
    cursors = app[CURSORS] = CursorCodec.from_secret(settings.secret_key)
    if isinstance(sms, DevOutbox):
        app[DEV_OUTBOX] = sms
    app[metering_keys.METERING] = metering
    app[metering_keys.WALLETS] = Wallets(db, clock, metering.ledger)
    app[metering_keys.PROVIDER] = payments or build_payments(settings)
    app[metering_keys.METERING_DB] = db
    app[metering_keys.PUBLIC_URL] = settings.base_url
    app[metering_keys.DEV] = settings.is_dev
    app[metering_keys.PAYOUTS] = Payouts(
        db,
        clock,
        metering.ledger,
        payouts or build_payouts(settings),
        Sealer(settings.secret_key),
        review_above_fen=settings.withdraw_review_above_fen,
    )

    api = Api(
        default_max_body_bytes=settings.max_body_bytes,
        upload_max_body_bytes=settings.max_avatar_bytes,
        max_json_depth=settings.max_json_depth,
    )
    api.include(system)
    api.include(account_routes.api)
    api.include(metering_api)
    api.include(metering_history.api)
    api.include(signaling_routes.api)
    api.include(moderation_routes.api)
    api.include(sanction_routes.api)
    api.include(catalog_routes.api)
    api.include(privacy_routes.api)
    api.include(audit_routes.api)
    # --- marketplace packages: each helper adds its `api.include(...)` line here ---
    api.include(voicerooms_routes.api)
    api.include(booking_routes.api)
    api.include(review_routes.api)
    api.include(appeal_routes.api)
    api.include(support_routes.api)
    api.include(vetting_application_routes.api)
    api.include(vetting_review_routes.api)
    api.include(vetting_routes.api)
    api.mount(app)
    app[OPENAPI] = api.openapi(title="Peiliao API", version=VERSION)
    mount_web_client(app, settings.web_dist_dir)

    batcher = TickBatcher(metering)
    calls: CallService | None = None  # built below; the runner's sinks reach it when it runs

    async def notice(session_id: str, n: Notice) -> None:
        if is_member_session(session_id):  # a voice room member's session
            await app[voicerooms_routes.VOICE_ROOMS].billing.on_notice(session_id, n)
            return
        assert calls is not None
        await calls.on_notice(session_id, n)

    async def observe(session_id: str, u: Update) -> None:
        if is_member_session(session_id):  # a voice room member's session
            await app[voicerooms_routes.VOICE_ROOMS].billing.on_update(session_id, u)
            return
        assert calls is not None
        await calls.on_update(session_id, u)

    runner = MeteringRunner(
        metering,
        clock,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        batcher=batcher,
        notify=notice,
        observe=observe,
    )
    app[metering_keys.RUNNER] = runner

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
    emitter = app[signaling_routes.EMITTER] = SocketEmitter(sio)
    block_service = BlockService(db, clock)
    app[moderation_routes.BLOCKS] = block_service
    app[account_routes.HIDDEN_BETWEEN] = block_service.between
    reports = app[moderation_routes.REPORTS] = ReportService(db, clock)
    app[privacy_routes.PRIVACY] = PrivacyService(db, clock, revocations)
    app[audit_routes.AUDIT] = AuditLog(db, clock)
    app[account_routes.REAL_NAMES] = RealNameService(
        db,
        clock,
        DataSealer.from_settings(settings),
        SandboxRealNameProvider(),
        settings.secret_key,
        settings.real_name_attempts_per_day,
    )
    app[catalog_routes.CATALOG] = Catalog(db, presence)
    favourites = app[catalog_routes.FAVOURITES] = FavouriteService(db, clock)

    async def tell_fans(companion_id: str) -> None:
        fans = await favourites.fans_of(companion_id)
        if fans:
            nickname = (await accounts.get_user(companion_id)).nickname
            for fan in fans:
                if not await block_service.between(fan, companion_id):
                    await emitter.to_user(
                        fan, "favourite:online", {"user_id": companion_id, "nickname": nickname}
                    )

    emitter.on_online.append(tell_fans)
    calls = CallService(
        db,
        clock,
        metering,
        runner,
        presence,
        emitter,
        blocks or block_service,
        policy=CallPolicy(
            ring_timeout_ms=settings.ring_timeout_s * 1000,
            away_timeout_ms=settings.away_timeout_s * 1000,
        ),
        owner=owner,
    )
    chat_rules = ChatRules.from_secret(
        settings.secret_key, settings.moderation_policy, lambda: clock.now().timestamp()
    )
    calls.on_end.append(chat_rules.forget)
    chat = ChatService(
        db,
        clock,
        calls,
        emitter,
        moderation or chat_rules,
        RateLimiter(settings.chat_messages_burst, settings.chat_messages_per_s),
        may_send=sanctions.check_chat,
    )

    async def media_lost(call_id: str) -> None:
        assert calls is not None
        await calls.terminate(call_id, EndReason.MEDIA_LOST)

    async def media_slots(call_id: str, user_id: str, slots: list[dict[str, str]]) -> None:
        await emitter.to_user(user_id, "media:slots", {"call_id": call_id, "slots": slots})

    rooms = Rooms(
        IcePolicy.from_settings(settings),
        on_flow=calls.media_flow,
        on_lost=media_lost,
        on_slots=media_slots,
        silence_s=settings.media_silence_s,
        lost_s=settings.media_lost_s,
    )
    media_route = (
        RedisMediaRoute.from_url(rooms, owner, settings.redis_url, settings.redis_prefix)
        if settings.redis_url
        else MediaRoute(rooms, owner)
    )

    async def close_media(call_id: str) -> None:
        # The room lives on the call's owner, which may be another process.
        _, mode, home = await calls.media_home(call_id)
        if mode in ("voice", "video"):
            try:
                await media_route.call(home, "close", call_id=call_id)
            except DomainError as exc:
                log.warning("media_close_failed", call_id=call_id, code=exc.code)

    calls.on_end.append(close_media)

    async def end_blocked_call(blocker_id: str, blocked_id: str) -> None:
        # A block ends any open call between the two: no more messages or media either way.
        view = await calls.open_call_of(blocker_id)
        if view is not None and blocked_id in (view["customer"]["id"], view["companion"]["id"]):
            with contextlib.suppress(DomainError):
                await calls.terminate(view["call_id"], EndReason.MODERATION)

    block_service.on_block.append(end_blocked_call)

    async def end_sanctioned_call(user_id: str) -> None:
        # A suspension or ban ends the user's open call, billed to this moment.
        view = await calls.open_call_of(user_id)
        if view is not None:
            with contextlib.suppress(DomainError):
                await calls.terminate(view["call_id"], EndReason.MODERATION)

    async def queue_for_review(
        call_id: str, sender_id: str, seq: int, categories: tuple[str, ...]
    ) -> None:
        await reports.flag(call_id, sender_id, seq, categories)

    chat.on_review.append(queue_for_review)
    calls.on_notice_hooks.append(rooms.billing_notice)
    signaling = Signaling(settings, sio, accounts, calls, chat, presence, media_route)
    sio.attach(app, socketio_path="socket.io")
    app[SIGNALING] = signaling
    app[signaling_routes.CALLS] = calls

    # --- marketplace: each package wires its services in its own block ---
    # [vetting]
    app[vetting_routes.VETTING] = VettingService(
        db,
        clock,
        app[account_routes.REAL_NAMES],
        app[audit_routes.AUDIT],
        VettingPolicy(
            submissions_per_day=settings.vetting_submissions_per_day,
            reapply_cooldown_s=settings.vetting_reapply_cooldown_s,
        ),
    )
    # [reviews]
    review_stats = app[review_routes.STATS] = StatsService(db, clock)
    app[review_routes.REVIEWS] = ReviewService(
        db,
        clock,
        review_stats,
        ReviewService.detector_from(settings.secret_key, settings.moderation_policy),
        cursors,
        reports=reports,
        window_s=settings.review_window_days * 24 * 3600,
    )
    calls.on_end.append(review_stats.on_session_end)

    async def promote(companion_id: str) -> None:
        await app[vetting_routes.VETTING].promote(companion_id)

    review_stats.on_stats_changed.append(promote)
    # [discovery]
    # Rebuilt with the app's clock and the secret-keyed cursors (every process verifies them).
    catalog = app[catalog_routes.CATALOG] = Catalog(db, presence, clock=clock, cursors=cursors)
    app[catalog_routes.RECOMMENDER] = Recommender(db, catalog, clock)
    # [bookings]
    booking_service = app[booking_routes.BOOKINGS] = BookingService(
        db, clock, metering.ledger, BookingPolicy.from_settings(settings), emitter, cursors
    )
    booking_scheduler = app[booking_routes.BOOKING_SCHEDULER] = BookingScheduler(
        booking_service, calls, interval_s=settings.booking_sweep_interval_s
    )
    calls.on_end.append(booking_scheduler.call_ended)  # the slot's call ended: so does its booking
    block_service.on_block.append(booking_service.cancel_between)
    app.cleanup_ctx.append(booking_scheduler.ctx)
    # Stopped before the database closes (its cleanup context was registered after this one).
    app.on_shutdown.append(booking_scheduler.on_shutdown)
    # [appeals]
    app[appeal_routes.APPEALS] = AppealService(
        db,
        clock,
        metering,
        app[audit_routes.AUDIT],
        AppealPolicy(
            window_s=settings.appeal_window_days * 24 * 3600, max_open=settings.appeal_max_open
        ),
    )
    # [support]
    app[support_routes.TICKETS] = TicketService(
        db,
        clock,
        app[audit_routes.AUDIT],
        TicketPolicy(
            max_open=settings.ticket_max_open,
            max_per_day=settings.ticket_max_per_day,
            max_messages=settings.ticket_max_messages,
        ),
    )
    # [voicerooms]
    voice_rooms = app[voicerooms_routes.VOICE_ROOMS] = VoiceRoomService(
        db,
        clock,
        metering,
        runner,
        presence,
        emitter,
        app[audit_routes.AUDIT],
        rooms,
        media_route,
        owner=owner,
        policy=RoomPolicy(
            away_timeout_s=settings.away_timeout_s,
            media_lost_s=settings.media_lost_s,
            heartbeat_timeout_s=settings.heartbeat_timeout_s,
            sweep_interval_s=settings.sweep_interval_s,
            refresh_interval_s=settings.presence_ttl_s / 3,
        ),
        draining=lambda: signaling.calls.draining,
    )
    rooms.is_group = is_room_id  # a voice room's media is watched per participant
    rooms.on_participant = voice_rooms.billing.participant_alive
    rooms.on_participant_lost = voice_rooms.billing.participant_lost
    block_service.on_block.append(voice_rooms.on_block)
    # A suspension or ban, heard from any process, ends the user's call and room seat.
    signaling.logins.on_sanctioned += [end_sanctioned_call, voice_rooms.on_sanctioned]
    signaling.logins.locked_out = sanctions.locked_out
    signaling.voice_rooms = voice_rooms

    async def start_voice_rooms(app_: web.Application) -> None:
        await voice_rooms.start()  # on_startup: after the database and the runner are up

    async def stop_voice_rooms(app_: web.Application) -> None:
        await voice_rooms.stop()  # on_shutdown: before the runner and the database stop

    app.on_startup.append(start_voice_rooms)
    app.on_shutdown.append(stop_voice_rooms)

    async def database(app_: web.Application) -> AsyncIterator[None]:
        if check_schema:
            await _check_schema(db)
        log.info("server_started", env=settings.env, database=db.engine.url.get_backend_name())
        yield
        await db.dispose()

    async def revocation_channel(app_: web.Application) -> AsyncIterator[None]:
        await revocations.start()  # subscribed before the first socket can connect
        yield
        await revocations.close()

    async def metering_runner(app_: web.Application) -> AsyncIterator[None]:
        await batcher.start()
        await runner.start()
        yield
        await runner.stop()
        await batcher.stop()

    async def drain(app_: web.Application) -> None:
        await signaling.drain()

    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(revocation_channel)
    app.cleanup_ctx.append(metering_runner)
    app.cleanup_ctx.append(signaling_ctx(signaling))
    app.on_shutdown.append(drain)
    return app


async def _check_schema(db: Database) -> None:
    current, head = await current_revision(db), head_revision()
    if current != head:
        raise SystemExit(
            f"database schema is at {current or 'nothing'}, code needs {head}: "
            "run `peiliao db upgrade` (make run does it for you)"
        )
