"""Transport-wide congestion control, the receive side (draft-holmer-rmcat-transport-wide-cc-
extensions-01): the relay tells a publisher when each of its video packets arrived, so the
publisher's browser runs its own send-side estimator (Google congestion control: delay gradient,
loss, and start-up probing) on its uplink to the relay.

Why.  aiortc negotiates only ``goog-remb``: the relay's receiver estimated the publisher's uplink
with aiortc's receive-side estimator, whose REMB grows about 8 % a second, and the publisher's
browser, given REMB only, grows its target by 8 % a second too and cannot probe.  Over a 20 s call
a publisher through the relay sent half of what a direct call (both browsers on transport-cc)
sends on the same link (README, the network lab).  With transport-cc on the publisher's leg the
browser probes its uplink at once as in a direct call; REMB still caps it (libwebrtc applies a
receiver's REMB as a cap beside its own estimate), and the relay's REMB carries what its
subscribers' downlinks take (``media.feedback``).

Negotiation (``with_transport_cc``): when a browser's offer carries the transport-wide sequence
number extension and ``transport-cc`` feedback on a video m-section, the relay's answer keeps
both there (aiortc's answer drops them: it knows neither).  aiortc never sees the extension, so
the relay's own packets never carry it: a subscriber's browser, receiving packets with
abs-send-time and no transport sequence number, goes on estimating its downlink itself and
sending REMB for it, as before.

Feedback (``TransportFeedback``): every arrival is recorded (transport sequence number, arrival
time); at most every ``INTERVAL_S`` a feedback packet reports every sequence number from the
first not yet reported to the highest seen, received or not, with arrival deltas in 250 µs units.
A packet that arrives after its number was reported lost moves the window back (it is reported
again, received), as libwebrtc's own receive side does.

Pure: numbers and bytes in, bytes out.
"""

from __future__ import annotations

import re
import struct

TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

#: a feedback packet at most this often (seconds): libwebrtc sends one every 50–250 ms
INTERVAL_S = 0.1
#: at most this many sequence numbers per feedback (the oldest beyond are given up): a packet
#: stays under ~1 KB whatever a client numbers (100 ms of 2.5 Mbit/s video is ~30 packets)
MAX_STATUS = 400
#: a late packet reported again only within this many numbers of the highest
HISTORY = 500

#: RTCP transport-layer feedback (RTPFB, RFC 4585) with FMT 15
RTPFB = 205
FMT = 15
#: packet status symbols
NOT_RECEIVED = 0
SMALL = 1  # received, delta 0..255 (× 250 µs) in one byte
LARGE = 2  # received, delta as a signed 16-bit number
DELTA_US = 250
REFERENCE_US = 64_000

_HEAD = struct.Struct("!LLHHL")


class TransportFeedback:
    """The arrivals of one transport's packets and the feedback packets that report them."""

    __slots__ = (
        "_arrivals",
        "_count",
        "_high",
        "_last_sent",
        "_start",
        "_unwrapped",
        "lost_reported",
        "received",
        "sent",
    )

    def __init__(self) -> None:
        #: unwrapped sequence number → arrival (µs)
        self._arrivals: dict[int, int] = {}
        self._unwrapped: int | None = None  # the last sequence number, unwrapped
        self._start: int | None = None  # the first number the next feedback reports
        self._high = -1  # the highest number seen
        self._count = 0  # feedback packet count (8 bits on the wire)
        self._last_sent = float("-inf")
        #: feedback packets built, and the numbers they reported missing and received
        self.sent = 0
        self.lost_reported = 0
        self.received = 0

    def _unwrap(self, seq: int) -> int:
        last = self._unwrapped
        value = seq if last is None else last + ((seq - last + 0x8000) & 0xFFFF) - 0x8000
        if last is None or value > last:
            self._unwrapped = value
        return value

    def record(self, seq: int, arrival_us: int) -> None:
        """A packet with transport sequence number ``seq`` (16 bits) arrived at ``arrival_us``."""
        n = self._unwrap(seq)
        if n in self._arrivals or n < self._high - HISTORY:
            return
        self._arrivals[n] = arrival_us
        if n > self._high:
            self._high = n
        if self._start is None or n < self._start:
            self._start = n  # first packet, or a late one: report from it (again)

    def due(self, now_s: float) -> bool:
        return self._start is not None and now_s - self._last_sent >= INTERVAL_S

    def build(self, sender_ssrc: int, media_ssrc: int, now_s: float) -> bytes | None:
        """The next feedback packet (RTCP, not yet protected), or None when nothing is new."""
        start = self._start
        if start is None:
            return None
        high = self._high
        start = max(start, high - MAX_STATUS + 1)
        arrivals = self._arrivals
        while start <= high and start not in arrivals:
            start += 1  # a feedback begins with a received packet (its reference time)
        if start > high:
            self._start = None
            return None
        first_us = arrivals[start]
        reference = first_us // REFERENCE_US
        previous = reference * REFERENCE_US
        symbols: list[int] = []
        deltas = bytearray()
        for n in range(start, high + 1):
            at = arrivals.get(n)
            if at is None:
                symbols.append(NOT_RECEIVED)
                continue
            delta = round((at - previous) / DELTA_US)
            if 0 <= delta <= 0xFF:
                symbols.append(SMALL)
                deltas.append(delta)
            else:
                delta = max(-0x8000, min(0x7FFF, delta))
                symbols.append(LARGE)
                deltas += delta.to_bytes(2, "big", signed=True)
            previous += delta * DELTA_US
        self.lost_reported += symbols.count(NOT_RECEIVED)
        self.received += len(symbols) - symbols.count(NOT_RECEIVED)
        chunks = _chunks(symbols)
        body = (
            _HEAD.pack(
                sender_ssrc,
                media_ssrc,
                start & 0xFFFF,
                len(symbols),
                ((reference & 0xFFFFFF) << 8) | (self._count & 0xFF),
            )
            + chunks
            + bytes(deltas)
        )
        padding = -(4 + len(body)) % 4
        length = (4 + len(body) + padding) // 4 - 1
        first = 0x80 | FMT | (0x20 if padding else 0)
        packet = bytes((first, RTPFB)) + length.to_bytes(2, "big") + body
        if padding:
            packet += bytes(padding - 1) + bytes((padding,))
        self._count += 1
        self.sent += 1
        self._last_sent = now_s
        self._start = None
        # forget what can no longer be reported again
        for n in [n for n in arrivals if n < high - HISTORY]:
            del arrivals[n]
        return packet


def _chunks(symbols: list[int]) -> bytes:
    """Packet chunks: a run-length chunk for 7 or more equal symbols in a row, else a two-bit
    status vector chunk of up to 7 (the last one padded with "not received")."""
    out = bytearray()
    i = 0
    n = len(symbols)
    while i < n:
        symbol = symbols[i]
        run = 1
        while i + run < n and run < 0x1FFF and symbols[i + run] == symbol:
            run += 1
        if run >= 7:
            out += ((symbol << 13) | run).to_bytes(2, "big")
            i += run
            continue
        chunk = 0xC000
        for k in range(7):
            s = symbols[i + k] if i + k < n else NOT_RECEIVED
            chunk |= s << (12 - 2 * k)
        out += chunk.to_bytes(2, "big")
        i += 7
    return bytes(out)


_EXTMAP = re.compile(r"a=extmap:(\d+)(?:/\w+)? (\S+)")
_FB = re.compile(r"a=rtcp-fb:(\S+) (\S+)(?: (\S+))?")
_RTPMAP = re.compile(r"a=rtpmap:(\d+) ([\w-]+)/")


def _sections(sdp: str) -> tuple[list[str], list[list[str]]]:
    lines = sdp.splitlines()
    head: list[str] = []
    sections: list[list[str]] = []
    for line in lines:
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            head.append(line)
    return head, sections


def offered_id(offer_sdp: str) -> int | None:
    """The extension id the offer gives the transport-wide sequence number on a video m-section
    that also asks for ``transport-cc`` feedback; None when it does not."""
    _, sections = _sections(offer_sdp)
    for section in sections:
        if not section[0].startswith("m=video"):
            continue
        ext = next(
            (int(m[1]) for m in map(_EXTMAP.match, section) if m and m[2] == TRANSPORT_CC_URI),
            None,
        )
        feedback = any(m and m[2] == "transport-cc" for m in map(_FB.match, section))
        if ext is not None and feedback and 0 < ext < 15:
            return ext
    return None


def with_transport_cc(answer_sdp: str, extension_id: int) -> str:
    """``answer_sdp`` with the transport-wide sequence number (``extension_id``, as offered) and
    ``transport-cc`` feedback for each video codec (not RTX) on every accepted video m-section."""
    head, sections = _sections(answer_sdp)
    out = list(head)
    for section in sections:
        m = section[0].split()
        if not m[0].startswith("m=video") or len(m) < 2 or m[1] == "0":
            out += section
            continue
        codecs = [
            r[1] for r in map(_RTPMAP.match, section) if r and r[2].lower() not in ("rtx", "red")
        ]
        has_ext = any(e and e[2] == TRANSPORT_CC_URI for e in map(_EXTMAP.match, section))
        last_extmap = max(
            (i for i, line in enumerate(section) if line.startswith("a=extmap:")), default=None
        )
        for i, line in enumerate(section):
            out.append(line)
            if not has_ext and i == (last_extmap if last_extmap is not None else 0):
                out.append(f"a=extmap:{extension_id} {TRANSPORT_CC_URI}")
            fb = _FB.match(line)
            if fb and fb[2] == "goog-remb" and fb[1] in codecs:
                out.append(f"a=rtcp-fb:{fb[1]} transport-cc")
    return "\r\n".join(out) + "\r\n"
