"""A call's media: one server-side peer connection per participant; what each one sends is
forwarded, packet by packet, to every other participant (``media.forward``).

Each participant offers; the server answers with one transceiver per kind (audio, and video for
video calls), ``sendrecv``: the server receives that participant's media on it and sends the
other participant's media back on it.  Codecs are limited to what can be forwarded as it is:
Opus, and one video codec (VP8), so both legs use identical payload formats.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtp import RtpPacket

from media import rtc_internals
from media.forward import Forward

FORWARDABLE = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}


class Parked(MediaStreamTrack):
    """A sender's track that never yields a frame: the relay sends on its sender itself."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.Future()


def prefer_forwardable(transceiver: RTCRtpTransceiver, kind: str) -> None:
    """Offer or accept only the codecs the relay forwards as they are (Opus; VP8 with RTX)."""
    caps = RTCRtpSender.getCapabilities(kind).codecs
    transceiver.setCodecPreferences([c for c in caps if c.mimeType.lower() in FORWARDABLE[kind]])


@dataclass
class Participant:
    user_id: str
    pc: RTCPeerConnection
    transceivers: dict[str, RTCRtpTransceiver]
    rx_packets: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    last_rx: float = 0.0


class Room:
    def __init__(self, call_id: str, kinds: tuple[str, ...], ice: RTCConfiguration) -> None:
        self.call_id = call_id
        self.kinds = kinds
        self._ice = ice
        self.participants: dict[str, Participant] = {}
        #: (source user, kind) → the forwards carrying it to the others
        self._forwards: dict[tuple[str, str], list[Forward]] = {}
        self._lock = asyncio.Lock()
        #: no money for the next minute: nothing is forwarded either way until it resumes
        self.paused = False

    async def answer(self, user_id: str, offer_sdp: str) -> str:
        """Take ``user_id``'s offer; the server's answer SDP.  A new offer from the same user
        replaces their previous peer connection."""
        async with self._lock:
            old = self.participants.pop(user_id, None)
            if old is not None:
                self._unlink(old)
                await old.pc.close()
            pc = RTCPeerConnection(self._ice)
            transceivers = {}
            for kind in self.kinds:
                t = pc.addTransceiver(Parked(kind), direction="sendrecv")
                prefer_forwardable(t, kind)
                transceivers[kind] = t
            try:
                await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
            except Exception:
                await pc.close()
                raise
            participant = Participant(user_id, pc, transceivers)
            self.participants[user_id] = participant
            for kind, t in transceivers.items():
                rtc_internals.tap_receiver(t.receiver, self._fan_out(participant, kind))
            self._link()
            return str(pc.localDescription.sdp)

    def _fan_out(self, source: Participant, kind: str) -> Any:
        loop = asyncio.get_running_loop()

        async def fan_out(packet: RtpPacket) -> None:
            source.rx_packets[kind] += 1
            source.last_rx = loop.time()  # still arriving: the media is alive, only held back
            if self.paused:
                return
            for forward in self._forwards.get((source.user_id, kind), ()):
                await forward.packet(packet)

        return fan_out

    def _link(self) -> None:
        for src in self.participants.values():
            for dst in self.participants.values():
                if src is dst:
                    continue
                for kind in self.kinds:
                    forwards = self._forwards.setdefault((src.user_id, kind), [])
                    if not any(f.target is dst.transceivers[kind] for f in forwards):
                        forwards.append(Forward(src.transceivers[kind], dst.transceivers[kind]))

    def _unlink(self, old: Participant) -> None:
        for kind in self.kinds:
            self._forwards.pop((old.user_id, kind), None)
        gone = {id(t) for t in old.transceivers.values()}
        for key, forwards in self._forwards.items():
            self._forwards[key] = [f for f in forwards if id(f.target) not in gone]

    def flowing(self, now: float, silence_s: float) -> bool:
        """Media arrives from every participant (at least two) within ``silence_s``."""
        return len(self.participants) >= 2 and all(
            now - p.last_rx < silence_s for p in self.participants.values()
        )

    async def close(self) -> None:
        async with self._lock:
            for p in self.participants.values():
                with contextlib.suppress(Exception):
                    await p.pc.close()
            self.participants.clear()
            self._forwards.clear()
