"""Opus packets, as received, in an Ogg container (RFC 3533, RFC 7845): no decoding, no
re-encoding.

Pages: the identification header (``OpusHead``) alone on the first page, the comment header
(``OpusTags``) on the second, then the audio, one page per ``PACKETS_PER_PAGE`` packets (at
most 255 segments a page: RFC 3533 §6).  A page's granule position is the number of 48 kHz
samples decoded up to its last packet (RFC 7845 §4), counted from the packets' own TOC bytes.
Where RTP timestamps show a gap (packets lost, or the sender paused), the gap is filled with
empty Opus frames — a TOC byte alone, which a decoder conceals (RFC 6716 §3.2.1 and §4.4) —
so the file's timeline matches the call's.  A packet whose TOC cannot be read is skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

#: RTP clock rate of Opus (RFC 7587 §4.1) and the granule rate of Ogg Opus
RATE_HZ = 48_000
PACKETS_PER_PAGE = 50  # 1 s of 20 ms packets (fewer when large: 255 segments a page)
#: a gap longer than this is not filled (a stream restarted: timestamps jumped)
MAX_GAP_SAMPLES = 10 * RATE_HZ
_SERIAL = 0x5045494C  # "PEIL"
_VENDOR = b"peiliao relay"


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def crc32(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, no reflection, initial value 0: RFC 3533 §6)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ b]
    return crc


def samples(packet: bytes) -> int:
    """Samples at 48 kHz an Opus packet decodes to (RFC 6716 §3.1); 0 if it is not one."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        frame = (480, 960, 1920, 2880)[config & 3]
    elif config < 16:  # hybrid: 10, 20 ms
        frame = (480, 960)[config & 1]
    else:  # CELT: 2.5, 5, 10, 20 ms
        frame = (120, 240, 480, 960)[config & 3]
    code = toc & 3
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        if len(packet) < 2:
            return 0
        count = packet[1] & 0x3F
    total = frame * count
    return total if 0 < total <= 5760 else 0  # at most 120 ms (RFC 6716 §3.2.5)


def _page(
    segments_of: list[bytes], granule: int, seq: int, header_type: int, continued: bool = False
) -> bytes:
    lacing = bytearray()
    for packet in segments_of:
        n = len(packet)
        lacing += b"\xff" * (n // 255) + bytes([n % 255])
    if len(lacing) > 255:
        raise ValueError("too many segments for one page")
    header = struct.pack(
        "<4sBBqIIIB",
        b"OggS",
        0,
        header_type | (1 if continued else 0),
        granule,
        _SERIAL,
        seq,
        0,
        len(lacing),
    )
    page = bytearray(header + bytes(lacing) + b"".join(segments_of))
    struct.pack_into("<I", page, 22, crc32(bytes(page)))
    return bytes(page)


def opus_head(channels: int = 2, pre_skip: int = 0) -> bytes:
    """RFC 7845 §5.1: version 1, channel mapping family 0 (mono or stereo)."""
    return struct.pack("<8sBBHIhB", b"OpusHead", 1, channels, pre_skip, RATE_HZ, 0, 0)


def opus_tags(comments: Iterable[str] = ()) -> bytes:
    """RFC 7845 §5.2."""
    items = [c.encode() for c in comments]
    out = struct.pack("<8sI", b"OpusTags", len(_VENDOR)) + _VENDOR + struct.pack("<I", len(items))
    for item in items:
        out += struct.pack("<I", len(item)) + item
    return out


def write(
    packets: Iterable[tuple[int, bytes]], *, comments: Iterable[str] = (), channels: int = 2
) -> tuple[bytes, int, int]:
    """An Ogg Opus file of ``packets`` ((RTP timestamp, Opus packet), in arrival order):
    (the file, packets written as received, duration in samples at 48 kHz).  Opus in WebRTC is
    signalled as stereo (RFC 7587 §7), so the header says 2 channels by default; a mono
    packet decodes the same either way."""
    pages = [
        _page([opus_head(channels)], 0, 0, 0x02),
        _page([opus_tags(comments)], 0, 1, 0),
    ]
    body: list[bytes] = []
    lacing = 0  # segments on the page being filled
    granule = 0
    written = 0
    expected_ts: int | None = None
    seq = 2

    def push(packet: bytes, n: int) -> None:
        nonlocal lacing, granule, seq, body
        size = len(packet) // 255 + 1
        if body and (len(body) >= PACKETS_PER_PAGE or lacing + size > 255):
            pages.append(_page(body, granule, seq, 0))
            seq, body, lacing = seq + 1, [], 0
        body.append(packet)
        lacing += size
        granule += n

    for ts, packet in packets:
        n = samples(packet)
        if n == 0 or len(packet) > 254 * 255:
            continue
        if expected_ts is not None:
            gap = (ts - expected_ts) & 0xFFFFFFFF
            if gap >= 0x80000000:
                continue  # older than what was written (a late duplicate): skip it
            if gap <= MAX_GAP_SAMPLES:
                filler = bytes([packet[0] & 0xFC])  # code 0: one frame, of length 0 (PLC)
                step = samples(filler)
                while gap >= step:
                    push(filler, step)
                    gap -= step
        push(packet, n)
        written += 1
        expected_ts = (ts + n) & 0xFFFFFFFF
    pages.append(_page(body, granule, seq, 0x04))  # end of stream (possibly empty)
    return b"".join(pages), written, granule
