"""Safety evidence of a call, in memory only: per participant, a rolling window of the encoded
audio the relay forwards (the last ``window_s``, 120 s) and one video keyframe per
``KEYFRAME_INTERVAL_S`` (10 s).

Nothing here decodes or writes anything.  Per forwarded audio packet the cost is one deque
append and, now and then, a trim from the left; the window is bounded by time and by bytes
(``MAX_AUDIO_BYTES``), so a participant sending large or many packets cannot grow it.  A video
frame is assembled from its RTP packets only when a keyframe starts (RFC 7741: VP8's payload
descriptor and the frame header's P bit) and no keyframe was kept in the last 10 s; the
assembled frame is the encoded bytes, kept as they are.  Decoding (JPEG) and the Ogg container
happen only when someone reports the call (``media.evidence_seal``); windows of calls nobody
reports are dropped from memory ``after_call_s`` after the call ends (``media.rooms``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from aiortc.codecs.vpx import VpxPayloadDescriptor

from media.forward import is_keyframe_start

#: how much of the recent past a window holds
WINDOW_S = 120.0
#: a window's audio is also bounded by bytes: Opus at 510 kbit/s (its maximum) for 120 s is
#: ~7.6 MB, a normal voice call (~32 kbit/s) ~0.5 MB; beyond the cap the oldest packets go
MAX_AUDIO_BYTES = 2 * 1024 * 1024
#: a keyframe is kept at most this often
KEYFRAME_INTERVAL_S = 10.0
#: keyframes a window holds (WINDOW_S / KEYFRAME_INTERVAL_S, and one more for the edges)
MAX_KEYFRAMES = 13
#: one assembled keyframe: larger ones (1080p VP8 keyframes are ~100-300 kB) are not kept
MAX_KEYFRAME_BYTES = 1024 * 1024
#: packets one keyframe may span before assembly gives up
MAX_KEYFRAME_PACKETS = 1500
#: bookkeeping per kept audio packet (tuple, floats, ints) counted against the byte cap
PACKET_OVERHEAD_BYTES = 100


@dataclass(frozen=True, slots=True)
class AudioPacket:
    arrival_s: float  # monotonic
    rtp_timestamp: int  # 48 kHz for Opus (RFC 7587 §4.1)
    payload: bytes  # the Opus packet as received


@dataclass(frozen=True, slots=True)
class Keyframe:
    arrival_s: float  # monotonic
    codec: str  # "vp8"
    data: bytes  # the encoded frame (payload descriptors removed), as the source sent it


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One participant's window at the moment of a report (``captured_s``: monotonic)."""

    user_id: str
    captured_s: float
    audio: tuple[AudioPacket, ...]
    keyframes: tuple[Keyframe, ...]


class AudioWindow:
    def __init__(self, window_s: float = WINDOW_S, max_bytes: int = MAX_AUDIO_BYTES) -> None:
        self._window_s = window_s
        self._max_bytes = max_bytes
        self._packets: deque[AudioPacket] = deque()
        self.bytes = 0

    def add(self, now_s: float, rtp_timestamp: int, payload: bytes) -> None:
        self._packets.append(AudioPacket(now_s, rtp_timestamp, payload))
        self.bytes += len(payload) + PACKET_OVERHEAD_BYTES
        packets = self._packets
        oldest = now_s - self._window_s
        # Amortised O(1): each packet is appended once and trimmed once.
        while packets and (packets[0].arrival_s < oldest or self.bytes > self._max_bytes):
            self.bytes -= len(packets.popleft().payload) + PACKET_OVERHEAD_BYTES

    def packets(self, now_s: float) -> tuple[AudioPacket, ...]:
        oldest = now_s - self._window_s
        return tuple(p for p in self._packets if p.arrival_s >= oldest)

    def __len__(self) -> int:
        return len(self._packets)


class KeyframeWindow:
    """Keeps one complete VP8 keyframe per ``interval_s``, assembled from its RTP packets
    (which may arrive out of order: RTX repairs them late)."""

    def __init__(
        self,
        window_s: float = WINDOW_S,
        interval_s: float = KEYFRAME_INTERVAL_S,
        max_frame_bytes: int = MAX_KEYFRAME_BYTES,
    ) -> None:
        self._window_s = window_s
        self._interval_s = interval_s
        self._max_frame_bytes = max_frame_bytes
        self.frames: deque[Keyframe] = deque(maxlen=MAX_KEYFRAMES)
        self._last_kept_s = -1e18
        #: the keyframe being assembled: its RTP timestamp, first sequence number, parts
        self._ts: int | None = None
        self._first_seq = 0
        self._parts: dict[int, bytes] = {}
        self._last_seq: int | None = None
        self._size = 0
        self._started_s = 0.0
        self._asked_s = -1e18

    def ask(self, now_s: float) -> bool:
        """Whether to ask the source for a keyframe now: one is due and none was asked for in
        the last ``interval_s`` (browsers send keyframes only when asked, after the first)."""
        if not self.due(now_s) or now_s - self._asked_s < self._interval_s:
            return False
        self._asked_s = now_s
        return True

    def due(self, now_s: float) -> bool:
        """Whether a keyframe is wanted now (none kept in the last ``interval_s``)."""
        return now_s - self._last_kept_s >= self._interval_s

    def add(
        self, now_s: float, sequence_number: int, timestamp: int, marker: bool, payload: bytes
    ) -> None:
        if self._ts is None:
            if not self.due(now_s) or not is_keyframe_start(payload):
                return
            self._ts, self._first_seq, self._parts, self._size = timestamp, sequence_number, {}, 0
            self._last_seq = None
            self._started_s = now_s
        elif timestamp != self._ts:
            if now_s - self._started_s > 1.0 or is_keyframe_start(payload):
                self._ts = None  # incomplete and overtaken: start again from this packet
                self.add(now_s, sequence_number, timestamp, marker, payload)
            return
        offset = (sequence_number - self._first_seq) & 0xFFFF
        if offset >= MAX_KEYFRAME_PACKETS or offset in self._parts:
            return
        self._parts[offset] = payload
        self._size += len(payload)
        if self._size > self._max_frame_bytes:
            self._ts = None
            return
        if marker:
            self._last_seq = offset
        if self._last_seq is not None and len(self._parts) == self._last_seq + 1:
            frame = self._assemble()
            self._ts = None
            if frame is not None:
                self.frames.append(Keyframe(now_s, "vp8", frame))
                self._last_kept_s = now_s

    def _assemble(self) -> bytes | None:
        out = bytearray()
        for i in range(len(self._parts)):
            try:
                _, data = VpxPayloadDescriptor.parse(self._parts[i])
            except ValueError:
                return None
            out += data
        return bytes(out)

    def keyframes(self, now_s: float) -> tuple[Keyframe, ...]:
        oldest = now_s - self._window_s
        return tuple(f for f in self.frames if f.arrival_s >= oldest)


class ParticipantWindow:
    """What the relay keeps of one participant of one call."""

    def __init__(self, user_id: str, window_s: float = WINDOW_S) -> None:
        self.user_id = user_id
        self.audio = AudioWindow(window_s)
        self.video = KeyframeWindow(window_s)

    def snapshot(self, now_s: float) -> Snapshot:
        return Snapshot(self.user_id, now_s, self.audio.packets(now_s), self.video.keyframes(now_s))

    def held_bytes(self) -> int:
        return self.audio.bytes + sum(len(f.data) for f in self.video.frames)
