"""The relay's own RTP reader and writer agree with aiortc's, field by field."""

from __future__ import annotations

import pytest
from aiortc import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket
from hypothesis import given
from hypothesis import strategies as st

from media import rtp

EXTENSIONS = [
    RTCRtpHeaderExtensionParameters(id=1, uri=rtp.MID_URI),
    RTCRtpHeaderExtensionParameters(id=10, uri=rtp.AUDIO_LEVEL_URI),
    RTCRtpHeaderExtensionParameters(id=3, uri=rtp.ABS_SEND_TIME_URI),
]


def aiortc_map() -> HeaderExtensionsMap:
    m = HeaderExtensionsMap()
    m.configure(RTCRtpParameters(headerExtensions=EXTENSIONS))
    return m


@given(
    pt=st.integers(0, 127),
    marker=st.integers(0, 1),
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=300),
    level=st.none() | st.tuples(st.booleans(), st.integers(0, 127)),
    abs_time=st.integers(0, 0xFFFFFF),
    mid=st.sampled_from(["0", "1", "audio-7"]),
)
def test_written_packets_read_back_the_same_by_aiortc_and_by_us(
    pt: int,
    marker: int,
    seq: int,
    ts: int,
    ssrc: int,
    payload: bytes,
    level: tuple[bool, int] | None,
    abs_time: int,
    mid: str,
) -> None:
    data = rtp.Writer(EXTENSIONS, mid).write(pt, marker, seq, ts, ssrc, payload, level, abs_time)
    theirs = RtpPacket.parse(data, aiortc_map())
    assert (theirs.payload_type, theirs.marker, theirs.sequence_number) == (pt, marker, seq)
    assert (theirs.timestamp, theirs.ssrc, theirs.payload) == (ts, ssrc, payload)
    assert theirs.extensions.mid == mid
    assert theirs.extensions.audio_level == level
    assert theirs.extensions.abs_send_time == abs_time
    ours = rtp.parse(data, audio_level_id=10)
    assert (ours.payload_type, ours.marker, ours.sequence_number) == (pt, marker, seq)
    assert (ours.timestamp, ours.ssrc, ours.payload) == (ts, ssrc, payload)
    assert ours.extensions.audio_level == level


def test_packets_aiortc_writes_with_csrcs_and_padding_read_right() -> None:
    p = RtpPacket(payload_type=111, marker=1, sequence_number=7, timestamp=9, ssrc=5)
    p.csrc = [1, 2]
    p.payload = b"opus!"
    p.padding_size = 4
    p.extensions = HeaderExtensions(mid="0", audio_level=(True, 42))
    ours = rtp.parse(p.serialize(aiortc_map()), audio_level_id=10)
    assert (ours.payload, ours.extensions.audio_level, ours.marker) == (b"opus!", (True, 42), 1)
    writer = rtp.Writer([], None)  # a leg that negotiated no extensions: a bare header
    bare = writer.write(111, 0, 1, 2, 3, b"x", (False, 1), 0)
    assert len(bare) == 13 and RtpPacket.parse(bare).payload == b"x"


@pytest.mark.parametrize("junk", [b"", b"\x80" * 5, b"\x00" * 20, b"\x90\x6f" + b"\x00" * 10])
def test_what_is_not_rtp_is_refused(junk: bytes) -> None:
    with pytest.raises(ValueError):
        rtp.parse(junk, 10)
