"""Avatar images: checked, decoded, cropped square, resized and re-encoded, or rejected.

Re-encoding means what we store and serve is an image we produced: no metadata (EXIF GPS), no
polyglot payloads, no decompression bombs.  CPU-bound: callers run it in a worker thread.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
OUTPUT_TYPE = "image/webp"


class AvatarRejected(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class AvatarImage:
    content_type: str
    data: bytes
    width_px: int
    height_px: int


def process_avatar(
    data: bytes, content_type: str, *, max_bytes: int, max_pixels: int, size_px: int
) -> AvatarImage:
    """Decode ``data`` (declared ``content_type``) and return a ``size_px`` square WebP."""
    declared = ACCEPTED_TYPES.get(content_type.split(";")[0].strip().lower())
    if declared is None:
        raise AvatarRejected("unsupported_image_type", "upload a PNG, JPEG or WebP image")
    if len(data) > max_bytes:
        raise AvatarRejected("image_too_large", f"the image is larger than {max_bytes} bytes")
    if not data:
        raise AvatarRejected("invalid_image", "the upload is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[declared]) as opened:
                # Checked before decoding: the header alone tells the pixel count.
                if opened.width * opened.height > max_pixels:
                    raise AvatarRejected("image_too_large", "the image has too many pixels")
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                img = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    except AvatarRejected:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise AvatarRejected("invalid_image", "the upload is not an image we can decode") from exc
    square = ImageOps.fit(img, (size_px, size_px), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=85, method=4)
    return AvatarImage(OUTPUT_TYPE, out.getvalue(), size_px, size_px)
