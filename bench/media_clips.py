"""bench/media_clips: the encoded media ``bench.media``'s clients replay: a few seconds of
Opus (a tone with noise) and VP8 (640×480, 30 fps, a moving pattern), encoded once by the
benchmark and passed to its child processes as files; load clients replay them as
``av.Packet``s."""

from __future__ import annotations

import fractions
import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


def kinds_of(mode: str) -> tuple[str, ...]:
    return ("audio", "video") if mode == "video" else ("audio",)


@dataclass(frozen=True, slots=True)
class Clip:
    """Encoded media replayed in a loop: one ``av.Packet`` per ``interval_s``."""

    kind: str
    packets: tuple[bytes, ...]
    step: int  # pts units from one packet to the next
    time_base: fractions.Fraction
    interval_s: float

    @property
    def bitrate_kbps(self) -> float:
        return sum(len(p) for p in self.packets) * 8 / (len(self.packets) * self.interval_s) / 1000


#: by kind: pts step per packet, its time base, seconds per packet (20 ms Opus, 30 fps VP8)
TIMING: dict[str, tuple[int, fractions.Fraction, float]] = {
    "audio": (960, fractions.Fraction(1, 48_000), 0.02),
    "video": (3000, fractions.Fraction(1, 90_000), 1 / 30),
}


def clip_of(kind: str, packets: list[bytes]) -> Clip:
    return Clip(kind, tuple(packets), *TIMING[kind])


def encode_audio(seconds: float, bitrate_bps: int = 32_000) -> Clip:
    """A 440 Hz tone with noise, mono Opus, 20 ms packets (what a browser sends for voice)."""
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = 48_000
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = bitrate_bps
    codec.time_base = fractions.Fraction(1, 48_000)
    codec.options = {"application": "voip"}
    rng = np.random.default_rng(7)
    packets: list[bytes] = []
    for i in range(round(seconds / 0.02)):
        n = np.arange(i * 960, (i + 1) * 960)
        pcm = 6000 * np.sin(2 * np.pi * 440 * n / 48_000) + rng.normal(0, 1500, 960)
        frame = av.AudioFrame.from_ndarray(
            pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 48_000
        frame.pts = i * 960
        frame.time_base = fractions.Fraction(1, 48_000)
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return clip_of("audio", packets)


def encode_video(seconds: float, bitrate_bps: int = 1_000_000) -> Clip:
    """A moving colour pattern with noise, VP8 640×480 at 30 fps with a realtime, constant
    bitrate encoder (as aiortc and browsers configure libvpx); one keyframe per loop."""
    frames = round(seconds * 30)
    codec = av.CodecContext.create("libvpx", "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height = 640, 480
    codec.pix_fmt = "yuv420p"
    codec.time_base = fractions.Fraction(1, 30)
    codec.framerate = fractions.Fraction(30, 1)
    codec.bit_rate = bitrate_bps
    codec.gop_size = frames
    rate = str(bitrate_bps)
    codec.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "minrate": rate,
        "maxrate": rate,
        "bufsize": rate,
    }
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:480, 0:640]
    packets: list[bytes] = []
    for n in range(frames):
        rgb = np.stack(
            [(xx + 4 * n) % 256, (yy + 2 * n) % 256, (xx + yy + n) % 256], axis=-1
        ).astype(np.uint8)
        rgb += rng.integers(0, 12, rgb.shape, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return clip_of("video", packets)


def save_clip(clip: Clip, folder: Path) -> None:
    data = b"".join(struct.pack("!I", len(p)) + p for p in clip.packets)
    (folder / f"{clip.kind}.bin").write_bytes(data)


def load_clips(folder: Path) -> dict[str, Clip]:
    clips = {}
    for kind in TIMING:
        data = (folder / f"{kind}.bin").read_bytes()
        packets, i = [], 0
        while i < len(data):
            (size,) = struct.unpack_from("!I", data, i)
            packets.append(data[i + 4 : i + 4 + size])
            i += 4 + size
        clips[kind] = clip_of(kind, packets)
    return clips
