"""Application uploads: the voice sample (audio) and certificates (images), checked by their
first bytes, not by the Content-Type the client claims.

Pure: no I/O.  Nothing is decoded: the files are stored as sent and served only with the type
their magic bytes prove (and ``nosniff``), the voice sample publicly once approved, the
certificates to admins only.  The signatures:

- WebM: an EBML header (``1A 45 DF A3``) whose DocType is ``webm`` (Matroska, RFC 9559 §5);
- Ogg: ``OggS`` (RFC 3533 §6);
- MPEG audio: an ``ID3`` tag or an MPEG frame sync (11 set bits, ISO/IEC 11172-3 §2.4.1.3);
- MP4: an ``ftyp`` box first (ISO/IEC 14496-12 §4.3);
- WAV: ``RIFF`` … ``WAVE`` (the RIFF header);
- JPEG: ``FF D8 FF`` (SOI and the next marker); PNG: the 8-byte signature (RFC 2083 §3.1).
"""

from __future__ import annotations

from collections.abc import Callable

#: Upper bound of each upload (the HTTP layer's upload limit is the same 2 MiB by default).
MAX_VOICE_SAMPLE_BYTES = 2 * 1024 * 1024
#: Below this it cannot be a voice sample: a second of low-bitrate Opus is about 1 KB.
MIN_VOICE_SAMPLE_BYTES = 1024
MAX_CERTIFICATE_BYTES = 2 * 1024 * 1024
MIN_CERTIFICATE_BYTES = 64
#: certificates per application (a specialist category needs one each; a few pages spare)
MAX_CERTIFICATES = 5

VOICE_TYPES: tuple[str, ...] = ("audio/webm", "audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav")
IMAGE_TYPES: tuple[str, ...] = ("image/jpeg", "image/png")


class UploadRejected(ValueError):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _webm(d: bytes) -> bool:
    return d.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in d[4:64]


def _mpeg(d: bytes) -> bool:
    return d.startswith(b"ID3") or (d[0] == 0xFF and d[1] & 0xE0 == 0xE0)


_AUDIO: dict[str, Callable[[bytes], bool]] = {
    "audio/webm": _webm,
    "audio/ogg": lambda d: d.startswith(b"OggS"),
    "audio/mpeg": _mpeg,
    "audio/mp4": lambda d: d[4:8] == b"ftyp",
    "audio/wav": lambda d: d.startswith(b"RIFF") and d[8:12] == b"WAVE",
}
_IMAGE: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda d: d.startswith(b"\xff\xd8\xff"),
    "image/png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
}


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def check_voice_sample(data: bytes, content_type: str) -> str:
    """The media type of a valid voice sample, or :class:`UploadRejected`."""
    kind = _media_type(content_type)
    if kind not in _AUDIO:
        raise UploadRejected(
            "unsupported_audio_type", f"upload one of: {', '.join(VOICE_TYPES)}", 415
        )
    if len(data) > MAX_VOICE_SAMPLE_BYTES:
        raise UploadRejected(
            "voice_sample_too_large",
            f"the voice sample may be at most {MAX_VOICE_SAMPLE_BYTES} bytes",
            413,
        )
    if len(data) < MIN_VOICE_SAMPLE_BYTES:
        raise UploadRejected(
            "invalid_voice_sample",
            f"the voice sample is shorter than {MIN_VOICE_SAMPLE_BYTES} bytes",
        )
    if not _AUDIO[kind](data):
        raise UploadRejected("invalid_voice_sample", f"the upload is not {kind} audio")
    return kind


def check_certificate(data: bytes, content_type: str) -> str:
    """The media type of a valid certificate image, or :class:`UploadRejected`."""
    kind = _media_type(content_type)
    if kind not in _IMAGE:
        raise UploadRejected(
            "unsupported_image_type", f"upload one of: {', '.join(IMAGE_TYPES)}", 415
        )
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise UploadRejected(
            "certificate_too_large",
            f"a certificate may be at most {MAX_CERTIFICATE_BYTES} bytes",
            413,
        )
    if len(data) < MIN_CERTIFICATE_BYTES or not _IMAGE[kind](data):
        raise UploadRejected("invalid_certificate", f"the upload is not a {kind} image")
    return kind
