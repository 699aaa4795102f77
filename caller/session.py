"""One call as the caller runs it: the context, chat, the session's media and what is measured.

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from caller.api_client import Api, Me
from caller.console import Console
from caller.errors import ApiError, CallerError
from caller.limits import MAX_ICE_RESTARTS, NETWORK_WATCH_S, STATUS_INTERVAL_S
from caller.media_leg import MediaLeg
from caller.signaling_client import Signal
from caller.synthetic import (
    LinkFigures,
    tone_hz_for,
)


@dataclass
class Context:
    args: argparse.Namespace
    console: Console
    api: Api
    sig: Signal
    me: Me
    stop: asyncio.Event
    tone_hz: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


async def chat_loop(ctx: Context, call_id: str, sent: list[int]) -> None:
    """Text sessions: a message every ``--chat-interval-s`` until the call ends."""
    n = 0
    while ctx.sig.status(call_id) == "active":
        n += 1
        try:
            await ctx.sig.ask(
                "chat:send",
                {
                    "call_id": call_id,
                    "client_id": f"caller_{secrets.token_hex(8)}",
                    "text": f"peiliao caller test message {n} from the {ctx.me.role}",
                },
            )
            sent[0] += 1
        except CallerError as exc:
            if exc.code not in ("rate_limited", "timeout"):
                return
        await asyncio.sleep(ctx.args.chat_interval_s)


class Session:
    """One active call from our side: media (or chat) out, probes on what comes in, then the
    summary of what arrived and what was billed."""

    def __init__(self, ctx: Context, call: dict[str, Any]) -> None:
        self.ctx = ctx
        self.call_id: str = call["call_id"]
        self.mode: str = call["mode"]
        self.leg = MediaLeg(self.mode, ctx.tone_hz, ctx.args) if self.mode != "text" else None
        self.figures: LinkFigures | None = None
        self.selected_pair: dict[str, str] | None = None
        self.chat_sent = [0]
        self._chat: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self.active_at = self._loop.time()
        self.ended_at: float | None = None
        peer_role = "companion" if ctx.me.role == "customer" else "customer"
        peer_id = call[peer_role]["id"]
        media = self.mode != "text"
        self.out: dict[str, Any] = {
            "ok": False,
            "error": None,
            "session_id": self.call_id,
            "call_id": self.call_id,
            "mode": self.mode,
            "peer_id": peer_id,
            "tx_tone_hz": ctx.tone_hz if media else None,
            "rx_tone_expected_hz": tone_hz_for(peer_role, peer_id) if media else None,
        }

    def _going_on(self) -> bool:
        sig = self.ctx.sig
        return sig.status(self.call_id) == "active" and not self.ctx.stop.is_set() and not sig.lost

    async def run(self, run_s: float | None) -> dict[str, Any]:
        """Take part until ``run_s`` has passed since the media connected (None: until the
        call ends), the call ends, or we are told to stop; hang up; the session's summary
        (``ok`` false with ``error`` when it failed or nothing arrived)."""
        try:
            try:
                await self._begin()
                await self._take_part(run_s)
                await self._measure()
                await self._hang_up()  # unless the peer or the server ended it already
            except CallerError as exc:
                self.out["error"] = exc.to_json()
                await self._measure()
        finally:
            await self._close()
        return await self._summary()

    async def _begin(self) -> None:
        ctx, leg = self.ctx, self.leg
        if leg is None:
            self._chat = asyncio.create_task(chat_loop(ctx, self.call_id, self.chat_sent))
            return
        await leg.start(ctx.sig, self.call_id)
        if leg.tone is None:  # the file's sound: what the peer hears is not ours to predict
            self.out["tx_tone_hz"] = None
        if ctx.args.media:
            self.out["tx_media"] = ctx.args.media
        await leg.wait_connected()
        self.out["media_setup_s"] = round(self._loop.time() - self.active_at, 2)
        self._watch = asyncio.create_task(self._watch_network(), name="network-watch")
        sending = [f"a {leg.tone.hz:g} Hz tone" if leg.tone else "the file's sound"]
        if "video" in leg.kinds:
            pattern = leg.pattern
            sending.append(
                f"a {pattern.width}x{pattern.height} pattern" if pattern else "the file's picture"
            )
        ctx.console.say(
            f"media connected ({' + '.join(leg.kinds)}); sending {' and '.join(sending)}"
        )

    async def _watch_network(self) -> None:
        """Issue 17: our address went away or ICE failed mid-call → restart ICE on the same
        call (``MediaLeg.restart``), at most ``MAX_ICE_RESTARTS`` times.  A client that never
        comes back is the server's to end (its media liveness rule), not ours."""
        leg, sig = self.leg, self.ctx.sig
        assert leg is not None
        while self._going_on() and len(leg.restarts) < MAX_ICE_RESTARTS:
            await asyncio.sleep(NETWORK_WATCH_S)
            reason = leg.needs_restart()
            if reason is None or not self._going_on():
                continue
            self.ctx.console.say(f"restarting ICE ({reason})")
            try:
                await leg.restart(sig, self.call_id, reason)
            except CallerError as exc:
                self.ctx.console.say(f"the ICE restart failed ({exc}); trying again")
                await asyncio.sleep(1.0)
            else:
                self.ctx.console.say(f"media reconnected: {leg.restarts[-1]}")

    async def _take_part(self, run_s: float | None) -> None:
        ctx, sig = self.ctx, self.ctx.sig
        started = self._loop.time()
        until = None if run_s is None else started + run_s
        packets, packets_at = 0, started
        while self._going_on() and (until is None or self._loop.time() < until):
            now = self._loop.time()
            if self.leg is not None and self.leg.pc is not None:
                self.figures = await self.leg.figures()
                self.selected_pair = self.leg.selected_pair() or self.selected_pair
            received = self.figures.audio_rx_packets if self.figures else 0
            pps = (received - packets) / max(1e-3, now - packets_at)
            packets, packets_at = received, now
            ctx.console.status(status_line(ctx, self, now - self.active_at, pps))
            wait_s = STATUS_INTERVAL_S if until is None else min(STATUS_INTERVAL_S, until - now)
            await sig.until(lambda: not self._going_on(), max(0.0, wait_s))

    async def _measure(self) -> None:
        self.ended_at = self._loop.time()
        if self.leg is not None and self.leg.pc is not None:
            with contextlib.suppress(Exception):  # a closed connection keeps its last figures
                self.figures = await self.leg.figures()
        self.out.update(measures(self.leg, self.figures, self.ended_at))

    async def _hang_up(self) -> None:
        sig = self.ctx.sig
        if sig.status(self.call_id) == "active" and not sig.lost:
            with contextlib.suppress(CallerError):
                ack = await sig.ask("call:hangup", {"call_id": self.call_id})
                sig.calls[self.call_id] = ack["call"]

    async def _close(self) -> None:
        for task in (self._chat, self._watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.leg is not None:
            await self.leg.close()
        # Leaving on an error or a cancel: the call must not go on billing.
        await asyncio.shield(self._hang_up())
        self.ctx.console.end_status()

    async def _summary(self) -> dict[str, Any]:
        sig, out = self.ctx.sig, self.out
        ended_at = self.ended_at or self._loop.time()
        flowing_at = sig.flowing_at.get(self.call_id)
        view = sig.calls.get(self.call_id, {})
        text = self.mode == "text"
        out.update(
            {
                "status": view.get("status"),
                "end_reason": view.get("end_reason"),
                "ended_by": view.get("ended_by"),
                "connected_s": round(ended_at - self.active_at, 2),
                "media_flowing_s": round(ended_at - flowing_at, 2) if flowing_at else None,
                "chat_tx": self.chat_sent[0] if text else None,
                "chat_rx": sig.chat_rx.get(self.call_id, 0) if text else None,
                "ice_servers": self.leg.ice_server_count if self.leg else None,
                "ice_pair": self.selected_pair,
                "ice_restarts": self.leg.restarts if self.leg else None,
            }
        )
        out.update(await billed(self.ctx, self.call_id))
        if out["error"] is None:
            problem = nothing_arrived(out)
            out["error"] = problem.to_json() if problem else None
        out["warnings"] = warnings_of(out)
        out["ok"] = out["error"] is None
        return out


def measures(leg: MediaLeg | None, figures: LinkFigures | None, now: float) -> dict[str, Any]:
    if leg is None:
        return {}
    media_s = now - leg.connected_at if leg.connected_at is not None else 0.0
    tone = leg.audio.tone_hz()
    video = leg.video
    fields: dict[str, Any] = {
        "rx_tone_hz": round(tone, 1) if tone is not None else None,
        "audio_rx_packets": figures.audio_rx_packets if figures else 0,
        "audio_rx_pps": round(figures.audio_rx_packets / media_s, 1)
        if figures and media_s
        else 0.0,
        "audio_rx_frames": leg.audio.frames,
        "rtt_ms": _round(figures.rtt_ms, 2) if figures else None,
        "jitter_ms": _round(figures.jitter_ms, 2) if figures else None,
        "loss": round(figures.loss, 4) if figures else None,
        "uplink_loss": _round(figures.uplink_loss, 4) if figures else None,
        "video_rx_frames": None,
    }
    if "video" in leg.kinds:
        window = now - video.first_at if video.first_at is not None else 0.0
        pattern = leg.pattern
        fields.update(
            {
                "video_tx_frames": pattern.sent if pattern else None,
                "video_tx_size": f"{pattern.width}x{pattern.height}" if pattern else None,
                "video_rx_frames": video.frames,
                "video_rx_fps": round(video.frames / window, 1) if window > 0 else 0.0,
                "video_rx_size": f"{video.size[0]}x{video.size[1]}" if video.size else None,
                "video_rx_legible": video.legible,
                "video_rx_marker": video.marker(),
                "video_frames_skipped": video.skipped(),
                "video_max_gap_ms": round(1000 * video.longest_gap_s(now)),
                "video_stalls": video.stalls_until(now),
                "video_rx_packets": figures.video_rx_packets if figures else 0,
                "video_jitter_ms": _round(figures.video_jitter_ms, 2) if figures else None,
            }
        )
    return fields


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


async def billed(ctx: Context, call_id: str) -> dict[str, Any]:
    """What the session was billed: the meter over HTTP (final once the call has ended), else
    the last ``session:meter`` event."""
    meter: dict[str, Any] = dict(ctx.sig.meters.get(call_id, {}))
    try:
        meter = await ctx.api.call("GET", f"/api/sessions/{call_id}/meter")
    except (ApiError, CallerError) as exc:
        ctx.console.say(f"could not read the session's meter ({exc}); using the last event")
    fields = {
        "billed_minutes": meter.get("billed_minutes"),
        "rate_fen_per_min": meter.get("rate_fen_per_min"),
        "charged_fen": meter.get("charged_fen"),
    }
    if ctx.me.role == "customer":
        fields["balance_fen"] = meter.get("balance_fen")
    return fields


def nothing_arrived(out: dict[str, Any]) -> CallerError | None:
    if out["mode"] == "text":
        if not out.get("chat_rx"):
            return CallerError(
                "no chat message arrived from the peer",
                "is the other side a caller (it sends messages) and was the call long enough?",
                "no_chat",
            )
        return None
    if not out.get("audio_rx_frames"):
        return CallerError(
            "no audio arrived from the peer",
            "did the peer negotiate media (media:offer)? both sides must send for the relay "
            "to forward; check `media:state` and the server's log",
            "no_audio",
        )
    if out["mode"] == "video" and not out.get("video_rx_frames"):
        return CallerError(
            f"audio arrived but no video frame was decoded ({out.get('video_rx_packets')} "
            "video packets)",
            "packets without frames: the decoder never got a keyframe (the relay requests one "
            "when a subscriber starts) or the jitter buffer waits on a lost packet",
            "no_video",
        )
    return None


def warnings_of(out: dict[str, Any]) -> list[str]:
    found = []
    expected, heard = out.get("rx_tone_expected_hz"), out.get("rx_tone_hz")
    if expected and heard is not None and abs(heard - expected) > 5:
        found.append(f"heard {heard} Hz, not the peer caller's {expected} Hz (a person? a file?)")
    marker = out.get("video_rx_marker")
    if expected and marker is not None and marker != expected:
        found.append(f"the video's marker is {marker}, not the peer caller's {expected}")
    if out.get("video_stalls"):
        found.append(
            f"video stalled {out['video_stalls']} time(s), longest gap {out['video_max_gap_ms']} ms"
            + (
                f"; {out['loss']:.1%} of the packets sent to us never arrived, and aiortc's "
                "jitter buffer waits for a missing packet until 512 more have come, keyframe or not"
                if out.get("loss")
                else ""
            )
        )
    return found


def status_line(ctx: Context, session: Session, elapsed_s: float, pps: float) -> str:
    minutes, seconds = divmod(int(elapsed_s), 60)
    parts = [f"{session.mode} {session.call_id[-6:]} {minutes:02d}:{seconds:02d}"]
    leg, figures = session.leg, session.figures
    if leg is not None:
        sent = f"{leg.tone.hz:g}" if leg.tone else "file"
        heard = leg.audio.tone_hz()
        parts.append(f"tone {sent}→ ←{heard:.0f} Hz" if heard else f"tone {sent}→")
        parts.append(f"audio {pps:.0f} pkt/s")
        if "video" in leg.kinds:
            parts.append(f"video {leg.video.fps(asyncio.get_running_loop().time()):.1f} fps")
        if figures is not None and figures.rtt_ms is not None:
            parts.append(f"rtt {figures.rtt_ms:.1f} ms")
        if figures is not None and figures.jitter_ms is not None:
            parts.append(f"jitter {figures.jitter_ms:.1f} ms")
        if figures is not None:
            parts.append(f"loss {figures.loss:.1%}")
    else:
        parts.append(f"chat {session.chat_sent[0]}→ ←{ctx.sig.chat_rx.get(session.call_id, 0)}")
    meter = ctx.sig.meters.get(session.call_id)
    if meter:
        charged = meter.get("charged_fen")
        parts.append(
            f"billed {meter.get('billed_minutes')} min"
            + (f" {charged} fen" if charged is not None else "")
        )
    return " · ".join(parts)
