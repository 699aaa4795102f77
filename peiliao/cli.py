"""The ``peiliao`` command: serve, db upgrade and revision, admin create and sanction
(``peiliao.admin_commands``), seed --demo (``peiliao.seed``), ledger check, caller, moderate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kernel.settings import Settings, SettingsError
from peiliao.admin_commands import cmd_admin_create, cmd_admin_sanction
from peiliao.cli_support import configure_logs, require_schema, settings_from_env, with_db
from peiliao.seed import cmd_seed

#: after the drain has told every socket to go, how long the server waits for their connections
#: to close before it cancels them (the test rig's server shuts down the same way)
SHUTDOWN_TIMEOUT_S = 3


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    settings = settings.replace(host=args.host or settings.host, port=args.port or settings.port)
    workers = args.workers if args.workers is not None else settings.workers
    if workers == 0:
        from peiliao.workers import default_workers

        workers = default_workers()
    if workers > 1:
        from peiliao.workers import supervise

        async def check_schema() -> None:  # once, before any worker starts
            await with_db(settings, require_schema)

        asyncio.run(check_schema())
        return supervise(settings, workers)
    from peiliao.workers import die_with_supervisor

    die_with_supervisor()
    from peiliao.app import create_app

    configure_logs(settings)
    try:
        app = create_app(settings)
    except SettingsError as exc:  # a setting a package checks when it is built
        raise SystemExit(f"peiliao: configuration error: {exc}") from None
    from kernel.event_loop import run

    run(_serve(app, settings, reuse_port=args.reuse_port), settings.event_loop)
    return 0


async def _serve(app: Any, settings: Settings, *, reuse_port: bool = False) -> None:
    """Serve until SIGTERM or SIGINT, then drain *while still serving*: running sessions go on
    (their sockets stay open) for the drain time-out, new ones are refused, then they are ended
    with final billing and the server stops.  (``web.run_app`` would close every connection
    before the app's shutdown hooks run.)"""
    import signal

    from aiohttp import web

    from kernel.heap import HeapPolicy
    from signaling.keys import SIGNALING

    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
    )
    await runner.setup()
    heap = HeapPolicy(settings.gc_full_interval_s)
    await heap.start()  # once the app is built: see peiliao/heap.py
    await web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None).start()
    from peiliao.workers import tell_supervisor_ready

    tell_supervisor_ready()
    print(
        f"peiliao: serving on http://{settings.host}:{settings.port} (env={settings.env})",
        file=sys.stderr,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        print("peiliao: draining", file=sys.stderr)
        await app[SIGNALING].drain()
    finally:
        await heap.stop()
        await runner.cleanup()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from store.migrate import current_revision, upgrade

    settings = settings_from_env()
    configure_logs(settings)

    async def work(db: Any) -> str | None:
        await upgrade(db, args.revision)
        return await current_revision(db)

    try:
        revision = asyncio.run(with_db(settings, work))
    except OSError as exc:
        raise SystemExit(
            f"peiliao: cannot reach the database ({exc}); check PEILIAO_DATABASE_URL"
        ) from None
    print(json.dumps({"database": settings.database_url.split("://")[0], "revision": revision}))
    return 0


def cmd_db_revision(args: argparse.Namespace) -> int:
    from store.migrate import revision, upgrade

    settings = settings_from_env()
    configure_logs(settings)

    async def work(db: Any) -> None:
        await upgrade(db)
        await revision(db, args.message, args.rev_id)

    asyncio.run(with_db(settings, work))
    return 0


def cmd_ledger_check(args: argparse.Namespace) -> int:
    from metering.check import check_ledger

    settings = settings_from_env()
    configure_logs(settings)

    async def work(db: Any) -> Any:
        await require_schema(db)
        return await check_ledger(db)

    report = asyncio.run(with_db(settings, work))
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    return 0 if report.ok else 1


def cmd_caller(args: argparse.Namespace) -> int:
    try:
        from caller.main import main as caller_main
    except ImportError as exc:  # numpy comes with the dev extra
        raise SystemExit(
            f"peiliao: the caller needs {exc.name}; install the dev extra: pip install -e '.[dev]'"
        ) from None
    return caller_main(args)


def cmd_moderate(args: argparse.Namespace) -> int:
    from moderation.cli import run

    return run(
        sys.stdin.buffer,
        sys.stdout,
        policy_spec=args.policy,
        sender_role=args.role,
        with_text=args.text,
        window=args.window,
    )


def _video_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError("give WIDTHxHEIGHT, e.g. 640x480") from None
    if size[0] % 8 or size[1] % 8 or not (320 <= size[0] <= 1920 and 240 <= size[1] <= 1080):
        raise argparse.ArgumentTypeError("multiples of 8, from 320x240 to 1920x1080")
    return size


def _add_caller(sub: Any) -> None:
    caller = sub.add_parser(
        "caller",
        help="headless test caller (developers, load tests, CI)",
        description="A client that talks to a server as a browser does (HTTP API, Socket.IO, "
        "WebRTC) and sends synthetic media: a tone of its own and a moving test pattern. It "
        "measures what it receives (the peer's tone, decoded frames, RTT, jitter, loss), reads "
        "what the session was billed, and exits 1 when the call failed or nothing arrived.",
    )
    roles = caller.add_subparsers(dest="caller_command", required=True, metavar="SUBCOMMAND")
    answer = roles.add_parser(
        "answer",
        help="be a companion: go online and accept calls",
        description="Log in as a companion, go online (accepting), accept incoming calls and "
        "take part until the customer hangs up. Prints its user id for `caller call`.",
    )
    answer.add_argument(
        "--seconds", type=float, help="stay up at most this long (default: until interrupted)"
    )
    answer.add_argument("--once", action="store_true", help="exit after one session")
    call = roles.add_parser(
        "call",
        help="be a customer: call a companion",
        description="Log in as a customer, call a companion, send media (or chat) for "
        "--seconds, hang up, and report what was received and billed.",
    )
    whom = call.add_mutually_exclusive_group(required=True)
    whom.add_argument(
        "--companion-phone",
        help="the companion's phone (looked up through the dev API: dev servers only)",
    )
    whom.add_argument(
        "--companion-id",
        help="the companion's user id (`caller answer` prints it, `peiliao seed --demo` lists "
        "the demo companions)",
    )
    call.add_argument("--mode", choices=["text", "voice", "video"], default="voice", help="(voice)")
    call.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="how long media (or chat) goes on once connected, then hang up (default 10)",
    )
    call.add_argument(
        "--top-up",
        type=int,
        metavar="FEN",
        help="if the balance is short, top up FEN through the sandbox (dev servers)",
    )
    call.add_argument(
        "--wait-online-s",
        type=float,
        default=0.0,
        help="wait this long for the companion to be online (default: call at once)",
    )
    for p in (answer, call):
        p.add_argument(
            "--server", default="http://127.0.0.1:8080", help="the server (http://127.0.0.1:8080)"
        )
        p.add_argument("--phone", required=True, help="whose account: a mainland mobile number")
        p.add_argument(
            "--token",
            help="a login token, written --token=TOKEN (default: a kept login, else the dev SMS "
            "outbox)",
        )
        p.add_argument(
            "--token-cache",
            metavar="FILE",
            default=str(Path.home() / ".cache" / "peiliao" / "caller-tokens.json"),
            help="where logins are kept between runs (a phone gets one code a minute, ten a day)",
        )
        p.add_argument("--no-token-cache", action="store_true", help="keep no login")
        p.add_argument("--json", action="store_true", help="one JSON summary on stdout")
        p.add_argument("--media", metavar="FILE", help="send this file (looped) instead")
        p.add_argument(
            "--size",
            type=_video_size,
            default=(640, 480),
            metavar="WxH",
            help="the test pattern's size (640x480)",
        )
        p.add_argument("--fps", type=float, default=15.0, help="the test pattern's rate (15)")
        p.add_argument(
            "--chat-interval-s",
            type=float,
            default=1.0,
            help="text sessions: seconds between messages (1)",
        )
        p.add_argument(
            "--ice-loopback",
            action="store_true",
            help="host candidates on 127.0.0.1 only (a server on this machine that offers "
            "loopback candidates, e.g. the test rig)",
        )
        p.add_argument(
            "--relay-only",
            action="store_true",
            help="media through the server's TURN relay only (iceTransportPolicy relay): "
            "checks that TURN works; fails if media:config offers no TURN server",
        )
        p.set_defaults(func=cmd_caller)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peiliao",
        description="Peiliao: the companion-chat session server. "
        "Configuration comes from PEILIAO_* environment variables (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the HTTP and real-time server until interrupted.",
    )
    serve.add_argument("--host", help="address to bind (default PEILIAO_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PEILIAO_PORT or 8080)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes on this machine (default PEILIAO_WORKERS, or 0: one per core); "
        "without PEILIAO_REDIS_URL they cooperate through a local broker",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema", description="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    up = db_sub.add_parser(
        "upgrade",
        help="apply migrations",
        description="Apply migrations up to a revision (default: head).",
    )
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=cmd_db_upgrade)
    rev = db_sub.add_parser(
        "revision",
        help="generate a migration (developers)",
        description="Upgrade the configured database to head, then write a "
        "migration for what the models add (review it before committing).",
    )
    rev.add_argument("--message", "-m", required=True, help="what the migration does")
    rev.add_argument("--rev-id", help="revision id (default: random)")
    rev.set_defaults(func=cmd_db_revision)

    admin = sub.add_parser("admin", help="administrators", description="Manage admins.")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="SUBCOMMAND")
    create = admin_sub.add_parser(
        "create",
        help="make a phone's account an admin",
        description="Create the account of a phone as admin, or "
        "promote an existing one.  Prints the account as JSON.",
    )
    create.add_argument("--phone", required=True, help="mainland mobile number, e.g. 13700000000")
    create.set_defaults(func=cmd_admin_create)
    sanction = admin_sub.add_parser(
        "sanction",
        help="warn, mute, suspend or ban a phone's account",
        description="Sanction the account of a phone (repeat offences escalate by the "
        "ladder's points; a suspension or ban ends its logins and sessions on every process "
        "that shares PEILIAO_REDIS_URL).  Prints the sanction as JSON; exit 1 with the error "
        "as JSON if refused.",
    )
    sanction.add_argument("--phone", required=True, help="mainland mobile number")
    sanction.add_argument("--kind", required=True, choices=["warn", "mute", "suspend", "ban"])
    sanction.add_argument("--hours", type=int, help="a mute's or suspension's length")
    sanction.add_argument("--reason", required=True, help="what the user is told")
    sanction.add_argument(
        "--freeze-earnings", action="store_true", help="hold pending earnings while in force"
    )
    sanction.set_defaults(func=cmd_admin_sanction)

    seed = sub.add_parser(
        "seed",
        help="demo data",
        description="Create demo accounts (idempotent) and print what exists as JSON.",
    )
    seed.add_argument("--demo", action="store_true", help="the demo customer and companions")
    seed.set_defaults(func=cmd_seed)

    ledger = sub.add_parser("ledger", help="the money ledger", description="Ledger commands.")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="SUBCOMMAND")
    check = ledger_sub.add_parser(
        "check",
        help="verify every ledger invariant",
        description="Verify every ledger invariant (balanced transfers, balances equal their "
        "entries, no negative wallets, each minute charged once, holds resolved, …). Prints a "
        "JSON report; exits 1 on any violation.",
    )
    check.set_defaults(func=cmd_ledger_check)

    moderate = sub.add_parser(
        "moderate",
        help="check chat lines against the moderation rules",
        description="Read UTF-8 lines on stdin; write, for each, one JSON line "
        '{"action": "allow|mask|block|review", "categories": [...]} to stdout (for audits and '
        "benchmarks). Each line is checked alone unless --window is given.",
    )
    moderate.add_argument(
        "--policy",
        default="",
        metavar="CATEGORY=ACTION,…",
        help="override the default action of categories, e.g. phone=block,offline_meeting=allow",
    )
    moderate.add_argument(
        "--role",
        choices=["customer", "companion"],
        default="customer",
        help='the sender\'s role (companion: also write "warn_receiver")',
    )
    moderate.add_argument("--text", action="store_true", help='also write "text" (masked)')
    moderate.add_argument(
        "--window",
        action="store_true",
        help="read the lines as one sender's messages in a row (numbers split across lines count)",
    )
    moderate.set_defaults(func=cmd_moderate)

    _add_caller(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
