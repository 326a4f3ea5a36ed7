"""What the crawl keeps of a downloaded listing image: its hashes and local features
(`imaging.hash_image_bytes`) and a small JPEG thumbnail (`imaging.thumbnail_jpeg`), all made
from the same bytes, wherever they are hashed (a thread, or a worker process:
`crawler.hash_workers`), so the image is downloaded once and its full bytes are dropped as
soon as it is hashed.

The thumbnail is the only picture of the store's that storeaudit shows: the dashboard serves
it from its own origin and the email embeds it, so nothing ever makes a person's browser or
mail client fetch an address the store chose.
"""

from __future__ import annotations

import base64
import logging

from imaging import ImageRefused, hash_image_bytes, thumbnail_jpeg

from .snapshot import Thumbnail

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = (240, 240)  # px: the longest side of a kept thumbnail
THUMBNAIL_QUALITY = 80
# A thumbnail is a few kilobytes; one larger than this (a picture of pure noise) is not kept.
MAX_THUMBNAIL_BYTES = 96 * 1024


def hash_and_thumbnail(data: bytes) -> dict:
    """`hash_image_bytes(data)` (or its ImageRefused), plus "thumbnail": a Thumbnail, or None
    when one could not be made (the hashes still count: the rules judge by them)."""
    hashed = hash_image_bytes(data)
    hashed["thumbnail"] = _thumbnail(data)
    return hashed


def _thumbnail(data: bytes) -> Thumbnail | None:
    try:
        jpeg, width, height = thumbnail_jpeg(data, THUMBNAIL_SIZE, quality=THUMBNAIL_QUALITY)
    except (ImageRefused, OSError, ValueError) as e:
        log.warning("no thumbnail kept for an image that was hashed: %s", e)
        return None
    if len(jpeg) > MAX_THUMBNAIL_BYTES:
        log.warning("no thumbnail kept: %d bytes (limit %d)", len(jpeg), MAX_THUMBNAIL_BYTES)
        return None
    return Thumbnail(jpeg, width, height)


def to_json(hashed: dict) -> dict:
    """`hash_and_thumbnail`'s answer as JSON values (the thumbnail's and the local features'
    bytes in base64), for a worker's pipe."""
    out = dict(hashed)
    if out.get("features") is not None:
        out["features"] = base64.b64encode(out["features"]).decode("ascii")
    thumb = out.get("thumbnail")
    if thumb is not None:
        out["thumbnail"] = {"jpeg": base64.b64encode(thumb.jpeg).decode("ascii"),
                            "width": thumb.width, "height": thumb.height}
    return out


def from_json(hashed: dict) -> dict:
    """The inverse of `to_json`."""
    out = dict(hashed)
    if out.get("features") is not None:
        out["features"] = base64.b64decode(out["features"])
    thumb = out.get("thumbnail")
    if thumb is not None:
        out["thumbnail"] = Thumbnail(base64.b64decode(thumb["jpeg"]), thumb["width"],
                                     thumb["height"])
    return out
