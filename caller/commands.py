"""The two commands: ``answer`` (a companion) and ``call`` (a customer).

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
from datetime import UTC, datetime
from typing import Any

from caller.api_client import Api
from caller.console import Console
from caller.errors import ApiError, CallerError, refused
from caller.limits import RING_MARGIN_S
from caller.session import Context, Session


async def answer(ctx: Context) -> None:
    """Companion: go online, accept calls, take part; ``--once``: one session; ``--seconds``:
    stay up at most this long."""
    args, sig, console, summary = ctx.args, ctx.sig, ctx.console, ctx.summary
    if ctx.me.role != "companion":
        raise CallerError(
            f"{args.phone} is a {ctx.me.role}'s account, not a companion's",
            "answer as a companion: `peiliao seed --demo` makes 13900000001–13900000003",
            "not_a_companion",
        )
    try:
        await ctx.api.call("GET", f"/api/companions/{ctx.me.user_id}/rates")
    except ApiError as exc:
        raise refused(
            exc,
            "reading my rates",
            'set them first: PUT /api/me/rates {"text_fen_per_min": …, "voice_fen_per_min": …, '
            '"video_fen_per_min": …}',
        ) from None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.seconds if args.seconds is not None else None
    hello = await sig.connect(ctx.api.server, ctx.api.token or "")
    open_call = hello.get("call")
    if isinstance(open_call, dict):
        if open_call["status"] == "ringing":
            sig.incoming.append(open_call["call_id"])
        else:
            await end_stale(ctx, open_call)
    await sig.ask("presence:set", {"accepting": True})
    console.say(
        f"answering as {args.phone} (user {ctx.me.user_id}); call me with: peiliao caller call "
        f"--server {ctx.api.server} --phone <customer> --companion-id {ctx.me.user_id} "
        "--mode voice --seconds 10"
    )
    sessions: list[dict[str, Any]] = []
    if not args.once:
        summary["sessions"] = sessions  # every session; the last one's fields are at the top
    try:
        while not ctx.stop.is_set():
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            console.status("waiting for a call" + (f" ({left:.0f} s left)" if left else ""))
            if not await sig.until(
                lambda: bool(sig.incoming) or ctx.stop.is_set() or sig.lost, left
            ):
                break
            if sig.lost:
                raise CallerError("lost the connection to the server", "", "disconnected")
            if not sig.incoming:
                continue
            call_id = sig.incoming.pop(0)
            try:
                call = (await sig.ask("call:accept", {"call_id": call_id}))["call"]
            except CallerError as exc:
                console.say(f"could not accept {call_id} ({exc.code}); waiting for the next call")
                continue
            sig.calls[call_id] = call
            console.end_status()
            console.say(f"accepted a {call['mode']} call {call_id} from {call['customer']['id']}")
            run_s = None if deadline is None else max(0.0, deadline - loop.time())
            result = await Session(ctx, call).run(run_s)
            sessions.append(result)
            report_session(console, result)
            if args.once:
                break
    finally:
        with contextlib.suppress(CallerError):
            await sig.ask("presence:set", {"accepting": False})
    if not sessions:
        raise CallerError(
            "no call came in" + (f" within {args.seconds:g} s" if args.seconds else ""),
            f"call this companion: peiliao caller call --companion-id {ctx.me.user_id} …",
            "no_call",
        )
    last = sessions[-1]
    summary.update({k: v for k, v in last.items() if k not in ("ok", "error")})
    failed = next((s for s in sessions if not s["ok"]), None)
    if failed is not None:
        summary["error"] = failed["error"]


async def end_stale(ctx: Context, call: dict[str, Any]) -> None:
    """An open call left by an earlier run of this account (a crash, a kill): end it, so that
    it stops billing and frees both sides."""
    event = "call:hangup" if call["status"] == "active" else "call:cancel"
    if ctx.me.role == "companion" and call["status"] == "ringing":
        event = "call:decline"
    with contextlib.suppress(CallerError):
        await ctx.sig.ask(event, {"call_id": call["call_id"]})
    ctx.console.say(f"ended the open call {call['call_id']} left by an earlier run ({event})")


async def companion_by_phone(api: Api, phone: str) -> str:
    """The user id of the account with ``phone``, through the dev API (404 elsewhere)."""
    try:
        user = await api.call("GET", "/api/dev/users", params={"phone": phone})
    except ApiError as exc:
        if exc.status == 404:
            raise CallerError(
                f"{api.server} knows no user with phone {phone} (or is not a dev server)",
                "start the answerer first (it signs the companion up), or pass --companion-id",
                "unknown_companion",
            ) from None
        raise refused(exc, "looking the companion's phone up") from None
    return str(user["id"])


async def call(ctx: Context) -> None:
    """Customer: check the companion and the money, call, take part for ``--seconds``, hang up,
    and read what it cost."""
    args, api, sig, console, summary = ctx.args, ctx.api, ctx.sig, ctx.console, ctx.summary
    mode = args.mode
    if ctx.me.role != "customer":
        raise CallerError(
            f"{args.phone} is a {ctx.me.role}'s account; only customers call",
            "call with a customer's phone (`peiliao seed --demo` makes 13800000001)",
            "not_a_customer",
        )
    companion = args.companion_id or await companion_by_phone(api, args.companion_phone)
    try:
        peer = await api.call("GET", f"/api/users/{companion}")
    except ApiError as exc:
        if exc.status == 404:
            raise CallerError(
                f"there is no user {companion} on {api.server}",
                "pass the companion's user id: `peiliao caller answer` prints it when it "
                "starts, `peiliao seed --demo` lists the demo companions",
                "unknown_companion",
            ) from None
        raise refused(exc, "looking the companion up") from None
    if peer.get("role") != "companion":
        raise CallerError(
            f"user {companion} is a {peer.get('role')}, not a companion",
            "pass a companion's user id (the answerer prints it)",
            "not_callable",
        )
    try:
        rates = await api.call("GET", f"/api/companions/{companion}/rates")
    except ApiError as exc:
        raise refused(exc, "reading the companion's rates") from None
    rate = int(rates[f"{mode}_fen_per_min"])
    summary["rate_fen_per_min"] = rate
    await ensure_funds(ctx, rate)
    hello = await sig.connect(api.server, api.token or "")
    if isinstance(hello.get("call"), dict):
        await end_stale(ctx, hello["call"])
    await wait_online(ctx, companion)
    try:
        view = (
            await sig.ask(
                "call:request",
                {
                    "companion_id": companion,
                    "mode": mode,
                    "request_id": f"caller_{secrets.token_hex(8)}",
                },
            )
        )["call"]
    except CallerError as exc:
        exc.message = f"the call was refused ({exc.code}): {exc.message.split(': ', 1)[-1]}"
        exc.hint = REQUEST_HINTS.get(exc.code, "")
        raise
    call_id = view["call_id"]
    sig.calls.setdefault(call_id, view)
    summary.update({"session_id": call_id, "call_id": call_id, "mode": mode})
    console.say(f"calling {companion} ({mode}, {rate} fen/min): {call_id}")
    ring_s = max(1.0, (view["ring_deadline_ms"] - view["created_ms"]) / 1000) + RING_MARGIN_S
    try:
        answered = await sig.until(
            lambda: sig.status(call_id) != "ringing" or ctx.stop.is_set() or sig.lost, ring_s
        )
    finally:
        if sig.status(call_id) == "ringing" and not sig.lost:
            with contextlib.suppress(CallerError):
                await asyncio.shield(sig.ask("call:cancel", {"call_id": call_id}))
    if sig.status(call_id) != "active":
        reason = sig.calls[call_id].get("end_reason") or ("cancelled" if answered else "no answer")
        raise CallerError(
            f"the call was not answered ({reason})",
            "is `peiliao caller answer` (or a person) online for this companion?",
            str(reason),
        )
    console.say("answered")
    result = await Session(ctx, sig.calls[call_id]).run(args.seconds)
    summary.update({k: v for k, v in result.items() if k != "ok"})


REQUEST_HINTS = {
    "companion_offline": "start the answerer first (peiliao caller answer --phone <companion>), "
    "or give it time: --wait-online-s 30",
    "companion_busy": "the companion is in another call: wait for it to end",
    "already_in_call": "this customer has an open call elsewhere: hang it up",
    "insufficient_funds": "top up: --top-up FEN (the sandbox, on dev servers)",
    "budget_exceeded": "the monthly budget cap is reached: PUT /api/wallet/budget",
    "rates_not_set": "the companion has no prices yet: PUT /api/me/rates as the companion",
    "not_callable": "--companion-id must be a companion's user id",
    "blocked": "one of you blocked the other: DELETE /api/blocks/{user_id}",
    "draining": "the server is shutting down: try again in a moment",
}


async def wait_online(ctx: Context, companion: str) -> None:
    """Wait up to ``--wait-online-s`` for the companion to be online (an answerer started at
    the same time may not be yet)."""
    ack = await ctx.sig.ask("presence:watch", {"user_ids": [companion]})
    ctx.sig.presence.setdefault(companion, ack["statuses"].get(companion, "offline"))
    if ctx.args.wait_online_s > 0 and ctx.sig.presence[companion] != "online":
        ctx.console.say(f"waiting up to {ctx.args.wait_online_s:g} s for {companion} to be online")
        await ctx.sig.until(
            lambda: ctx.sig.presence.get(companion) == "online" or ctx.stop.is_set(),
            ctx.args.wait_online_s,
        )


async def ensure_funds(ctx: Context, rate: int) -> None:
    """Enough money for the call's minutes (ceil(seconds / 60)), else top up through the
    sandbox with ``--top-up``, else say how."""
    api, args = ctx.api, ctx.args
    need_min = max(1, math.ceil(args.seconds / 60))
    for attempt in range(2):
        wallet = await api.call("GET", "/api/wallet")
        grants = (await api.call("GET", "/api/me/packages")).get("grants", [])
        now = datetime.now(UTC)
        package_min = sum(
            g["minutes_total"] - g["minutes_used"] - g["minutes_held"]
            for g in grants
            if g["mode"] == args.mode and datetime.fromisoformat(g["expires_at"]) > now
        )
        money = wallet["wallet_fen"] + wallet["promo_fen"]
        if money // rate + package_min >= need_min:
            return
        if attempt == 0 and args.top_up:
            await top_up(ctx, args.top_up)
            continue
        raise CallerError(
            f"not enough money for {need_min} min of {args.mode} at {rate} fen/min "
            f"({need_min * rate} fen): the wallet has {wallet['wallet_fen']} fen, promo "
            f"{wallet['promo_fen']} fen, {package_min} package minutes",
            "add --top-up FEN (a sandbox top-up, on dev servers), e.g. "
            f"--top-up {max(100, need_min * rate)}, or top up in the web client",
            "insufficient_funds",
        )


async def top_up(ctx: Context, amount_fen: int) -> None:
    api = ctx.api
    try:
        order = await api.call("POST", "/api/wallet/topups", body={"amount_fen": amount_fen})
    except ApiError as exc:
        raise refused(exc, f"starting a top-up of {amount_fen} fen") from None
    if order["provider"] != "sandbox":
        raise CallerError(
            f"this server takes top-ups through {order['provider']}, not the sandbox",
            "pay it in the web client, then run again without --top-up",
            "no_sandbox",
        )
    try:
        paid = await api.call("POST", f"/api/payments/sandbox/pay/{order['order_id']}")
    except ApiError as exc:
        raise refused(exc, "paying through the sandbox", "a dev server is needed") from None
    if paid["status"] != "paid":
        raise CallerError(f"the sandbox top-up ended {paid['status']}", "", "top_up_failed")
    ctx.console.say(f"topped up {amount_fen} fen through the sandbox")


def report_session(console: Console, s: dict[str, Any]) -> None:
    line = (
        f"session {s['session_id']} ({s['mode']}) {s['status']}"
        f"{' (' + str(s['end_reason']) + ')' if s.get('end_reason') else ''} after "
        f"{s['connected_s']} s; billed {s['billed_minutes']} min × {s['rate_fen_per_min']} "
        f"fen = {s['charged_fen']} fen"
    )
    console.report(line)
    if s["mode"] != "text":
        console.report(
            f"  audio: {s.get('audio_rx_packets')} packets ({s.get('audio_rx_pps')}/s), heard "
            f"{s.get('rx_tone_hz')} Hz (peer caller sends {s.get('rx_tone_expected_hz')} Hz), "
            f"sent {s.get('tx_tone_hz')} Hz"
        )
        if s["mode"] == "video":
            console.report(
                f"  video: {s.get('video_rx_frames')} frames ({s.get('video_rx_fps')} fps, "
                f"{s.get('video_rx_size')}), marker {s.get('video_rx_marker')}, "
                f"{s.get('video_frames_skipped')} skipped, longest gap "
                f"{s.get('video_max_gap_ms')} ms"
            )
        console.report(
            f"  link: rtt {s.get('rtt_ms')} ms, jitter {s.get('jitter_ms')} ms, "
            f"loss {s.get('loss')}"
        )
    else:
        console.report(f"  chat: sent {s.get('chat_tx')}, received {s.get('chat_rx')}")
    for warning in s.get("warnings") or []:
        console.report(f"  warning: {warning}")
