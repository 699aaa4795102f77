"""Transport-wide congestion control feedback (``media.twcc``): the packets it writes, read back
by a decoder written from the draft (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1),
and the answer's negotiation of it."""

from __future__ import annotations

import struct

import pytest

from media import rtp
from media.twcc import TRANSPORT_CC_URI, TransportFeedback, offered_id, with_transport_cc


def decode(packet: bytes) -> dict[str, object]:
    """A transport feedback packet → its fields and, per sequence number, the arrival time in
    µs (None: reported not received), rebuilt from the reference time and the deltas."""
    first, pt, length = struct.unpack_from("!BBH", packet)
    assert first >> 6 == 2 and first & 0x1F == 15 and pt == 205
    assert len(packet) == 4 * (length + 1) and len(packet) % 4 == 0
    end = len(packet) - (packet[-1] if first & 0x20 else 0)
    sender, media, base, count, ref_and_count = struct.unpack_from("!LLHHL", packet, 4)
    reference, fb_count = ref_and_count >> 8, ref_and_count & 0xFF
    pos = 20
    symbols: list[int] = []
    while len(symbols) < count:
        (chunk,) = struct.unpack_from("!H", packet, pos)
        pos += 2
        if chunk & 0x8000 == 0:  # run length
            symbols += [(chunk >> 13) & 0x3] * (chunk & 0x1FFF)
        elif chunk & 0x4000:  # two-bit status vector, 7 symbols
            symbols += [(chunk >> (12 - 2 * k)) & 0x3 for k in range(7)]
        else:  # one-bit status vector, 14 symbols
            symbols += [(chunk >> (13 - k)) & 0x1 for k in range(14)]
    symbols = symbols[:count]
    at = reference * 64_000
    arrivals: dict[int, int | None] = {}
    for i, symbol in enumerate(symbols):
        seq = (base + i) & 0xFFFF
        if symbol == 0:
            arrivals[seq] = None
            continue
        if symbol == 1:
            delta = packet[pos]
            pos += 1
        else:
            assert symbol == 2
            (delta,) = struct.unpack_from("!h", packet, pos)
            pos += 2
        at += delta * 250
        arrivals[seq] = at
    assert pos <= end
    return {"sender": sender, "media": media, "base": base, "count": fb_count, "at": arrivals}


def test_every_number_from_the_first_unreported_to_the_highest_is_reported() -> None:
    fb = TransportFeedback()
    assert fb.build(1, 2, 0.0) is None  # nothing arrived: nothing to say
    t0 = 1_000_000_123
    for seq, offset in ((10, 0), (11, 1_000), (13, 2_250), (14, 90_000)):  # 12 lost
        fb.record(seq, t0 + offset)
    assert fb.due(0.0)
    packet = fb.build(0xAABBCCDD, 0x11223344, 0.0)
    assert packet is not None
    got = decode(packet)
    assert got["sender"] == 0xAABBCCDD and got["media"] == 0x11223344
    assert got["base"] == 10 and got["count"] == 0
    at = got["at"]
    assert isinstance(at, dict) and sorted(at) == [10, 11, 12, 13, 14]
    assert at[12] is None
    for seq, offset in ((10, 0), (11, 1_000), (13, 2_250), (14, 90_000)):
        value = at[seq]
        assert value is not None and abs(value - (t0 + offset)) <= 125, seq  # 250 µs units
    assert not fb.due(0.05)  # at most every 100 ms
    assert fb.build(1, 2, 0.2) is None  # nothing new since


def test_the_next_feedback_starts_after_the_last_and_counts_up() -> None:
    fb = TransportFeedback()
    for seq in range(100, 110):
        fb.record(seq, 5_000_000 + seq * 700)
    first = decode(fb.build(1, 2, 0.0) or b"")
    for seq in range(110, 130):
        fb.record(seq, 5_000_000 + seq * 700)
    second = decode(fb.build(1, 2, 0.1) or b"")
    assert sorted(first["at"]) == list(range(100, 110))  # type: ignore[call-overload]
    assert sorted(second["at"]) == list(range(110, 130))  # type: ignore[call-overload]
    assert (first["count"], second["count"]) == (0, 1)


def test_a_late_packet_is_reported_again_as_received() -> None:
    """A number reported missing that then arrives (reordered) moves the window back."""
    fb = TransportFeedback()
    for seq in (1, 2, 4):
        fb.record(seq, 1_000_000 + seq * 1_000)
    assert decode(fb.build(1, 2, 0.0) or b"")["at"][3] is None  # type: ignore[index]
    fb.record(3, 1_000_000 + 9_000)
    fb.record(5, 1_000_000 + 10_000)
    again = decode(fb.build(1, 2, 0.1) or b"")["at"]
    assert isinstance(again, dict) and sorted(again) == [3, 4, 5]
    assert again[3] is not None


def test_sequence_numbers_wrap_and_long_runs_and_large_gaps_encode() -> None:
    fb = TransportFeedback()
    t = 7_777_000_000
    seqs = [*range(65_530, 65_536), *range(0, 40)]
    times = {}
    for i, seq in enumerate(seqs):
        if seq in (3, 4, 5, 6, 7, 8, 9, 10, 11):  # a run of nine lost
            continue
        t += 20 if i % 5 else 150_000  # some deltas beyond one byte (64 ms)
        times[seq] = t
        fb.record(seq, t)
    got = decode(fb.build(9, 9, 0.0) or b"")
    at = got["at"]
    assert isinstance(at, dict) and len(at) == len(seqs) and got["base"] == 65_530
    for seq in seqs:
        if seq in times:
            value = at[seq]
            assert value is not None and abs(value - times[seq]) <= 250, seq
        else:
            assert at[seq] is None


def test_parse_reads_the_transport_sequence_number_only_with_its_id() -> None:
    ext = bytes((0x51, 0x12, 0x34, 0x00))  # id 5, two bytes: 0x1234, then padding
    packet = (
        struct.pack("!BBHLL", 0x90, 96, 7, 1000, 42)
        + struct.pack("!HH", rtp.ONE_BYTE_PROFILE, 1)
        + ext
        + b"payload"
    )
    assert rtp.parse(packet, 0, 0, 5).extensions.transport_sequence_number == 0x1234
    assert rtp.parse(packet).extensions.transport_sequence_number is None
    assert rtp.parse(packet, 0, 0, 5).payload == b"payload"


OFFER = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:3 {uri}
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
m=video 9 UDP/TLS/RTP/SAVPF 96 97
a=mid:1
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 {uri}
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
""".replace("{uri}", TRANSPORT_CC_URI)

ANSWER = """v=0
o=- 3 4 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=rtpmap:111 opus/48000/2
m=video 9 UDP/TLS/RTP/SAVPF 96 97
a=mid:1
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:96 goog-remb
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
"""


def test_the_answer_takes_transport_cc_on_video_as_offered() -> None:
    assert offered_id(OFFER) == 3
    assert offered_id(OFFER.replace("transport-cc", "x-none")) is None  # no feedback asked
    answer = with_transport_cc(ANSWER, 3)
    audio, video = answer.split("m=video")
    assert TRANSPORT_CC_URI not in audio and "transport-cc" not in audio
    assert f"a=extmap:3 {TRANSPORT_CC_URI}" in video
    assert "a=rtcp-fb:96 transport-cc" in video
    assert "a=rtcp-fb:97" not in video  # RTX carries no feedback of its own
    assert with_transport_cc(answer, 3).count(TRANSPORT_CC_URI) == 1  # not added twice
    rejected = ANSWER.replace("m=video 9", "m=video 0")
    assert TRANSPORT_CC_URI not in with_transport_cc(rejected, 3)


@pytest.mark.parametrize("bad", [0, 15])
def test_an_offered_id_outside_the_one_byte_range_is_not_taken(bad: int) -> None:
    assert offered_id(OFFER.replace("a=extmap:3 ", f"a=extmap:{bad} ")) is None


def test_a_client_numbering_wildly_gets_feedback_of_bounded_size() -> None:
    """Sequence numbers jumping about (a broken or hostile client) cost the relay a bounded
    packet and bounded memory."""
    import random

    fb = TransportFeedback()
    rng = random.Random(7)
    t = 0
    for i in range(5_000):
        t += rng.randrange(0, 200_000)
        fb.record(rng.randrange(0, 65_536), t)
        if i % 50 == 0:
            packet = fb.build(1, 2, i)
            if packet is not None:
                assert len(packet) <= 1_000
                decode(packet)
    assert len(fb._arrivals) <= 600
