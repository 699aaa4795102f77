"""The headless test caller: ``peiliao caller answer`` and ``peiliao caller call``.

It talks to a server exactly as a browser does: the HTTP API (login by SMS code, wallet, rates,
the session's meter), Socket.IO (``docs/protocol.md``) and WebRTC through aiortc, offering its
media with ``media:offer``.  What it sends is synthetic (``caller.synthetic``: a tone of each
participant's own and a test pattern carrying a frame counter) or a file; what it receives it
measures: audio packets and the tone's frequency, decoded video frames and the marker they carry,
RTT, jitter and loss.  It ends with a summary (JSON with ``--json``) and exits non-zero when the
call failed or nothing arrived from the peer.

Login: ``--token``, else a token this tool kept from an earlier login (``--token-cache``; the
server sends one code per phone a minute and ten a day), else an SMS code read from the dev
outbox (``PEILIAO_ENV=dev`` servers only).

The server has no way to find a user by phone, so ``call`` takes the companion's user id
(``--companion-id``); ``answer`` prints it when it starts, ``peiliao seed --demo`` lists the
demo companions'.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from caller.api_client import Api, TokenCache, log_in
from caller.commands import answer, call, report_session
from caller.console import Console
from caller.errors import CallerError
from caller.limits import USER_ID
from caller.media_leg import loopback_host_candidates
from caller.session import Context
from caller.signaling_client import Signal
from caller.synthetic import (
    tone_hz_for,
)


async def run(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """``peiliao caller answer|call``: 0 when the call worked and media (or chat) arrived from
    the peer, else 1; the summary goes to ``out`` (one JSON object with ``--json``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    console = Console(out, err, live=not args.json and err.isatty(), json_out=args.json)
    role = "companion" if args.caller_command == "answer" else "customer"
    summary: dict[str, Any] = {"ok": False, "error": None, "role": role, "phone": args.phone}
    if args.ice_loopback:
        loopback_host_candidates()
    problem = usage_problem(args)
    if problem is not None:
        return finish(args, console, out, summary, problem)
    api = Api(args.server)
    sig = Signal()
    failure: CallerError | None = None
    try:
        cache = TokenCache(None if args.no_token_cache else Path(args.token_cache))
        me = await log_in(api, args.phone, args.token, cache)
        summary["user_id"] = me.user_id
        console.say(f"logged in as {args.phone} (user {me.user_id}, {me.role})")
        ctx = Context(args, console, api, sig, me, stop or asyncio.Event(), summary=summary)
        ctx.tone_hz = tone_hz_for(me.role, me.user_id)
        await (answer(ctx) if args.caller_command == "answer" else call(ctx))
    except CallerError as exc:
        failure = exc
    finally:
        if stop is not None and stop.is_set():
            summary["interrupted"] = True
        console.end_status()
        await sig.close()
        await api.close()
    return finish(args, console, out, summary, failure)


def usage_problem(args: argparse.Namespace) -> CallerError | None:
    if not args.server.startswith(("http://", "https://")):
        return CallerError(f"--server {args.server}: give an http(s) URL", "", "usage")
    if (
        args.caller_command == "call"
        and args.companion_id is not None
        and not USER_ID.fullmatch(args.companion_id)
    ):
        return CallerError(f"--companion-id {args.companion_id!r} is not a user id", "", "usage")
    if args.media and not os.path.isfile(args.media):
        return CallerError(f"no such media file: {args.media}", "give a readable file", "usage")
    if args.caller_command == "call" and args.seconds <= 0:
        return CallerError("--seconds must be positive", "", "usage")
    return None


def finish(
    args: argparse.Namespace,
    console: Console,
    out: TextIO,
    summary: dict[str, Any],
    failure: CallerError | None,
) -> int:
    if failure is not None:
        summary["error"] = failure.to_json()
    summary["ok"] = summary.get("error") is None
    if args.caller_command == "call" and "connected_s" in summary:
        report_session(console, summary)  # the answerer reported each of its sessions
    if not summary["ok"]:
        error = summary["error"]
        console.say(f"failed: {error['message']}")
        if error.get("hint"):
            console.say(f"next: {error['hint']}")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False), file=out, flush=True)
    return 0 if summary["ok"] else 1


def main(args: argparse.Namespace) -> int:
    """The CLI's entry: SIGINT/SIGTERM end the call (hung up, billed, summarised); a second one
    stops at once."""
    import logging

    # aiortc logs every undecodable frame before the first keyframe: the summary says more.
    for name in ("aiortc", "aioice"):
        logging.getLogger(name).setLevel(logging.ERROR)

    async def go() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        task = asyncio.current_task()

        def interrupted() -> None:
            if stop.is_set() and task is not None:
                task.cancel()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupted)
        return await run(args, stop=stop)

    try:
        return asyncio.run(go())
    except asyncio.CancelledError:
        return 130
