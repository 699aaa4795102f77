"""The relay's answer asks for Opus in-band FEC (RFC 7587): ``media/opus_fmtp.py``."""

from __future__ import annotations

from media.opus_fmtp import with_opus_parameters

ANSWER = "\r\n".join(
    [
        "v=0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=rtpmap:111 opus/48000/2",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
        "a=rtpmap:96 VP8/90000",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "",
    ]
)


def test_an_answer_without_opus_parameters_gets_fec_after_the_opus_rtpmap_only() -> None:
    out = with_opus_parameters(ANSWER).split("\r\n")
    at = out.index("a=rtpmap:111 opus/48000/2")
    assert out[at + 1] == "a=fmtp:111 minptime=10;useinbandfec=1"
    assert "a=fmtp:97 apt=96" in out
    assert sum(line.startswith("a=fmtp:") for line in out) == 2


def test_existing_opus_parameters_are_kept_and_win_and_no_second_line_is_added() -> None:
    sdp = ANSWER.replace(
        "a=rtpmap:111 opus/48000/2\r\n",
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=0;stereo=1\r\n",
    )
    out = with_opus_parameters(sdp).split("\r\n")
    assert [x for x in out if x.startswith("a=fmtp:111")] == [
        "a=fmtp:111 minptime=10;useinbandfec=0;stereo=1"
    ]


def test_every_opus_payload_type_of_every_m_line_and_nothing_without_opus() -> None:
    two = ANSWER.replace(
        "m=video", "m=audio 9 UDP/TLS/RTP/SAVPF 109\r\na=rtpmap:109 OPUS/48000/2\r\nm=video"
    )
    out = with_opus_parameters(two)
    assert "a=fmtp:111 minptime=10;useinbandfec=1" in out
    assert "a=fmtp:109 minptime=10;useinbandfec=1" in out
    video_only = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
    assert with_opus_parameters(video_only) == video_only


def test_the_answer_does_not_ask_for_dtx() -> None:
    """DTX stays off until ``media.talk`` weighs packets by the time they cover (see
    ``media/opus_fmtp.py``): a DTX sender's silent seconds hold 2-3 packets, not 50."""
    assert "usedtx" not in with_opus_parameters(ANSWER)
