"""The Opus parameters the relay answers with (RFC 7587 §7): aiortc's answer carries none, so a
browser would send Opus without in-band FEC — ``useinbandfec`` in the answer is the receiver
saying it can use FEC, and the relay's receiver is, in effect, the other browser: it forwards the
encoded packets unchanged (``media/forward.py``), and every browser decodes FEC.  With FEC a
packet carries a low-rate copy of the one before, so a single lost packet is rebuilt instead of
concealed.

DTX (``usedtx``) is not asked for, by measurement and by what it would break.  Measured (the
network lab, ``--modes relay --profiles lossy_wifi congested_down --seconds 20``): with
``usedtx=1`` negotiated (the pages' fmtp showed it) the audio bitrate did not move (24.4 → 24.3
kbit/s on congested_down, 14.4 → 13.0 on lossy_wifi) nor did anything else beyond one run's
noise: Chromium's fake microphone is never silent, and a direct browser call does not negotiate
DTX either, so it buys nothing toward parity with one.  It would save ~20 kbit/s per silent
speaker in real calls, but a silent DTX sender sends one packet per ~400 ms instead of 50 per
second, and ``media.talk`` takes a second's voiced share as voiced packets / packets heard: a
second with 0.3 s of speech and 0.7 s of DTX silence would count as 15 / 17 voiced instead of
15 / 50, so the fair-service rule would see a companion who barely speaks as talking.  The
safety window (``media.evidence``) would also lose the silences' duration.  Asking for DTX needs
``media.talk`` to weigh packets by the time they cover (RTP timestamps) first.  Media liveness
(``media_silence_s``, 10 s) would be unaffected by one packet per 400 ms.

Pure: SDP text in, SDP text out."""

from __future__ import annotations

import re

#: what the relay's answer says about Opus, as ``a=fmtp`` parameters (RFC 7587 §6.1)
OPUS_PARAMETERS = {"minptime": "10", "useinbandfec": "1"}

_RTPMAP = re.compile(r"a=rtpmap:(\d+) opus/48000(/2)?$", re.IGNORECASE)
_FMTP = re.compile(r"a=fmtp:(\d+) (.*)$")


def with_opus_parameters(sdp: str, parameters: dict[str, str] = OPUS_PARAMETERS) -> str:
    """``sdp`` with ``parameters`` on every Opus payload type's ``a=fmtp`` line: merged into
    the line if there is one (its own values win), else a line added after the ``a=rtpmap``."""
    lines = sdp.splitlines()
    opus = {m[1] for m in map(_RTPMAP.match, lines) if m}
    if not opus:
        return sdp
    has_fmtp = {m[1] for m in map(_FMTP.match, lines) if m and m[1] in opus}
    out = []
    for line in lines:
        fmtp = _FMTP.match(line)
        if fmtp and fmtp[1] in opus:
            mine = dict(p.split("=", 1) for p in fmtp[2].split(";") if "=" in p)
            line = f"a=fmtp:{fmtp[1]} " + ";".join(
                f"{k}={v}" for k, v in ({**parameters, **mine}).items()
            )
        out.append(line)
        rtpmap = _RTPMAP.match(line)
        if rtpmap and rtpmap[1] not in has_fmtp:
            out.append(f"a=fmtp:{rtpmap[1]} " + ";".join(f"{k}={v}" for k, v in parameters.items()))
    return "\r\n".join(out) + "\r\n"
