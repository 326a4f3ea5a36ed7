"""Thumbnails for the email: an infringing listing image beside its registry original.

Nothing is fetched when the email is made. The listing image is the thumbnail the crawl kept
in the ledger (made from the bytes it downloaded and hashed, `crawler.hashing`): a mail client
is never sent to an address the store chose, and neither is storeaudit at send time. The
registry image is read from its file and shrunk to a small JPEG, so the email stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.snapshot import Thumbnail as KeptThumbnail
from imaging import thumbnail_jpeg

MAX_FILE_BYTES = 8 * 1024 * 1024
THUMB_SIZE = (220, 220)
NO_PICTURE = "no picture kept"


@dataclass(frozen=True)
class Thumbnail:
    data: bytes | None     # JPEG bytes, or None when there is no picture to show
    problem: str | None = None
    width: int = 0         # as shown: within THUMB_SIZE
    height: int = 0

    @property
    def ok(self) -> bool:
        return self.data is not None


def thumbnail_bytes(data: bytes) -> Thumbnail:
    """A JPEG no larger than THUMB_SIZE; ValueError (imaging.ImageRefused, saying why) for
    what is not an image we decode."""
    jpeg, width, height = thumbnail_jpeg(data, THUMB_SIZE, quality=82)
    return Thumbnail(jpeg, width=width, height=height)


def listing_thumbnail(kept: KeptThumbnail | None) -> Thumbnail:
    """The thumbnail the ledger kept of the listing image, as it is (shown within
    THUMB_SIZE), or the "no picture kept" placeholder."""
    if kept is None:
        return Thumbnail(None, NO_PICTURE)
    scale = min(1.0, THUMB_SIZE[0] / max(kept.width, 1), THUMB_SIZE[1] / max(kept.height, 1))
    return Thumbnail(kept.jpeg, width=max(1, round(kept.width * scale)),
                     height=max(1, round(kept.height * scale)))


def registry_thumbnail(path: str | None) -> Thumbnail:
    if not path:
        return Thumbnail(None, "the registry has no file for this image")
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            return Thumbnail(None, "the registry file is too large to show")
        return thumbnail_bytes(file.read_bytes())
    except (OSError, ValueError) as e:
        return Thumbnail(None, f"could not read {file.name}: {e}")
