"""Synthetic media for the headless caller (``caller``), and what a receiver measures of it.

Sent: a sine tone at a frequency of the participant's own (``tone_hz_for``), and a moving test
pattern whose top-left corner carries, as black and white cells, the frame counter and the
sender's marker (its tone frequency): a receiver reads both back from the decoded picture, so it
can tell that the frames it decodes are the peer's and which of them it missed.  The counter is
also drawn in digits for a person watching.

Received: ``AudioProbe`` (frames, the dominant frequency of the latest audio), ``VideoProbe``
(decoded frames, frame rate, counters and markers read back, the longest gap between frames:
aiortc's video jitter buffer waits for a packet lost for good until it overflows, which shows up
here as a gap, not as a hang) and ``link_figures`` (RTT, jitter and loss from aiortc's stats).
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack

AUDIO_RATE = 48_000
AUDIO_FRAME_SAMPLES = 960  # 20 ms: what browsers put in one Opus packet
VIDEO_CLOCK = 90_000  # RTP clock of every video codec (RFC 3551 §5)
#: A pause between decoded frames longer than this counts as a stall (a browser would freeze).
STALL_S = 0.5
#: Customers' tones are 300–790 Hz, companions' 800–1290 Hz, in 10 Hz steps: the two sides of a
#: call never share one, and 10 Hz is far above the analysis error (about 1 Hz).
TONE_BASE_HZ = {"customer": 300, "companion": 800}
TONE_STEP_HZ = 10
TONE_STEPS = 50
MIN_VIDEO_SIZE = (320, 240)  # room for the code (16 px cells) and the digits
_CODE_ROWS, _CODE_BITS_PER_ROW = 5, 8  # 40 bits: the counter (24) then the marker (16)


def tone_hz_for(role: str, user_id: str) -> int:
    """The tone a participant sends, from their role and user id: both sides of a call know
    each other's id, so each can tell which frequency it should hear."""
    digest = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big")
    return TONE_BASE_HZ.get(role, 300) + TONE_STEP_HZ * (digest % TONE_STEPS)


class ToneTrack(MediaStreamTrack):
    """A mono sine at ``hz``, 20 ms frames paced in real time."""

    kind = "audio"

    def __init__(self, hz: float, amplitude: float = 0.5) -> None:
        super().__init__()
        self.hz = hz
        self._amplitude = amplitude
        self._sent = 0  # samples
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._sent / AUDIO_RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        n = np.arange(self._sent, self._sent + AUDIO_FRAME_SAMPLES)
        pcm = self._amplitude * 32767 * np.sin(2 * math.pi * self.hz * n / AUDIO_RATE)
        frame = av.AudioFrame.from_ndarray(
            pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._sent += AUDIO_FRAME_SAMPLES
        return frame


def _cell_px(width: int) -> int:
    """Side of one code cell: a VP8 macroblock (16×16), on the macroblock grid.  Smaller cells
    share a macroblock with their neighbours, and libvpx (aiortc's settings: CBR, temporal
    denoiser) now and then leaves such a half-changed macroblock as it was in the previous
    frame; whole macroblocks it repaints."""
    return 16


# 3×5 digits, one string per row, for the counter a person reads.
_DIGITS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}
_GLYPHS = {d: np.array([[c == "1" for c in row] for row in rows]) for d, rows in _DIGITS.items()}
# Colour bars (Y, U, V): white, yellow, cyan, green, magenta, red, blue, black.
_BARS = np.array(
    [
        (235, 128, 128),
        (210, 16, 146),
        (170, 166, 16),
        (145, 54, 34),
        (106, 202, 222),
        (81, 90, 240),
        (41, 240, 110),
        (16, 128, 128),
    ],
    dtype=np.uint8,
)


class PatternTrack(MediaStreamTrack):
    """Colour bars scrolling sideways, a bouncing box, and the frame counter with the
    sender's ``marker`` (0–65535) coded in cells in the top-left corner (``read_code``)."""

    kind = "video"

    def __init__(self, marker: int, width: int = 640, height: int = 480, fps: float = 15) -> None:
        super().__init__()
        if width % 8 or height % 8 or width < MIN_VIDEO_SIZE[0] or height < MIN_VIDEO_SIZE[1]:
            raise ValueError("the video size must be multiples of 8, at least 320x240")
        self.width, self.height, self.fps = width, height, fps
        self.marker = marker & 0xFFFF
        self.sent = 0
        self._start: float | None = None
        bar = np.repeat(np.arange(8), math.ceil(width / 8))[:width]
        bars = _BARS[np.concatenate([bar, bar])]  # twice as wide: a scrolling window into it
        self._y_row = bars[:, 0]
        self._u_row = bars[::2, 1]
        self._v_row = bars[::2, 2]
        c = _cell_px(width)
        self._code_bottom = min(height - 16, (c + _CODE_ROWS * c + 4 * c) // 2 * 2)

    async def recv(self) -> av.VideoFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self.sent / self.fps - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.VideoFrame.from_ndarray(self.draw(self.sent), format="yuv420p")
        frame.pts = round(self.sent * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.sent += 1
        return frame

    def draw(self, n: int) -> np.ndarray:
        """Frame ``n`` as one yuv420p array (height × 3/2 rows)."""
        w, h = self.width, self.height
        shift = (n * 4) % w
        y = np.broadcast_to(self._y_row[shift : shift + w], (h, w)).copy()
        u = np.broadcast_to(self._u_row[shift // 2 : shift // 2 + w // 2], (h // 2, w // 2)).copy()
        v = np.broadcast_to(self._v_row[shift // 2 : shift // 2 + w // 2], (h // 2, w // 2)).copy()
        # The box bounces below the code: a moving edge next to the cells makes the encoder
        # predict them from the wrong place now and then (seen under CPU load).
        box = max(16, h // 8) // 2 * 2
        top = self._code_bottom
        bx = _bounce(n * 3, w - box)
        by = top + _bounce(n * 2, h - box - top)
        y[by : by + box, bx : bx + box] = 235
        u[by // 2 : (by + box) // 2, bx // 2 : (bx + box) // 2] = 128
        v[by // 2 : (by + box) // 2, bx // 2 : (bx + box) // 2] = 128
        self._draw_code(y, u, v, n)
        return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w)

    def _draw_code(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, n: int) -> None:
        c = _cell_px(self.width)
        bits = _code_bits(n, self.marker)
        # Each bit is a pair of cells (bit, not bit): a reader can tell a damaged cell.
        cells = np.stack([bits, ~bits], axis=-1).reshape(_CODE_ROWS, 2 * _CODE_BITS_PER_ROW)
        block = np.where(np.repeat(np.repeat(cells, c, axis=0), c, axis=1), 235, 16)
        y0 = x0 = c
        y[y0 - c // 2 : y0 + block.shape[0] + 3 * c, x0 - c // 2 : x0 + block.shape[1] + c // 2] = (
            128
        )
        y[y0 : y0 + block.shape[0], x0 : x0 + block.shape[1]] = block
        top, bottom = (y0 - c // 2) // 2, (y0 + block.shape[0] + 3 * c) // 2
        u[top:bottom, (x0 - c // 2) // 2 : (x0 + block.shape[1] + c // 2) // 2] = 128
        v[top:bottom, (x0 - c // 2) // 2 : (x0 + block.shape[1] + c // 2) // 2] = 128
        scale = max(2, c // 4)
        gy, gx = y0 + block.shape[0] + c // 2, x0
        for digit in str(n % 10_000_000):
            glyph = np.repeat(np.repeat(_GLYPHS[digit], scale, axis=0), scale, axis=1)
            region = y[gy : gy + glyph.shape[0], gx : gx + glyph.shape[1]]
            region[glyph[: region.shape[0], : region.shape[1]]] = 16
            gx += 4 * scale


def _bounce(t: int, span: int) -> int:
    if span <= 0:
        return 0
    t %= 2 * span
    return t if t < span else 2 * span - t


def _code_bits(counter: int, marker: int) -> np.ndarray:
    # The counter in Gray code: one bit (two cells) changes from a frame to the next.  In
    # binary a carry flips up to 24 at once, more than a low bitrate frame repairs: the
    # encoder left some cells of the previous frame behind (seen every 16 frames under load).
    counter &= 0xFFFFFF
    value = ((counter ^ (counter >> 1)) << 16) | (marker & 0xFFFF)
    total = _CODE_ROWS * _CODE_BITS_PER_ROW
    return np.array([(value >> (total - 1 - i)) & 1 for i in range(total)], dtype=bool).reshape(
        _CODE_ROWS, _CODE_BITS_PER_ROW
    )


def read_code(luma: np.ndarray) -> tuple[int, int] | None:
    """(counter, marker) read from a decoded frame's luma plane (height × width), or None when
    the cells are not there or not legible (another sender, a damaged frame)."""
    h, w = luma.shape
    c = _cell_px(w)
    rows, cols = _CODE_ROWS, 2 * _CODE_BITS_PER_ROW
    if c + rows * c > h or c + cols * c > w:
        return None
    area = luma[c : c + rows * c, c : c + cols * c].astype(np.float32)
    inner = area.reshape(rows, c, cols, c)[:, c // 4 : c - c // 4, :, c // 4 : c - c // 4]
    means = inner.mean(axis=(1, 3))
    first, second = means[:, 0::2], means[:, 1::2]
    if np.any(np.abs(first - second) < 48):
        return None
    value = 0
    for bit in (first > second).ravel():
        value = (value << 1) | int(bit)
    counter = gray = value >> 16
    while gray:
        gray >>= 1
        counter ^= gray
    return counter, value & 0xFFFF


def dominant_hz(pcm: np.ndarray, rate: int = AUDIO_RATE) -> float | None:
    """The strongest frequency in ``pcm`` (Hann window, parabolic interpolation between bins),
    or None for silence or less than 50 ms of audio."""
    if len(pcm) < rate // 20:
        return None
    x = pcm.astype(np.float64)
    x -= x.mean()
    if float(np.sqrt(np.mean(x * x))) < 30:  # about -60 dBFS: nothing there
        return None
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = int(np.argmax(spectrum[1:])) + 1
    offset = 0.0
    if k + 1 < len(spectrum):
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-9)
        denominator = a - 2 * b + c
        if denominator < 0:
            offset = float(0.5 * (a - c) / denominator)
    return (k + offset) * rate / len(x)


class AudioProbe:
    """Counts received audio frames and keeps the latest second of it (mono) for analysis."""

    def __init__(self, keep_s: float = 1.0) -> None:
        self.frames = 0
        self.samples = 0
        self._kept: deque[np.ndarray] = deque(maxlen=max(1, int(keep_s * 50)))

    def add(self, frame: av.AudioFrame) -> None:
        channels = len(frame.layout.channels)
        mono = frame.to_ndarray().reshape(-1)[::channels]
        self.frames += 1
        self.samples += len(mono)
        self._kept.append(mono)

    def tone_hz(self, window_s: float = 0.5) -> float | None:
        """The dominant frequency of the latest ``window_s`` of audio received."""
        if not self._kept:
            return None
        pcm = np.concatenate(list(self._kept))
        return dominant_hz(pcm[-int(window_s * AUDIO_RATE) :])


@dataclass
class VideoProbe:
    """Counts decoded video frames, reads each one's code, and times the gaps between them."""

    frames: int = 0
    legible: int = 0
    first_at: float | None = None
    last_at: float | None = None
    max_gap_s: float = 0.0
    stalls: int = 0
    size: tuple[int, int] | None = None
    first_counter: int | None = None
    last_counter: int | None = None

    def __post_init__(self) -> None:
        self._markers: Counter[int] = Counter()
        self._recent: deque[float] = deque(maxlen=120)
        self._frames_at_first = self._frames_at_last = 0

    def add(self, frame: av.VideoFrame, now: float) -> None:
        if self.last_at is not None:
            gap = now - self.last_at
            self.max_gap_s = max(self.max_gap_s, gap)
            if gap > STALL_S:
                self.stalls += 1
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.frames += 1
        self._recent.append(now)
        self.size = (frame.width, frame.height)
        code = read_code(_luma(frame))
        if code is None:
            return
        counter, marker = code
        self.legible += 1
        self._markers[marker] += 1
        if self.first_counter is None:
            self.first_counter, self._frames_at_first = counter, self.frames
        self.last_counter, self._frames_at_last = counter, self.frames

    def fps(self, now: float, window_s: float = 2.0) -> float:
        """Decoded frames per second over the last ``window_s``."""
        return sum(1 for t in self._recent if now - t <= window_s) / window_s

    def marker(self) -> int | None:
        """The marker most frames carried: the sender's tone frequency for our own pattern."""
        return self._markers.most_common(1)[0][0] if self._markers else None

    def skipped(self) -> int:
        """Frames the sender made between the first and last counters read that were not
        decoded here (a decoded frame whose code was not legible was not skipped)."""
        if self.first_counter is None or self.last_counter is None:
            return 0
        made = self.last_counter - self.first_counter + 1
        return max(0, made - (self._frames_at_last - self._frames_at_first + 1))

    def longest_gap_s(self, now: float) -> float:
        """The longest time without a decoded frame, counting the one still open at ``now``."""
        if self.last_at is None:
            return 0.0
        return max(self.max_gap_s, now - self.last_at)

    def stalls_until(self, now: float) -> int:
        """Gaps longer than ``STALL_S``, counting the one still open at ``now`` (a receiver
        that stopped decoding for good has no frame to close it)."""
        open_gap = self.last_at is not None and now - self.last_at > STALL_S
        return self.stalls + int(open_gap)


def _luma(frame: av.VideoFrame) -> np.ndarray:
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8)
    return rows[: plane.line_size * frame.height].reshape(frame.height, plane.line_size)[
        :, : frame.width
    ]


@dataclass(frozen=True, slots=True)
class LinkFigures:
    """From one ``RTCPeerConnection.getStats()`` report."""

    audio_rx_packets: int
    #: None once retransmissions arrived: aiortc then reports the RTX stream under the same
    #: stats id as the video stream (one ``inbound-rtp`` entry per receiver), hiding the latter
    video_rx_packets: int | None
    rx_lost: int
    rtt_ms: float | None  # our sender ↔ the server (remote-inbound-rtp), smoothed by aiortc
    jitter_ms: float | None  # interarrival jitter of the audio received (RFC 3550 §6.4.1)
    video_jitter_ms: float | None
    uplink_loss: float | None  # what the server lost of ours (its receiver reports)

    @property
    def loss(self) -> float:
        """Fraction of the packets sent to us that never arrived (after retransmissions)."""
        total = self.audio_rx_packets + (self.video_rx_packets or 0) + self.rx_lost
        return self.rx_lost / total if total else 0.0


def rtx_ssrcs(sdp: str) -> set[int]:
    """The retransmission SSRCs an SDP announces (``a=ssrc-group:FID <media> <rtx>``, RFC 4588
    §8.1)."""
    found: set[int] = set()
    for line in sdp.splitlines():
        if line.startswith("a=ssrc-group:FID "):
            ssrcs = line.split()[1:]
            found.update(int(x) for x in ssrcs[1:] if x.isdigit())
    return found


def link_figures(report: dict[str, Any], rtx: set[int] | None = None) -> LinkFigures:
    """RTT, jitter and loss from an aiortc stats report (jitter comes in RTP clock units);
    ``rtx``: the peer's retransmission SSRCs, whose statistics are not the media's."""
    rx: dict[str, int | None] = {"audio": 0, "video": 0}
    lost = 0
    jitter: dict[str, float] = {}
    rtts: dict[str, float] = {}
    uplink: list[float] = []
    for stat in report.values():
        kind = getattr(stat, "kind", None)
        if stat.type == "inbound-rtp" and kind in rx:
            if stat.ssrc in (rtx or ()):
                rx[kind] = None
                continue
            rx[kind] = (rx[kind] or 0) + stat.packetsReceived
            lost += max(0, stat.packetsLost)
            clock = AUDIO_RATE if kind == "audio" else VIDEO_CLOCK
            jitter[kind] = 1000 * stat.jitter / clock
        elif stat.type == "remote-inbound-rtp":
            if stat.roundTripTime is not None and kind is not None:
                rtts[kind] = 1000 * stat.roundTripTime
            uplink.append(stat.fractionLost / 256)  # RFC 3550 §6.4.1: a fixed point fraction
    rtt = rtts.get("audio", rtts.get("video"))
    return LinkFigures(
        audio_rx_packets=rx["audio"] or 0,
        video_rx_packets=rx["video"],
        rx_lost=lost,
        rtt_ms=rtt,
        jitter_ms=jitter.get("audio"),
        video_jitter_ms=jitter.get("video"),
        uplink_loss=max(uplink) if uplink else None,
    )
