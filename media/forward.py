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
NACKs with RTX by itself.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiortc import RTCRtpParameters, RTCRtpTransceiver
from aiortc.clock import current_ntp_time
from aiortc.codecs import is_rtx
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

from media import rtc_internals

CodecKey = tuple[str, int, str | None, str | None]


def codec_key(codec: Any) -> CodecKey:
    params = codec.parameters or {}
    mode = params.get("packetization-mode")
    return (
        codec.mimeType.lower(),
        int(codec.clockRate),
        params.get("profile-level-id"),
        str(mode) if mode is not None else None,
    )


class Forward:
    """Forwards what arrives on ``source`` (a receiving transceiver) out of ``target`` (a
    sending transceiver on another peer connection)."""

    def __init__(self, source: RTCRtpTransceiver, target: RTCRtpTransceiver) -> None:
        self._target = target
        self._in_codec = {c.payloadType: c for c in source._codecs if not is_rtx(c)}
        self._out_pt = {codec_key(c): c.payloadType for c in target._codecs if not is_rtx(c)}
        self._ext = HeaderExtensionsMap()
        self._ext.configure(RTCRtpParameters(headerExtensions=target._headerExtensions))
        self._seq_offset = secrets.randbits(16)
        self._ts_offset = secrets.randbits(32)
        self.forwarded = 0
        self.dropped = 0

    async def packet(self, p: RtpPacket) -> None:
        sender = self._target.sender
        codec = self._in_codec.get(p.payload_type)
        pt = self._out_pt.get(codec_key(codec)) if codec is not None else None
        if pt is None or not sender._enabled:
            self.dropped += 1  # a codec this leg did not negotiate, or a paused leg
            return
        out = RtpPacket(
            payload_type=pt,
            marker=p.marker,
            sequence_number=(p.sequence_number + self._seq_offset) & 0xFFFF,
            timestamp=(p.timestamp + self._ts_offset) & 0xFFFFFFFF,
            ssrc=sender._ssrc,
            payload=p.payload,
        )
        ntp = current_ntp_time()
        out.extensions = HeaderExtensions(
            mid=self._target.mid,
            audio_level=p.extensions.audio_level,
            abs_send_time=(ntp >> 14) & 0xFFFFFF,
        )
        rtc_internals.remember_sent(sender, out, ntp)
        try:
            await rtc_internals.send_rtp(sender, out.serialize(self._ext))
        except ConnectionError:
            self.dropped += 1  # the subscriber's transport is closing
            return
        self.forwarded += 1
