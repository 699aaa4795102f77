"""Packet-level forwarding: one source's RTP, re-stamped for one subscriber's sender.

Nothing is decoded.  Each packet keeps its payload and marker; what changes per outgoing leg:
- the SSRC becomes the leg sender's own (the one in the SDP we gave that peer: its receiver
  reports, NACKs and PLIs are routed by it);
- the payload type is mapped by codec identity (each peer connection numbers codecs its own way);
- sequence numbers and timestamps move by a fixed random offset per (source, leg), so a packet the
  source retransmits late lands on the same outgoing number and fills the subscriber's gap;
- header extensions are written with the leg's own ids: mid, a fresh abs-send-time (the
  subscriber's bandwidth estimate), the source's audio level.
Sent packets go into the leg sender's retransmission history, so aiortc answers the subscriber's
NACKs with RTX by itself.  The subscriber's keyframe requests (PLI, FIR) go back to the source,
throttled per source (``media.feedback``: one keyframe serves every subscriber); a keyframe is also
requested when the subscriber starts receiving.  The subscriber's bandwidth estimate (REMB) is
recorded for its source, whose publisher is told the lowest of them (``media.feedback``).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpParameters, RTCRtpTransceiver
from aiortc.codecs import is_rtx
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    HeaderExtensions,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtpPacket,
)

from media import rtc_internals
from media.feedback import SourceFeedback
from media.rtp import AnyRtp, Writer

CodecKey = tuple[str, int, str | None, str | None]
#: seconds from the NTP epoch (1900) to the Unix epoch, and the 32.32 fixed-point scale
NTP_EPOCH_OFFSET_S = 2_208_988_800
NTP_FRACTION = 1 << 32


def is_keyframe_start(payload: bytes) -> bool:
    """Whether a VP8 RTP payload begins a keyframe (RFC 7741: the first packet of partition
    0, and the VP8 frame header's P bit clear)."""
    try:
        descriptor, data = VpxPayloadDescriptor.parse(payload)
    except ValueError:
        return False
    return (
        bool(descriptor.partition_start)
        and descriptor.partition_id == 0
        and len(data) > 0
        and data[0] & 0x01 == 0
    )


def codec_key(codec: Any) -> CodecKey:
    params = codec.parameters or {}
    mode = params.get("packetization-mode")
    return (
        codec.mimeType.lower(),
        int(codec.clockRate),
        params.get("profile-level-id"),
        str(mode) if mode is not None else None,
    )


#: how long a subscriber's NACK for a packet still being recovered upstream may wait before
#: a keyframe is asked for instead (``media.nack`` gives up after 1 s), and how often to look
RECOVERY_WAIT_S = 1.0
RECOVERY_POLL_S = 0.05


class Forward:
    """Forwards what arrives on ``source`` (a receiving transceiver) out of ``target`` (a
    sending transceiver on another peer connection)."""

    def __init__(
        self,
        source: RTCRtpTransceiver,
        target: RTCRtpTransceiver,
        *,
        keyframe_interval_s: float = 0.5,
        now: Callable[[], float] = time.monotonic,
        after: Forward | None = None,
    ) -> None:
        self._source = source
        self._target = target
        self._keyframe_interval_s = keyframe_interval_s
        self._now = now
        self._last_keyframe_request = -math.inf
        self._source_ssrc: int | None = None
        self.keyframe_requests = 0
        self._in_codec = {c.payloadType: c for c in source._codecs if not is_rtx(c)}
        out_pt = {codec_key(c): c.payloadType for c in target._codecs if not is_rtx(c)}
        #: incoming payload type → this leg's (each peer connection numbers codecs its own way)
        self._pt = {
            pt: out_pt[codec_key(c)] for pt, c in self._in_codec.items() if codec_key(c) in out_pt
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer = Writer(list(target._headerExtensions), target.mid)
        self._ext = HeaderExtensionsMap()
        self._ext.configure(RTCRtpParameters(headerExtensions=target._headerExtensions))
        self._seq_offset = secrets.randbits(16)
        self._ts_offset = secrets.randbits(32)
        #: the forward this one replaces on the same target (a slot given to a new source):
        #: continue its sequence numbers and timestamps, so the subscriber sees one stream
        self._after = after
        self.last_out: tuple[int, int, float] | None = None  # (seq, timestamp, when)
        self._video = source.kind == "video"
        #: the next forwarded packet continues ``last_out`` (we held some back on purpose)
        self._resync = False
        #: video goes out from a keyframe: at the start, and after packets held back
        self._await_keyframe = self._video
        #: waiting for packets the subscriber NACKed that the relay is still recovering
        self._recovery: asyncio.Task[None] | None = None
        self.forwarded = 0
        self.dropped = 0
        self.pass_filter: Callable[[AnyRtp], bool] | None = None  # tests: simulated loss
        #: the source's feedback (its subscribers' REMB, its keyframe throttle); video only
        self._feedback: SourceFeedback | None = None
        #: the subscriber's latest bandwidth estimate for this stream (bit/s, when)
        self.subscriber_remb: tuple[int, float] | None = None
        if source.kind == "video":
            self._feedback = SourceFeedback.of(source.receiver, now=now)
            # The subscriber's keyframe requests and REMB go to the source (aiortc drops them
            # on a sender that has no encoder).
            rtc_internals.intercept_sender_rtcp(target.sender, self._subscriber_rtcp)

    @property
    def target(self) -> RTCRtpTransceiver:
        return self._target

    @property
    def source(self) -> RTCRtpTransceiver:
        return self._source

    def resync(self) -> None:
        """Packets were held back on purpose (no money, a paused leg): continue the outgoing
        numbering where it stopped, so the subscriber sees no loss, and video from a keyframe."""
        self._resync = True
        if self._video:
            self._await_keyframe = True

    def _continue(self, p: AnyRtp, codec: Any) -> None:
        """Move the offsets so ``p`` goes out right after the last packet sent on this target
        (by this forward, or by the one it replaces)."""
        previous = self.last_out or (self._after.last_out if self._after is not None else None)
        self._after = None
        self._resync = False
        if previous is None:
            return
        seq, ts, when = previous
        elapsed = max(self._now() - when, 0.001)
        self._seq_offset = (seq + 1 - p.sequence_number) & 0xFFFF
        ticks = int(elapsed * codec.clockRate) if codec is not None else 0
        self._ts_offset = (ts + ticks - p.timestamp) & 0xFFFFFFFF

    def stop(self) -> None:
        """This forward no longer carries its source: its subscriber's estimate stops counting."""
        if self._recovery is not None:
            self._recovery.cancel()
        if self._feedback is not None:
            self._feedback.forget(self)

    async def _subscriber_rtcp(self, packet: Any) -> None:
        remb = rtc_internals.remb_of(packet)
        if remb is not None:
            bitrate, ssrcs = remb
            if self._feedback is not None and self._target.sender._ssrc in ssrcs:
                # One estimate for everything the subscriber receives with abs-send-time (its
                # video streams): this stream's share.
                share = bitrate // max(len(ssrcs), 1)
                self.subscriber_remb = (share, self._now())
                await self._feedback.subscriber(self, share, self._source_ssrc)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            await self.request_keyframe()
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            sender = self._target.sender
            never = [seq for seq in packet.lost if not rtc_internals.was_sent(sender, seq)]
            if not never:
                return
            if self._recovering(never):
                # Lost upstream too, and the relay is still asking the publisher for it: the
                # retransmission is forwarded when it comes (on the same outgoing number), and
                # the subscriber asks again meanwhile.  A keyframe only if it does not come.
                self._await_recovery(never)
            else:
                # A NACK for a packet this leg never sent and never will (lost upstream for
                # good): no RTX can repair it, so the subscriber needs a keyframe (as SFUs do;
                # aiortc's own receiver would otherwise wait for its jitter buffer to overflow).
                await self.request_keyframe()

    def _recovering(self, sequence_numbers: list[int]) -> bool:
        """Whether the relay's receiver is still asking the source for every one of these
        outgoing numbers (``media.nack``; the offset maps them back to the source's)."""
        receiver, offset = self._source.receiver, self._seq_offset
        return all(
            rtc_internals.recovering(receiver, (seq - offset) & 0xFFFF) for seq in sequence_numbers
        )

    def _await_recovery(self, sequence_numbers: list[int]) -> None:
        """Ask for a keyframe if any of these outgoing numbers is still unsent once the
        relay's receiver has given up on it (``media.nack``); one such wait at a time."""
        if self._recovery is not None:
            return

        async def wait() -> None:
            try:
                deadline = self._now() + RECOVERY_WAIT_S
                sender = self._target.sender
                while self._now() < deadline:
                    await asyncio.sleep(RECOVERY_POLL_S)
                    pending = [s for s in sequence_numbers if not rtc_internals.was_sent(sender, s)]
                    if not pending:
                        return
                    if not self._recovering(pending):
                        break
                await self.request_keyframe()
            finally:
                self._recovery = None

        task = asyncio.ensure_future(wait())
        self._recovery = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _may_ask(self, now: float) -> bool:
        """Whether the source may be asked for a keyframe now: the source's throttle (every
        forward of it shares ``media.feedback``'s), or this forward's own without one."""
        if self._feedback is not None:
            return self._feedback.keyframe_may_be_asked(now, self._keyframe_interval_s)
        return now - self._last_keyframe_request >= self._keyframe_interval_s

    def _ask_keyframe(self) -> None:
        """``request_keyframe`` from the synchronous packet path (throttled there too)."""
        if self._source_ssrc is None or not self._may_ask(self._now()):
            return
        task = asyncio.ensure_future(self.request_keyframe())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def request_keyframe(self) -> None:
        """Ask the source for a keyframe (at most one request per ``keyframe_interval_s`` per
        source, whichever forward asks: several subscribers may ask at once, one keyframe
        serves them all, and aiortc does not throttle)."""
        now = self._now()
        if self._source_ssrc is None:
            return
        if self._feedback is not None:
            if not self._feedback.keyframe_due(now, self._keyframe_interval_s):  # and noted
                return
        elif not self._may_ask(now):
            return
        self._last_keyframe_request = now
        self.keyframe_requests += 1
        await rtc_internals.request_keyframe(self._source.receiver, self._source_ssrc)

    def packet(self, p: AnyRtp) -> None:
        """Forward one packet now (synchronously: this runs for every packet of every leg)."""
        if self._await_keyframe and not rtc_internals.can_send(self._target.sender):
            # The subscriber's transport is not up yet (it is still connecting): a keyframe
            # asked for now would be lost, and the throttle would hold back the request that
            # matters, the one made once it is up.
            self._source_ssrc = p.ssrc
            self.dropped += 1
            return
        if self._source_ssrc is None:
            self._source_ssrc = p.ssrc
            if self._video:
                self._ask_keyframe()  # the subscriber starts receiving: decode at once
        if self.pass_filter is not None and not self.pass_filter(p):
            self.dropped += 1  # tests: lost upstream (a real gap the subscriber NACKs)
            return
        sender = self._target.sender
        pt = self._pt.get(p.payload_type)
        if pt is None or not sender._enabled:
            self.dropped += 1  # a codec this leg did not negotiate, or a paused leg
            self.resync()
            return
        keyframe: bool | None = None  # parsed only where it matters, once
        feedback = self._feedback
        if feedback is not None and feedback.last_keyframe < feedback.last_keyframe_request:
            keyframe = is_keyframe_start(p.payload)
            if keyframe:
                feedback.keyframe_arrived(self._now())  # the open request is answered
        if self._await_keyframe:
            if keyframe is None:
                keyframe = is_keyframe_start(p.payload)
            if not keyframe:
                self.dropped += 1
                self._ask_keyframe()
                return
            self._await_keyframe = False
        if self._resync or self._after is not None:
            self._continue(p, self._in_codec.get(p.payload_type))
        seq = (p.sequence_number + self._seq_offset) & 0xFFFF
        ts = (p.timestamp + self._ts_offset) & 0xFFFFFFFF
        now = time.time()
        ntp = int((now + NTP_EPOCH_OFFSET_S) * NTP_FRACTION)
        level = p.extensions.audio_level
        data = self._writer.write(
            pt, p.marker, seq, ts, sender._ssrc, p.payload, level, (ntp >> 14) & 0xFFFFFF
        )
        history = None
        if self._video:
            # Kept for retransmission (NACK → RTX from aiortc's history); Opus has no NACK.
            history = RtpPacket(
                payload_type=pt,
                marker=p.marker,
                sequence_number=seq,
                timestamp=ts,
                ssrc=sender._ssrc,
                payload=p.payload,
            )
            history.extensions = HeaderExtensions(mid=self._target.mid, audio_level=level)
        rtc_internals.remember_sent(sender, ntp, ts, len(p.payload), history)
        if not rtc_internals.send_rtp_now(sender, data):
            self.dropped += 1  # the subscriber's transport is not (or no longer) connected
            self.resync()
            return
        self.forwarded += 1
        self.last_out = (seq, ts, self._now())
