"""A call's media: one server-side peer connection per participant; what each one sends is
forwarded, packet by packet, to every other participant (``media.forward``).

A room holds N participants (1:1 is N = 2; a group voice room is a host and up to 8 others).
Each participant offers; the server answers on the participant's own m-lines, ``sendrecv`` on its
side, so the negotiated direction of each m-line is the participant's choice:
- the participant's **first** m-line of a kind carries what they send (microphone, camera);
- every m-line of a kind is a **slot** the server sends one other participant's media on.  In a
  1:1 call the first m-line is also the only slot; a group member offers one m-line per other
  participant it wants to hear (up to ``MAX_SLOTS``; ``recvonly`` beyond the first).  Slots are
  assigned in join order and kept while their source stays; ``on_slots`` reports each
  participant's slot map (mid → source user) whenever it changes.
Codecs are limited to what can be forwarded as it is (Opus; VP8 with RTX), so every leg uses the
same payload formats.

Renegotiation: a new offer with the same ICE credentials is applied to the participant's peer
connection (directions for camera on/off, more slots); one with new credentials (an ICE restart,
a reloaded page) replaces the peer connection.  Trickled candidates that arrive before their
offer wait for it.  Liveness: a participant is alive while their RTP arrives, or — when they
declared everything muted — while their RTCP does.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiortc import (
    MediaStreamTrack,
    RTCIceCandidate,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc import sdp as aiortc_sdp
from aiortc.rtp import RtpPacket

from media import rtc_internals, rtp, twcc
from media.evidence import ParticipantWindow, Snapshot
from media.feedback import SourceFeedback
from media.forward import Forward
from media.ice import IcePolicy, PortsExhausted
from media.opus_fmtp import with_opus_parameters
from media.talk import Talk, TalkLog

log = structlog.get_logger(__name__)

FORWARDABLE = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}
#: m-lines of one kind a participant may offer: a room holds at most MAX_SLOTS + 1 people
MAX_SLOTS = 8
#: trickled candidates kept for an offer that has not arrived yet
MAX_PENDING_CANDIDATES = 64

SlotSink = Callable[[str, list[dict[str, str]]], Awaitable[None]]


class BadOffer(ValueError):
    """The offer cannot be used (not SDP, media this session does not carry, too many slots)."""


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


@dataclass(frozen=True)
class Offer:
    sdp: str
    counts: dict[str, int]
    ufrag: str | None
    #: the transport-wide sequence number's extension id, when the offer asks for transport-cc
    transport_cc_id: int | None = None

    @classmethod
    def read(cls, sdp: str, kinds: tuple[str, ...]) -> Offer:
        try:
            description = aiortc_sdp.SessionDescription.parse(sdp)
        except Exception:
            raise BadOffer("not an SDP offer") from None
        counts = dict.fromkeys(kinds, 0)
        for media in description.media:
            if media.kind not in kinds:
                raise BadOffer(f"this session carries {' and '.join(kinds)}, not {media.kind}")
            counts[media.kind] += 1
        if not any(counts.values()):
            raise BadOffer("the offer has no audio or video")
        if max(counts.values()) > MAX_SLOTS:
            raise BadOffer(f"at most {MAX_SLOTS} m-lines of one kind")
        ice = description.media[0].ice
        return cls(
            sdp,
            counts,
            ice.usernameFragment if ice is not None else None,
            twcc.offered_id(sdp) if counts.get("video") else None,
        )


@dataclass
class Participant:
    user_id: str
    pc: RTCPeerConnection
    #: by kind, in m-line order: [0] carries what the participant sends; each is a slot
    transceivers: dict[str, list[RTCRtpTransceiver]]
    ufrag: str | None
    order: int
    rx_packets: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    last_rx: float = -math.inf
    last_rtcp: float = -math.inf
    muted: dict[str, bool] = field(default_factory=lambda: {"audio": False, "video": False})
    #: (kind, slot index) → the user whose media that slot carries
    slots: dict[tuple[str, int], str] = field(default_factory=dict)
    #: the synchronous path: id(receiver) → handler, and the transports whose socket is hooked
    fast: dict[int, Any] = field(default_factory=dict)
    fast_installed: set[int] = field(default_factory=set)
    rx_fast: int = 0
    #: who spoke when (``media.talk``): the room's counts for this user
    talk: Talk | None = None
    #: transport-wide feedback to this participant's browser (``media.twcc``), when negotiated
    transport_cc_id: int | None = None
    transport_feedback: twcc.TransportFeedback | None = None

    def alive(self, now: float, silence_s: float) -> bool:
        if now - self.last_rx < silence_s:
            return True
        return all(self.muted.values()) and now - self.last_rtcp < silence_s

    def slot_map(self) -> list[dict[str, str]]:
        return [
            {"kind": kind, "mid": str(self.transceivers[kind][i].mid), "user_id": source}
            for (kind, i), source in sorted(self.slots.items())
        ]


async def _no_slots(user_id: str, slots: list[dict[str, str]]) -> None:
    return None


class Room:
    def __init__(
        self,
        call_id: str,
        kinds: tuple[str, ...],
        ice: IcePolicy | None = None,
        *,
        on_slots: SlotSink = _no_slots,
        evidence_window_s: float | None = None,
        talk: TalkLog | None = None,
    ) -> None:
        """``evidence_window_s``: keep each participant's safety window of that many seconds
        (``media.evidence``; 1:1 calls); None: keep nothing.  ``talk``: count who spoke when
        (``media.talk``; 1:1 calls)."""
        self.call_id = call_id
        #: per participant, how much of each second they were voiced (``media.talk``)
        self.talk = talk
        self.kinds = kinds
        self._ice = ice or IcePolicy()
        self._on_slots = on_slots
        self.participants: dict[str, Participant] = {}
        #: (source user, kind) → the forwards carrying it to the others
        self._forwards: dict[tuple[str, str], list[Forward]] = {}
        #: id(target transceiver) → the forward sending on it
        self._legs: dict[int, Forward] = {}
        #: id(target transceiver) → the last forward that sent on it (its successor continues)
        self._retired: dict[int, Forward] = {}
        self._pending: dict[str, list[RTCIceCandidate | None]] = {}
        self._joined = 0
        self._lock = asyncio.Lock()
        self._loop = asyncio.get_event_loop()
        self._closed = False
        #: no money for the next minute: nothing is forwarded either way until it resumes
        self.paused = False
        #: group rooms: participants held back (no money for their next minute): nothing is
        #: forwarded to or from them, the others go on
        self.held: set[str] = set()
        #: id(transceiver) → the participant whose peer connection it is on
        self._owner_of: dict[int, str] = {}
        self._evidence_window_s = evidence_window_s
        #: user → their safety window (kept across a reconnect: same user, same window)
        self.windows: dict[str, ParticipantWindow] = {}
        self._keyframe_asks: set[asyncio.Task[None]] = set()

    # -- negotiation ---------------------------------------------------------------------------

    async def answer(self, user_id: str, offer_sdp: str) -> str:
        """Take ``user_id``'s offer; the server's answer SDP."""
        offer = Offer.read(offer_sdp, self.kinds)
        async with self._lock:
            if self._closed:
                raise BadOffer("the session's media has ended")
            current = self.participants.get(user_id)
            if (
                current is not None
                and offer.ufrag is not None
                and current.ufrag == offer.ufrag
                and current.pc.connectionState not in ("closed", "failed")
            ):
                sdp = await self._renegotiate(current, offer)
            else:
                if current is not None:
                    self._leave(current)
                    await current.pc.close()
                sdp = await self._join(user_id, offer)
            await self._link()
            await self._flush_candidates(user_id)
            joined = self.participants[user_id]
            if joined.transport_cc_id is not None:
                sdp = twcc.with_transport_cc(sdp, joined.transport_cc_id)
            return self._ice.announce(with_opus_parameters(sdp))

    def _add_transceiver(self, pc: RTCPeerConnection, kind: str) -> RTCRtpTransceiver:
        t = pc.addTransceiver(Parked(kind), direction="sendrecv")
        prefer_forwardable(t, kind)
        return t

    async def _join(self, user_id: str, offer: Offer) -> str:
        pc = self._ice.peer_connection()
        transceivers = {
            kind: [self._add_transceiver(pc, kind) for _ in range(offer.counts[kind])]
            for kind in self.kinds
        }
        self._ice.bind(pc)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except PortsExhausted:
            await pc.close()
            raise
        except Exception as exc:
            await pc.close()
            raise BadOffer(str(exc)[:200] or type(exc).__name__) from None
        self._joined += 1
        participant = Participant(user_id, pc, transceivers, offer.ufrag, self._joined)
        if offer.transport_cc_id is not None:
            participant.transport_cc_id = offer.transport_cc_id
            participant.transport_feedback = twcc.TransportFeedback()
        participant.talk = self.talk.of(user_id) if self.talk is not None else None
        self.participants[user_id] = participant
        if self._evidence_window_s is not None and user_id not in self.windows:
            self.windows[user_id] = ParticipantWindow(user_id, self._evidence_window_s)
        for ts in transceivers.values():
            for t in ts:
                self._owner_of[id(t)] = user_id
        loop = asyncio.get_running_loop()
        for kind, ts in transceivers.items():
            for t in ts:
                self._tap(participant, kind, t)
        self._fast(participant)
        # Every m-line is bundled on the first one's transport: its RTCP is the participant's.
        first = next(t for ts in transceivers.values() for t in ts)

        def heard() -> None:
            participant.last_rtcp = loop.time()

        rtc_internals.watch_rtcp(first.receiver.transport, heard)
        return str(pc.localDescription.sdp)

    async def _renegotiate(self, participant: Participant, offer: Offer) -> str:
        pc = participant.pc
        added: list[tuple[str, RTCRtpTransceiver]] = []
        for kind in self.kinds:
            while len(participant.transceivers[kind]) < offer.counts[kind]:
                t = self._add_transceiver(pc, kind)
                participant.transceivers[kind].append(t)
                added.append((kind, t))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            raise BadOffer(str(exc)[:200] or type(exc).__name__) from None
        for kind, t in added:
            self._owner_of[id(t)] = participant.user_id
            self._tap(participant, kind, t)
        self._fast(participant)
        return str(pc.localDescription.sdp)

    def _arrived(self, source: Participant, kind: str, sends: bool, packet: rtp.AnyRtp) -> None:
        """One RTP packet from ``source``: count it, and forward it unless the room is held."""
        source.rx_packets[kind] += 1
        now = source.last_rx = self._loop.time()  # still arriving: alive, only held back
        if sends and kind == "audio" and source.talk is not None:
            source.talk.packet(packet.extensions.audio_level)
        if self.paused or not sends:
            return
        window = self.windows.get(source.user_id) if self.windows else None
        if window is not None:
            if kind == "audio":
                window.audio.add(now, packet.timestamp, packet.payload)
            else:
                self._keep_keyframe(source, window, now, packet)
        forwards = self._forwards.get((source.user_id, kind), ())
        if self.held:
            if source.user_id in self.held:
                return
            for forward in forwards:
                if self._owner_of.get(id(forward.target)) not in self.held:
                    forward.packet(packet)
            return
        for forward in forwards:
            forward.packet(packet)

    def _keep_keyframe(
        self, source: Participant, window: ParticipantWindow, now: float, packet: rtp.AnyRtp
    ) -> None:
        window.video.add(
            now, packet.sequence_number, packet.timestamp, bool(packet.marker), packet.payload
        )
        if window.video.ask(now):
            # Browsers send a keyframe only when asked: one every 10 s for the window (the
            # subscriber receives it too, as after any keyframe request).
            receiver = source.transceivers["video"][0].receiver
            task = asyncio.ensure_future(rtc_internals.request_keyframe(receiver, packet.ssrc))
            self._keyframe_asks.add(task)
            task.add_done_callback(self._keyframe_asks.discard)

    def snapshot(self) -> list[Snapshot]:
        """Every participant's safety window as of now (copies: the windows go on)."""
        now = self._loop.time()
        return [w.snapshot(now) for w in self.windows.values()]

    def _tap(self, source: Participant, kind: str, transceiver: RTCRtpTransceiver) -> None:
        """aiortc's receive path (after SRTP, RTX unwrapping, NACK generation, statistics) hands
        every packet of ``transceiver`` to the room instead of the jitter buffer and decoder."""
        sends = transceiver is source.transceivers[kind][0]

        async def fan_out(packet: RtpPacket) -> None:
            self._arrived(source, kind, sends, packet)

        rtc_internals.tap_receiver(transceiver.receiver, fan_out)

    def _fast(self, participant: Participant) -> None:
        """RTP takes the synchronous path (``rtc_internals.fast_rtp``): straight from the socket
        to the forwards, audio and video (whose receive side, ``rtc_internals.receive_video``,
        keeps aiortc's NACKs, RTX unwrapping, statistics and REMB).  A stream's first packets,
        before aiortc's router knows its SSRC, take aiortc's path and the tap (``_tap``)."""
        handlers = participant.fast  # id(receiver) → handler; renegotiation adds to it
        transports: dict[int, Any] = {}
        for kind in ("audio", "video"):
            for t in participant.transceivers.get(kind, []):
                transport = t.receiver.transport
                transports[id(transport)] = transport
                if id(t.receiver) not in handlers:
                    handlers[id(t.receiver)] = (
                        self._audio_handler(participant, t)
                        if kind == "audio"
                        else self._video_handler(participant, t)
                    )
        for key, transport in transports.items():
            if key not in participant.fast_installed:
                participant.fast_installed.add(key)
                self._install_fast(transport, handlers)

    @staticmethod
    def _install_fast(transport: Any, handlers: dict[int, Any]) -> None:
        by_ssrc: dict[int, Any] = {}

        def route(ssrc: int) -> Any:
            handler = by_ssrc.get(ssrc)
            if handler is None:
                receiver = rtc_internals.rtp_receiver_of(transport, ssrc)
                if receiver is None:
                    return None  # not seen yet: aiortc's path learns it from this packet
                handler = handlers.get(id(receiver))
                if handler is None:
                    return None
                by_ssrc[ssrc] = handler
            return handler

        rtc_internals.fast_rtp(transport, route)

    @staticmethod
    def _extension_id(transceiver: RTCRtpTransceiver, uri: str) -> int:
        return next((e.id for e in transceiver._headerExtensions if e.uri == uri), 0)

    def _audio_handler(self, participant: Participant, transceiver: RTCRtpTransceiver) -> Any:
        sends = transceiver is participant.transceivers["audio"][0]
        receiver = transceiver.receiver
        level_id = self._extension_id(transceiver, rtp.AUDIO_LEVEL_URI)

        def on_rtp(plain: bytes) -> None:
            try:
                packet = rtp.parse(plain, level_id)
            except ValueError:
                return
            if rtc_internals.count_received(receiver, packet):
                participant.rx_fast += 1
                self._arrived(participant, "audio", sends, packet)

        return on_rtp

    def _video_handler(self, participant: Participant, transceiver: RTCRtpTransceiver) -> Any:
        sends = transceiver is participant.transceivers["video"][0]
        receiver = transceiver.receiver
        # what never arrived is asked for again every round trip (media.nack)
        rtc_internals.retry_nacks(receiver, transceiver.sender)
        abs_id = self._extension_id(transceiver, rtp.ABS_SEND_TIME_URI)
        receive = rtc_internals.receive_video
        arrival_ms = rtc_internals.arrival_ms
        source = SourceFeedback.of(receiver)
        received = source.received
        transport_cc_id = participant.transport_cc_id or 0
        arrivals = participant.transport_feedback
        if arrivals is not None:
            # the browser estimates its uplink itself (media.twcc): the relay's estimate of it
            # no longer caps what it sends
            source.policy.transport_cc = True
        transport = receiver.transport
        monotonic_ns = time.monotonic_ns

        def on_rtp(plain: bytes) -> None:
            try:
                packet = rtp.parse(plain, 0, abs_id, transport_cc_id)
            except ValueError:
                return
            at_ms = arrival_ms()
            if arrivals is not None:
                seq = packet.extensions.transport_sequence_number
                if seq is not None:
                    now_ns = monotonic_ns()
                    arrivals.record(seq, now_ns // 1000)
                    now = now_ns / 1e9
                    if arrivals.due(now):
                        data = arrivals.build(
                            rtc_internals.rtcp_ssrc(receiver) or 0, packet.ssrc, now
                        )
                        if data is not None:
                            rtc_internals.send_rtcp_now(transport, data)
            forwarded = receive(receiver, packet, at_ms)
            if forwarded is not None:
                participant.rx_fast += 1
                received(len(plain), at_ms / 1000)
                self._arrived(participant, "video", sends, forwarded)

        return on_rtp

    async def _link(self) -> None:
        """Give each participant's free slots to the others (in join order), and make sure every
        slot has its forward."""
        by_order = sorted(self.participants.values(), key=lambda p: p.order)
        for dst in by_order:
            before = dict(dst.slots)
            for kind in self.kinds:
                slots = dst.transceivers[kind]
                for (k, i), held in list(dst.slots.items()):
                    if k == kind and (held not in self.participants or i >= len(slots)):
                        del dst.slots[(k, i)]
                carried = {held for (k, _), held in dst.slots.items() if k == kind}
                free = [i for i in range(len(slots)) if (kind, i) not in dst.slots]
                for src in by_order:
                    if not free:
                        break
                    if src is dst or src.user_id in carried or not src.transceivers[kind]:
                        continue
                    dst.slots[(kind, free.pop(0))] = src.user_id
                for i, target in enumerate(slots):
                    source_id = dst.slots.get((kind, i))
                    self._leg(source_id, kind, target)
            if dst.slots != before:
                await self._on_slots(dst.user_id, dst.slot_map())

    def _leg(self, source_id: str | None, kind: str, target: RTCRtpTransceiver) -> None:
        """Make ``target`` carry ``source_id``'s media of ``kind`` (None: nothing)."""
        current = self._legs.get(id(target))
        source = self.participants.get(source_id) if source_id is not None else None
        source_t = source.transceivers[kind][0] if source is not None else None
        if current is not None and current.source is source_t:
            return
        if current is not None:
            self._retire(current)
        if source is None or source_t is None:
            return
        forward = Forward(source_t, target, after=self._retired.pop(id(target), None))
        self._legs[id(target)] = forward
        self._forwards.setdefault((source.user_id, kind), []).append(forward)

    def _retire(self, forward: Forward) -> None:
        """Stop ``forward``; remember it as the last stream on its target, so whatever that
        slot carries next continues its numbering."""
        forward.stop()
        self._legs.pop(id(forward.target), None)
        for forwards in self._forwards.values():
            if forward in forwards:
                forwards.remove(forward)
        self._retired[id(forward.target)] = forward

    def _leave(self, old: Participant) -> None:
        self.participants.pop(old.user_id, None)
        for kind in self.kinds:
            for forward in list(self._forwards.get((old.user_id, kind), [])):
                self._retire(forward)  # what ``old`` sent to the others
            self._forwards.pop((old.user_id, kind), None)
        for ts in old.transceivers.values():
            for t in ts:
                leg = self._legs.get(id(t))
                if leg is not None:
                    self._retire(leg)  # what the others sent to ``old``
                self._retired.pop(id(t), None)
                self._owner_of.pop(id(t), None)

    async def leave(self, user_id: str) -> None:
        """``user_id`` leaves the room (a group member hanging up): their slots go to nobody,
        the others' slots carrying them are freed."""
        async with self._lock:
            participant = self.participants.get(user_id)
            if participant is None:
                return
            self._leave(participant)
            self.held.discard(user_id)
            self._pending.pop(user_id, [])
            await participant.pc.close()
            await self._link()

    # -- trickle ICE, mute ---------------------------------------------------------------------

    async def candidate(
        self,
        user_id: str,
        candidate: str | None,
        sdp_mid: str | None,
        sdp_mline_index: int | None,
        ufrag: str | None = None,
    ) -> None:
        """A trickled candidate of ``user_id`` (None: end of candidates).  One for an offer the
        room has not seen yet (another ``ufrag``, or no offer so far) waits for it."""
        parsed = _parse_candidate(candidate, sdp_mid, sdp_mline_index)
        async with self._lock:
            participant = self.participants.get(user_id)
            if participant is None or (ufrag is not None and ufrag != participant.ufrag):
                pending = self._pending.setdefault(user_id, [])
                if len(pending) >= MAX_PENDING_CANDIDATES:
                    raise BadOffer("too many candidates before the offer")
                pending.append(parsed)
                return
            await _add_candidate(participant.pc, parsed)

    async def _flush_candidates(self, user_id: str) -> None:
        participant = self.participants[user_id]
        for parsed in self._pending.pop(user_id, []):
            with contextlib.suppress(Exception):  # one stale candidate must not fail the offer
                await _add_candidate(participant.pc, parsed)

    def mute(self, user_id: str, audio: bool, video: bool) -> bool:
        """Record what ``user_id`` says they muted; whether they are in the room."""
        participant = self.participants.get(user_id)
        if participant is None:
            return False
        participant.muted = {"audio": audio, "video": video}
        return True

    # -- state ---------------------------------------------------------------------------------

    async def set_paused(self, paused: bool) -> None:
        """Hold everything back (no money for the next minute), or forward again: then every
        subscriber's video decoder needs a fresh keyframe, since it missed the frames between."""
        resumed = self.paused and not paused
        self.paused = paused
        if resumed:
            for (_, kind), forwards in list(self._forwards.items()):
                for forward in forwards:
                    forward.resync()  # no gap in what the subscriber receives
                    if kind == "video":
                        await forward.request_keyframe()

    async def set_held(self, user_id: str, held: bool) -> None:
        """Group rooms: hold back everything to and from ``user_id`` (no money for their next
        minute) while the others go on, or forward again: each stream then continues without a
        gap, video from a keyframe."""
        if held:
            self.held.add(user_id)
            return
        if user_id not in self.held:
            return
        self.held.discard(user_id)
        for (source_id, kind), forwards in list(self._forwards.items()):
            for forward in forwards:
                if source_id == user_id or self._owner_of.get(id(forward.target)) == user_id:
                    forward.resync()
                    if kind == "video":
                        await forward.request_keyframe()

    def flowing(self, now: float, silence_s: float) -> bool:
        """Every participant (at least two) is alive within ``silence_s``."""
        return len(self.participants) >= 2 and all(
            p.alive(now, silence_s) for p in self.participants.values()
        )

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            for p in self.participants.values():
                if p.transport_feedback is not None:
                    source = SourceFeedback.of(p.transceivers["video"][0].receiver)
                    log.info(
                        "media_bandwidth_feedback",
                        user_id=p.user_id,
                        transport_feedback_sent=p.transport_feedback.sent,
                        transport_lost_reported=p.transport_feedback.lost_reported,
                        transport_received_reported=p.transport_feedback.received,
                        remb_sent=source.remb_sent,
                        last_remb=source.policy.last_sent,
                    )
                with contextlib.suppress(Exception):
                    await p.pc.close()
            self.participants.clear()
            self._forwards.clear()
            self._legs.clear()
            self._retired.clear()
            self._pending.clear()
            self._owner_of.clear()
            self.held.clear()
            for task in self._keyframe_asks:
                task.cancel()


def _parse_candidate(
    candidate: str | None, sdp_mid: str | None, sdp_mline_index: int | None
) -> RTCIceCandidate | None:
    if candidate is None or not candidate.strip():
        return None  # end of candidates
    text = candidate.strip()
    if text.startswith("candidate:"):
        text = text[len("candidate:") :]
    try:
        parsed = aiortc_sdp.candidate_from_sdp(text)
    except (AssertionError, ValueError, IndexError):
        raise BadOffer("not an ICE candidate") from None
    if sdp_mid is None and sdp_mline_index is None:
        sdp_mline_index = 0
    parsed.sdpMid = sdp_mid
    parsed.sdpMLineIndex = sdp_mline_index
    return parsed


async def _add_candidate(pc: RTCPeerConnection, parsed: RTCIceCandidate | None) -> None:
    try:
        await pc.addIceCandidate(parsed)
    except ValueError as exc:
        # aioice refuses a candidate after end-of-candidates, or one it cannot use.
        raise BadOffer(f"candidate refused: {str(exc)[:120]}") from None
