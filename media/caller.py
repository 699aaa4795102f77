"""The headless test caller: ``peiliao caller answer`` and ``peiliao caller call``.

It talks to a server exactly as a browser does: the HTTP API (login by SMS code, wallet, rates,
the session's meter), Socket.IO (``docs/protocol.md``) and WebRTC through aiortc, offering its
media with ``media:offer``.  What it sends is synthetic (``media.synthetic``: a tone of each
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
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import aioice.ice
import av
import socketio
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from media.synthetic import (
    AudioProbe,
    LinkFigures,
    PatternTrack,
    ToneTrack,
    VideoProbe,
    link_figures,
    rtx_ssrcs,
    tone_hz_for,
)

HTTP_TIMEOUT_S = 10.0
ACK_TIMEOUT_S = 10.0
CONFIG_TIMEOUT_S = 3.0  # media:config is optional: a server without it must not hold us up
MEDIA_SETUP_TIMEOUT_S = 20.0  # gathering candidates (STUN/TURN servers may be slow)
MEDIA_CONNECT_TIMEOUT_S = 15.0
RING_MARGIN_S = 5.0  # beyond the call's ring deadline: the server's sweep ends it
CLOSE_TIMEOUT_S = 5.0
STATUS_INTERVAL_S = 1.0
MAX_ICE_SERVERS = 8
MAX_INCOMING = 64
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # signaling/protocol.py's UserIdField
#: What the relay forwards as it is (docs/protocol.md), so all that we offer.
FORWARDABLE = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}


class CallerError(Exception):
    """What went wrong, with what to do next (``hint``); ``code`` is stable (the server's own
    code when it refused something)."""

    def __init__(self, message: str, hint: str = "", code: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class ApiError(Exception):
    """An HTTP error answer: ``{"error": {code, message, details}}``."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class Console:
    """Event lines and a live status line (carriage-return updated, cut to the terminal's
    width) on stderr; the report of each session on stdout, unless stdout carries JSON."""

    def __init__(self, out: TextIO, err: TextIO, *, live: bool, json_out: bool) -> None:
        self._out = err if json_out else out
        self._err = err
        self._live = live
        self._shown = False

    def say(self, text: str) -> None:
        self._clear()
        print(f"peiliao caller: {text}", file=self._err, flush=True)

    def report(self, text: str) -> None:
        self._clear()
        print(text, file=self._out, flush=True)

    def status(self, text: str) -> None:
        if self._live:
            width = shutil.get_terminal_size().columns - 1
            self._err.write("\r" + text[:width] + "\x1b[K")
            self._err.flush()
            self._shown = True

    def end_status(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._shown:
            self._err.write("\r\x1b[K")
            self._err.flush()
            self._shown = False


# -- HTTP --------------------------------------------------------------------------------------


class Api:
    """The server's HTTP API with a bearer token (the CLI's way to log in)."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.token: str | None = None
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))

    async def close(self) -> None:
        await self._http.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with self._http.request(
                method, self.server + path, json=body, params=params, headers=headers
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CallerError(
                f"cannot reach {self.server} ({type(exc).__name__}: {exc})",
                "is the server running? `make run` serves http://127.0.0.1:8080 (pass --server)",
                "unreachable",
            ) from None
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            if not isinstance(err, dict):
                raise ApiError(status, "http_error", text[:200], {})
            return_details = err.get("details")
            raise ApiError(
                status,
                str(err.get("code", "http_error")),
                str(err.get("message", "")),
                return_details if isinstance(return_details, dict) else {},
            )
        return data


def refused(exc: ApiError, doing: str, hint: str = "") -> CallerError:
    return CallerError(f"{doing}: the server refused ({exc.code}: {exc.message})", hint, exc.code)


@dataclass(frozen=True, slots=True)
class Me:
    user_id: str
    role: str
    nickname: str


class TokenCache:
    """Login tokens this tool was given, by server and phone, in a file only its owner reads
    (a token is a login: it is never printed)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @staticmethod
    def _key(server: str, phone: str) -> str:
        return f"{server}|{''.join(ch for ch in phone if ch.isdigit())[-11:]}"

    def _load(self) -> dict[str, str]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, server: str, phone: str) -> str | None:
        return self._load().get(self._key(server, phone))

    def put(self, server: str, phone: str, token: str | None) -> None:
        if self.path is None:
            return
        tokens = self._load()
        if token is None:
            tokens.pop(self._key(server, phone), None)
        else:
            tokens[self._key(server, phone)] = token
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(tokens, f)
            tmp.replace(self.path)


async def log_in(api: Api, phone: str, token: str | None, cache: TokenCache) -> Me:
    """Log in as ``phone``: with ``token``, a cached token, or a code from the dev SMS outbox."""
    if token:
        api.token = token
        try:
            return _me(await api.call("GET", "/api/me"))
        except ApiError as exc:
            raise CallerError(
                f"the server refused --token ({exc.code}: {exc.message})",
                "log in again (on a dev server, leave --token out: the dev SMS outbox is used)",
                exc.code,
            ) from None
    cached = cache.get(api.server, phone)
    if cached:
        api.token = cached
        try:
            return _me(await api.call("GET", "/api/me"))
        except ApiError as exc:
            if exc.status != 401:
                raise refused(exc, "checking the saved login") from None
            cache.put(api.server, phone, None)
    api.token = None
    try:
        await api.call("POST", "/api/auth/sms-code", body={"phone": phone})
    except ApiError as exc:
        if exc.code == "invalid_phone":
            raise CallerError(
                f"{phone!r} is not a mainland mobile number",
                "give 11 digits starting 13–19, e.g. --phone 13800000001",
                exc.code,
            ) from None
        wait = exc.details.get("retry_after_s")
        raise refused(
            exc,
            f"asking for a login code for {phone}",
            (f"wait {wait} s, or " if wait else "") + "pass --token TOKEN",
        ) from None
    try:
        outbox = await api.call("GET", "/api/dev/sms-outbox", params={"phone": phone, "limit": "1"})
    except ApiError as exc:
        if exc.status == 404:
            raise CallerError(
                "this server keeps no dev SMS outbox (it does not run with PEILIAO_ENV=dev)",
                'pass --token TOKEN (POST /api/auth/login with "client": "cli" gives one)',
                "no_dev_outbox",
            ) from None
        raise refused(exc, "reading the dev SMS outbox") from None
    messages = outbox.get("messages") if isinstance(outbox, dict) else None
    if not messages:
        raise CallerError(f"the dev SMS outbox holds no code for {phone}", "pass --token TOKEN")
    try:
        login = await api.call(
            "POST",
            "/api/auth/login",
            body={"phone": phone, "code": messages[0]["code"], "client": "cli"},
        )
    except ApiError as exc:
        raise refused(exc, f"logging in as {phone}", "pass --token TOKEN") from None
    api.token = str(login["token"])
    cache.put(api.server, phone, api.token)
    return _me(login["user"])


def _me(user: dict[str, Any]) -> Me:
    return Me(str(user["id"]), str(user["role"]), str(user.get("nickname", "")))


# -- Socket.IO ---------------------------------------------------------------------------------


class Signal:
    """The Socket.IO connection: acks, and what the server told us, by call."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(
            reconnection=False, logger=False, engineio_logger=False, handle_sigint=False
        )
        self.my_id = ""
        self.hello: dict[str, Any] | None = None
        self.calls: dict[str, dict[str, Any]] = {}
        self.incoming: list[str] = []
        self.meters: dict[str, dict[str, Any]] = {}
        self.flowing_at: dict[str, float] = {}
        self.chat_rx: dict[str, int] = {}
        self.presence: dict[str, str] = {}
        self.draining = False
        self.lost = False
        self._changed = asyncio.Event()
        handlers: dict[str, Callable[..., Any]] = {
            "session:hello": self._on_hello,
            "call:incoming": self._on_incoming,
            "call:update": self._on_call,
            "call:ring_stop": self._on_call,
            "session:meter": self._on_meter,
            "media:state": self._on_media_state,
            "chat:message": self._on_chat,
            "presence:update": self._on_presence,
            "server:draining": self._on_draining,
            "disconnect": self._on_disconnect,
        }
        for name, handler in handlers.items():
            self.sio.on(name, handler)

    async def connect(self, server: str, token: str) -> dict[str, Any]:
        try:
            await self.sio.connect(
                server,
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=ACK_TIMEOUT_S,
            )
        except socketio.exceptions.ConnectionError as exc:
            raise CallerError(
                f"the server refused the Socket.IO connection ({exc})",
                "log in again (a stale --token?) or retry if the server is draining",
                "socket_refused",
            ) from None
        if not await self.until(lambda: self.hello is not None, ACK_TIMEOUT_S):
            raise CallerError("the server sent no session:hello", "is it a Peiliao server?")
        assert self.hello is not None
        self.my_id = str(self.hello["user_id"])
        return self.hello

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    async def ask(
        self,
        event: str,
        data: dict[str, Any] | None = None,
        timeout_s: float = ACK_TIMEOUT_S,
    ) -> dict[str, Any]:
        """Send ``event``; its ok ack, or a ``CallerError`` with the server's code."""
        if self.lost:
            raise CallerError("lost the connection to the server", "", "disconnected")
        try:
            ack = await self.sio.call(event, data, timeout=timeout_s)
        except socketio.exceptions.TimeoutError:
            raise CallerError(
                f"the server did not answer {event} within {timeout_s:g} s", "", "timeout"
            ) from None
        except socketio.exceptions.SocketIOError as exc:
            raise CallerError(f"{event}: {exc}", "", "disconnected") from None
        if not isinstance(ack, dict):
            raise CallerError(f"{event}: the server's answer is not an object", "", "protocol")
        if not ack.get("ok"):
            err = ack.get("error") or {}
            raise CallerError(
                f"{event} refused: {err.get('message', '')}", "", str(err.get("code", "refused"))
            )
        return ack

    async def until(self, ready: Callable[[], bool], timeout_s: float | None) -> bool:
        """Wait until ``ready()`` (re-checked on every event, and at least every 0.5 s, so that
        a stop request is seen); False on time-out."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while not ready():
            left = 0.5 if deadline is None else min(0.5, deadline - loop.time())
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    def status(self, call_id: str) -> str:
        return str(self.calls.get(call_id, {}).get("status", ""))

    def _changed_now(self) -> None:
        self._changed.set()

    async def _on_hello(self, data: dict[str, Any]) -> None:
        self.hello = data
        call = data.get("call")
        if isinstance(call, dict):
            self.calls[call["call_id"]] = call
        self._changed_now()

    async def _on_incoming(self, data: dict[str, Any]) -> None:
        self.calls[data["call_id"]] = data
        if data.get("status") == "ringing" and len(self.incoming) < MAX_INCOMING:
            self.incoming.append(data["call_id"])
        self._changed_now()

    async def _on_call(self, data: dict[str, Any]) -> None:
        self.calls[data["call_id"]] = data
        self._changed_now()

    async def _on_meter(self, data: dict[str, Any]) -> None:
        self.meters[data["call_id"]] = data
        self._changed_now()

    async def _on_media_state(self, data: dict[str, Any]) -> None:
        if data.get("flowing"):
            self.flowing_at.setdefault(data["call_id"], asyncio.get_running_loop().time())
        self._changed_now()

    async def _on_chat(self, data: dict[str, Any]) -> None:
        if data.get("sender_id") != self.my_id:
            self.chat_rx[data["call_id"]] = self.chat_rx.get(data["call_id"], 0) + 1
        self._changed_now()

    async def _on_presence(self, data: dict[str, Any]) -> None:
        self.presence[data["user_id"]] = data["status"]
        self._changed_now()

    async def _on_draining(self, data: Any = None) -> None:
        self.draining = True
        self._changed_now()

    async def _on_disconnect(self, *args: Any) -> None:
        self.lost = True
        self._changed_now()


# -- media ---------------------------------------------------------------------------------


def loopback_host_candidates() -> None:
    """Offer host candidates on 127.0.0.1 only (this process, for good): aioice leaves loopback
    out, which a server and callers on one machine (or a test that may reach nothing else)
    need."""

    def loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"]

    aioice.ice.get_host_addresses = loopback


async def ice_servers(sig: Signal, call_id: str) -> list[RTCIceServer]:
    """The session's STUN/TURN servers from ``media:config``; none when the server does not
    offer it (older servers ack ``unknown_event``)."""
    try:
        ack = await sig.ask("media:config", {"call_id": call_id}, timeout_s=CONFIG_TIMEOUT_S)
    except CallerError:
        return []
    servers: list[RTCIceServer] = []
    for entry in ack.get("ice_servers") or []:
        if not isinstance(entry, dict) or len(servers) >= MAX_ICE_SERVERS:
            continue
        urls = entry.get("urls")
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            continue
        servers.append(
            RTCIceServer(
                urls=urls, username=entry.get("username"), credential=entry.get("credential")
            )
        )
    return servers


def forwardable_codecs(kind: str) -> list[Any]:
    """Offer only what the relay forwards as it is (Opus; VP8 with RTX), as a browser would
    after codec negotiation."""
    caps = RTCRtpSender.getCapabilities(kind).codecs
    return [c for c in caps if c.mimeType.lower() in FORWARDABLE[kind]]


class MediaLeg:
    """Our peer connection with the server for one call: what we send, and probes on what we
    receive.  The readers run in tasks of their own, so a receiver that stops producing frames
    (aiortc's video jitter buffer waiting on a packet lost for good) shows up as a gap in the
    probes, and never holds the caller up."""

    def __init__(self, mode: str, tone_hz: int, args: argparse.Namespace) -> None:
        self.kinds = ("audio", "video") if mode == "video" else ("audio",)
        self.tone_hz = tone_hz
        self.audio = AudioProbe()
        self.video = VideoProbe()
        self.ice_server_count = 0
        self.connected_at: float | None = None
        self.tone: ToneTrack | None = None
        self.pattern: PatternTrack | None = None
        self._args = args
        self._tracks: list[MediaStreamTrack] = []
        self._readers: list[asyncio.Task[None]] = []
        self._state = asyncio.Event()
        self.pc: RTCPeerConnection | None = None

    def _sources(self) -> dict[str, MediaStreamTrack]:
        """The file's tracks (``--media``, looped), synthetic ones for what it lacks."""
        audio: MediaStreamTrack | None = None
        video: MediaStreamTrack | None = None
        if self._args.media:
            try:
                player = MediaPlayer(self._args.media, loop=True)
            except (av.FFmpegError, OSError) as exc:
                raise CallerError(f"cannot play {self._args.media}: {exc}", "", "usage") from None
            audio, video = player.audio, player.video
        if audio is None:
            audio = self.tone = ToneTrack(self.tone_hz)
        sources = {"audio": audio}
        if "video" in self.kinds:
            if video is None:
                width, height = self._args.size
                video = self.pattern = PatternTrack(self.tone_hz, width, height, self._args.fps)
            sources["video"] = video
        elif video is not None:
            video.stop()  # a voice call: the file's picture is not sent
        self._tracks = list(sources.values())
        return sources

    async def start(self, sig: Signal, call_id: str) -> None:
        ice = await ice_servers(sig, call_id)
        self.ice_server_count = len(ice)
        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._state.set)
        for kind, track in self._sources().items():
            transceiver = pc.addTransceiver(track, direction="sendrecv")
            transceiver.setCodecPreferences(forwardable_codecs(kind))
        try:
            async with asyncio.timeout(MEDIA_SETUP_TIMEOUT_S):
                await pc.setLocalDescription(await pc.createOffer())
        except TimeoutError:
            raise CallerError(
                f"gathering ICE candidates took over {MEDIA_SETUP_TIMEOUT_S:g} s",
                "are the STUN/TURN servers from media:config reachable?",
                "ice_gathering",
            ) from None
        ack = await sig.ask("media:offer", {"call_id": call_id, "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))

    async def wait_connected(self) -> None:
        assert self.pc is not None
        pc = self.pc
        try:
            async with asyncio.timeout(MEDIA_CONNECT_TIMEOUT_S):
                while pc.connectionState != "connected":
                    if pc.connectionState in ("failed", "closed"):
                        break
                    self._state.clear()
                    await self._state.wait()
        except TimeoutError:
            pass
        if pc.connectionState != "connected":
            raise CallerError(
                f"media did not connect to the server (ICE/DTLS: {pc.connectionState})",
                "can this machine reach the server's UDP candidates (a firewall, the server's "
                "PEILIAO_ICE_* settings)? behind NAT the server must offer TURN (media:config); "
                "a server with loopback candidates only (the test rig) needs --ice-loopback",
                "media_not_connected",
            )
        self.connected_at = asyncio.get_running_loop().time()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.create_task(self._read(track), name=f"read-{track.kind}"))

    async def _read(self, track: MediaStreamTrack) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    self.audio.add(frame)
                elif isinstance(frame, av.VideoFrame):
                    self.video.add(frame, loop.time())

    async def figures(self) -> LinkFigures:
        assert self.pc is not None
        remote = self.pc.remoteDescription
        return link_figures(await self.pc.getStats(), rtx_ssrcs(remote.sdp) if remote else None)

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for track in self._tracks:
            track.stop()
        if self.pc is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await self.pc.close()


# -- one session ---------------------------------------------------------------------------


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
        self.chat_sent = [0]
        self._chat: asyncio.Task[None] | None = None
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
        sending = [f"a {leg.tone.hz:g} Hz tone" if leg.tone else "the file's sound"]
        if "video" in leg.kinds:
            pattern = leg.pattern
            sending.append(
                f"a {pattern.width}x{pattern.height} pattern" if pattern else "the file's picture"
            )
        ctx.console.say(
            f"media connected ({' + '.join(leg.kinds)}); sending {' and '.join(sending)}"
        )

    async def _take_part(self, run_s: float | None) -> None:
        ctx, sig = self.ctx, self.ctx.sig
        started = self._loop.time()
        until = None if run_s is None else started + run_s
        packets, packets_at = 0, started
        while self._going_on() and (until is None or self._loop.time() < until):
            now = self._loop.time()
            if self.leg is not None:
                self.figures = await self.leg.figures()
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
        if self._chat is not None:
            self._chat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._chat
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


# -- the two commands ------------------------------------------------------------------------


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


# -- entry points ----------------------------------------------------------------------------


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
