"""The caller's WebRTC leg: one aiortc peer connection to the relay; synthetic or file media
out, probes in.

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

import aioice.ice
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from caller.errors import CallerError
from caller.limits import (
    CLOSE_TIMEOUT_S,
    CONFIG_TIMEOUT_S,
    FORWARDABLE,
    MAX_ICE_SERVERS,
    MEDIA_CONNECT_TIMEOUT_S,
    MEDIA_SETUP_TIMEOUT_S,
)
from caller.signaling_client import Signal
from caller.synthetic import (
    AudioProbe,
    LinkFigures,
    PatternTrack,
    ToneTrack,
    VideoProbe,
    link_figures,
    rtx_ssrcs,
)


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


def _urls(server: RTCIceServer) -> list[str]:
    return [server.urls] if isinstance(server.urls, str) else list(server.urls)


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
        self._config: RTCConfiguration | None = None
        #: ICE restarts made: why, when (s since the first connection), how long until our
        #: new connection was up and until the peer's audio arrived again (None: never)
        self.restarts: list[dict[str, Any]] = []
        self._resuming: tuple[float, dict[str, Any]] | None = None
        self._restart_failed = False

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
        relay_only = bool(getattr(self._args, "relay_only", False))
        if relay_only and not any(
            url.startswith(("turn:", "turns:")) for server in ice for url in _urls(server)
        ):
            raise CallerError(
                "--relay-only, but the server offers no TURN server (media:config)",
                "set PEILIAO_ICE_TURN_URLS and PEILIAO_ICE_TURN_SECRET on the server",
                "no_turn_server",
            )
        policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
        self._config = RTCConfiguration(iceServers=ice, iceTransportPolicy=policy)
        await self._offer(sig, call_id)

    async def _offer(self, sig: Signal, call_id: str) -> None:
        """A new peer connection (new ICE credentials) offers on ``call_id``."""
        pc = self.pc = RTCPeerConnection(self._config)
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._state.set)
        for kind, track in self._sources().items():
            transceiver = pc.addTransceiver(track, direction="sendrecv")
            transceiver.setCodecPreferences(forwardable_codecs(kind))
        try:
            async with asyncio.timeout(MEDIA_SETUP_TIMEOUT_S):
                await pc.setLocalDescription(await pc.createOffer())
        except ConnectionError as exc:  # aioice: a relay-only agent whose TURN server refused
            raise CallerError(
                f"gathering ICE candidates failed: {exc}",
                "are the TURN credentials from media:config valid (the server's "
                "PEILIAO_ICE_TURN_SECRET is coturn's static-auth-secret, and both clocks agree)?",
                "ice_gathering",
            ) from None
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

    async def restart(self, sig: Signal, call_id: str, reason: str) -> None:
        """An ICE restart.  aiortc 1.16 has no ``createOffer(iceRestart=True)``, so a new peer
        connection (new ufrag and password) offers on the same call: the relay replaces our old
        one (``media/room.py``) and the session, its meter and the peer's connection go on.
        Socket.IO is reconnected first when our address went away.  Raises ``CallerError``
        when the new connection does not come up."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        record: dict[str, Any] = {
            "reason": reason,
            "at_s": round(began - (self.connected_at or began), 2),
            "connected_s": None,
            "resumed_s": None,
        }
        self.restarts.append(record)
        self._restart_failed = True  # until the new connection is up
        old, self.pc = self.pc, None
        if old is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await old.close()
        for track in self._tracks:
            track.stop()
        if reason == "address_gone":
            await sig.reconnect()
        self._resuming = (began, record)
        await self._offer(sig, call_id)
        connected_at = self.connected_at
        await self.wait_connected()
        record["connected_s"] = round(loop.time() - began, 2)
        self._restart_failed = False
        self.connected_at = connected_at  # figures stay relative to the first connection

    def needs_restart(self) -> str | None:
        """Why our connection should restart ICE now, or None: the address its selected
        candidate pair uses is no longer this machine's (a network switch: the OS says so at
        once, ICE consent would take ~30 s), or ICE says it failed."""
        pc = self.pc
        if self._restart_failed:
            return "restart_failed"
        if pc is None:
            return None
        if pc.connectionState == "failed" or pc.iceConnectionState == "failed":
            return "ice_failed"
        local = self.selected_local_address()
        if local is not None and local not in aioice.ice.get_host_addresses(
            use_ipv4=True, use_ipv6=True
        ):
            return "address_gone"
        return None

    def selected_local_address(self) -> str | None:
        """This machine's address under our selected candidate pair: a host candidate's own, a
        server-reflexive one's base (RFC 8445 §5.1.1.2); None for a relayed one (its related
        address is the TURN server's view of us, not ours: ICE failure covers it)."""
        if self.pc is None:
            return None
        for transceiver in self.pc.getTransceivers():
            connection = transceiver.receiver.transport.transport.iceGatherer._connection
            pair = connection._nominated.get(1)
            if pair is not None:
                candidate = pair.local_candidate
                if candidate.type == "host":
                    return str(candidate.host)
                if candidate.type == "srflx" and candidate.related_address:
                    return str(candidate.related_address)
                return None
        return None

    def selected_pair(self) -> dict[str, str] | None:
        """The candidate types (``host``, ``srflx``, ``relay``…) of the pair ICE chose, ours and
        the server's; None before ICE completes.  aiortc's getStats() leaves candidate pairs
        out, so this reads its ICE agent (aioice) directly."""
        if self.pc is None:
            return None
        for transceiver in self.pc.getTransceivers():
            connection = transceiver.receiver.transport.transport.iceGatherer._connection
            pair = connection._nominated.get(1)
            if pair is not None:
                return {"local": pair.local_candidate.type, "remote": pair.remote_candidate.type}
        return None

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.create_task(self._read(track), name=f"read-{track.kind}"))

    async def _read(self, track: MediaStreamTrack) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    self.audio.add(frame)
                    if self._resuming is not None:
                        began, record = self._resuming
                        self._resuming = None
                        record["resumed_s"] = round(loop.time() - began, 2)
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
