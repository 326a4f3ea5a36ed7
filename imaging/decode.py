"""Decoding untrusted image bytes, with limits.

Images come from stores and uploads: the bytes are capped, and so are the pixels, so a
decompression bomb is refused instead of eating the machine. Every decoder of ours goes
through `decode`.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # ~ 6300 x 6300; well above any listing photo


class ImageRefused(ValueError):
    """The bytes are not an image we are willing to decode; the message says why."""


def decode_image(data: bytes) -> Image.Image:
    """The image in `data` as RGB, or ImageRefused saying why not (empty, too many bytes or
    pixels, a decompression bomb, not an image, corrupt or truncated)."""
    return decode(data)[1]


def decode(data: bytes, draft: tuple[int, int] | None = None
           ) -> tuple[tuple[int, int], Image.Image]:
    """The image's own (width, height) and its pixels as RGB, or ImageRefused. With `draft`,
    a JPEG is decoded at the smallest reduced scale still at least that large (a fraction of
    the cost of a full decode); other formats are decoded whole."""
    if not data:
        raise ImageRefused("empty file (0 bytes)")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"too large: {len(data)} bytes (limit {MAX_IMAGE_BYTES})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                size = width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(
                        f"too many pixels: {width}x{height} (limit {MAX_IMAGE_PIXELS})"
                    )
                if draft and img.format == "JPEG":
                    img.draft("RGB", draft)
                img.load()
                rgb = img.convert("RGB")
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageRefused(f"refused as a decompression bomb: {e}") from e
    except UnidentifiedImageError as e:
        head = data[:64].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<svg", b"<")):
            raise ImageRefused("not an image: the file is HTML or XML text (an error page "
                               "or a vector drawing?)") from e
        kind = _looks_like(data)
        if kind:
            raise ImageRefused(f"corrupt or truncated image: it starts like a {kind} file but "
                               "cannot be read") from e
        raise ImageRefused("not an image file Pillow can read (unknown format)") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageRefused(f"corrupt or truncated image: {e}") from e
    return size, rgb


# Magic numbers -> (content type, the format's name): what a file's first bytes say it is.
# Nothing else is an image here (an SVG is a document that could carry script).
SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"GIF87a", "image/gif", "GIF"),
    (b"GIF89a", "image/gif", "GIF"),
    (b"BM", "image/bmp", "BMP"),
    (b"II*\x00", "image/tiff", "TIFF"),
    (b"MM\x00*", "image/tiff", "TIFF"),
]


def image_type(head: bytes) -> str | None:
    """The content type the first bytes announce (image/png …), or None."""
    found = _signature(head)
    return found[0] if found else None


def _signature(head: bytes) -> tuple[str, str] | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "WebP"
    return next(((kind, name) for magic, kind, name in SIGNATURES if head.startswith(magic)), None)


def _looks_like(data: bytes) -> str | None:
    """The image format the first bytes announce, if any."""
    found = _signature(data)
    return found[1] if found else None
