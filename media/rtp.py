"""RTP headers read and written with ``struct`` directly (RFC 3550, one-byte header extensions
of RFC 8285): what the relay needs per packet, without aiortc's general objects.  On the
synchronous path (audio and video) a packet costs one ``unpack_from`` in and one ``pack`` out.
"""

from __future__ import annotations

import struct

from aiortc.rtp import RtpPacket

HEADER = struct.Struct("!BBHLL")
EXTENSION = struct.Struct("!HH")
ONE_BYTE_PROFILE = 0xBEDE

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


class Levels:
    """``packet.extensions`` of a ``Light`` packet: what the relay forwards (the audio level)
    and what the receive side's bandwidth estimator reads (abs-send-time)."""

    __slots__ = ("abs_send_time", "audio_level", "transport_sequence_number")

    def __init__(
        self, audio_level: tuple[bool, int] | None, abs_send_time: int | None = None
    ) -> None:
        self.audio_level = audio_level
        self.abs_send_time = abs_send_time
        #: transport-wide sequence number (``media.twcc``), when its id was given to ``parse``
        self.transport_sequence_number: int | None = None


class Light:
    """The fields of an RTP packet the relay reads (aiortc's ``RtpPacket`` has the same names)."""

    __slots__ = (
        "extensions",
        "marker",
        "padding_size",
        "payload",
        "payload_type",
        "sequence_number",
        "ssrc",
        "timestamp",
    )

    def __init__(
        self,
        payload_type: int,
        marker: int,
        sequence_number: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
        audio_level: tuple[bool, int] | None,
        abs_send_time: int | None = None,
        padding_size: int = 0,
    ) -> None:
        self.payload_type = payload_type
        self.marker = marker
        self.sequence_number = sequence_number
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
        self.extensions = Levels(audio_level, abs_send_time)
        self.padding_size = padding_size


#: a packet as the relay handles it: aiortc's (the first packets of a stream, which take
#: aiortc's path until its router knows the SSRC) or ``Light`` (the synchronous path)
AnyRtp = RtpPacket | Light


def parse(
    data: bytes, audio_level_id: int = 0, abs_send_time_id: int = 0, transport_cc_id: int = 0
) -> Light:
    """Read a decrypted RTP packet; ``ValueError`` if it is not one.  The audio level, the
    abs-send-time and the transport-wide sequence number are read when their extension ids are
    given."""
    if len(data) < 12:
        raise ValueError("RTP packet too short")
    first, second, seq, ts, ssrc = HEADER.unpack_from(data)
    if first >> 6 != 2:
        raise ValueError("not RTP version 2")
    pos = 12 + 4 * (first & 0x0F)
    level: tuple[bool, int] | None = None
    abs_send_time: int | None = None
    transport_seq: int | None = None
    if first & 0x10:
        if len(data) < pos + 4:
            raise ValueError("RTP extension header truncated")
        profile, words = EXTENSION.unpack_from(data, pos)
        pos += 4
        end = pos + 4 * words
        if end > len(data):
            raise ValueError("RTP extension truncated")
        if profile == ONE_BYTE_PROFILE and (audio_level_id or abs_send_time_id or transport_cc_id):
            i = pos
            while i < end:
                x = data[i]
                if x == 0:
                    i += 1  # padding
                    continue
                xid = x >> 4
                if xid == 15:
                    break
                if xid == audio_level_id != 0 and i + 1 < end:
                    v = data[i + 1]
                    level = (v & 0x80 == 0x80, v & 0x7F)
                elif xid == abs_send_time_id != 0 and i + 3 < end and x & 0x0F == 2:
                    abs_send_time = int.from_bytes(data[i + 1 : i + 4], "big")
                elif xid == transport_cc_id != 0 and i + 2 < end and x & 0x0F == 1:
                    transport_seq = (data[i + 1] << 8) | data[i + 2]
                i += 2 + (x & 0x0F)
        pos = end
    stop = len(data)
    padding = 0
    if first & 0x20:
        padding = data[-1]
        stop -= padding
        if stop < pos:
            raise ValueError("RTP padding longer than the packet")
    packet = Light(
        second & 0x7F, second >> 7, seq, ts, ssrc, data[pos:stop], level, abs_send_time, padding
    )
    if transport_seq is not None:
        packet.extensions.transport_sequence_number = transport_seq
    return packet


class Writer:
    """Serializes packets for one outgoing leg: its header extension ids (as negotiated with
    that peer) and its mid, fixed per leg."""

    def __init__(self, extensions: list[object], mid: str | None) -> None:
        ids = {getattr(e, "uri", None): int(getattr(e, "id", 0)) for e in extensions}
        mid_id = ids.get(MID_URI, 0)
        encoded = (mid or "").encode()
        self._mid = (
            bytes([(mid_id << 4) | (len(encoded) - 1)]) + encoded if mid_id and encoded else b""
        )
        self._level_id = ids.get(AUDIO_LEVEL_URI, 0)
        self._abs_id = ids.get(ABS_SEND_TIME_URI, 0)

    def write(
        self,
        payload_type: int,
        marker: int,
        sequence_number: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
        audio_level: tuple[bool, int] | None,
        abs_send_time: int,
    ) -> bytes:
        ext = self._mid
        if audio_level is not None and self._level_id:
            vad, level = audio_level
            ext += bytes((self._level_id << 4, (0x80 if vad else 0) | (level & 0x7F)))
        if self._abs_id:
            ext += bytes((self._abs_id << 4 | 2,)) + (abs_send_time & 0xFFFFFF).to_bytes(3, "big")
        second = (marker << 7) | payload_type
        if not ext:
            return HEADER.pack(0x80, second, sequence_number, timestamp, ssrc) + payload
        ext += b"\x00" * (-len(ext) % 4)
        return (
            HEADER.pack(0x90, second, sequence_number, timestamp, ssrc)
            + EXTENSION.pack(ONE_BYTE_PROFILE, len(ext) // 4)
            + ext
            + payload
        )
