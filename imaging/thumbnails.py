"""Small JPEG copies of a picture, to show (the email's thumbnails), decoded through the same
capped decoder as the hashes."""

from __future__ import annotations

import io

from .decode import decode


def thumbnail_jpeg(data: bytes, size: tuple[int, int] = (220, 220), *,
                   quality: int = 82) -> tuple[bytes, int, int]:
    """(JPEG bytes, width, height) of the picture in `data` shrunk to fit `size` (never
    enlarged), or ImageRefused saying why it cannot be decoded."""
    _, img = decode(data, draft=size)  # a JPEG is decoded at a reduced scale
    img.thumbnail(size)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue(), img.width, img.height
