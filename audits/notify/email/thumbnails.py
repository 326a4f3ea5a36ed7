"""Thumbnails for the email: an infringing listing image beside its registry original.

Nothing is fetched when the email is made. The listing image is the thumbnail the crawl kept
in the ledger (made from the bytes it downloaded and hashed, `crawler.hashing`): a mail client
is never sent to an address the store chose, and neither is storeaudit at send time. The
registry image is read from its file and shrunk to a small JPEG, so the email stays light.

When the match's local features said which part of each picture the other shows, that part is
boxed on the thumbnail itself (`boxed`): a mail client cannot be trusted to lay a box over a
picture.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from crawler.snapshot import Thumbnail as KeptThumbnail
from imaging import thumbnail_jpeg

MAX_FILE_BYTES = 8 * 1024 * 1024
THUMB_SIZE = (220, 220)
NO_PICTURE = "no picture kept"
BOX_COLOUR = (245, 184, 0)
WHOLE_PICTURE = 0.95   # a box this share of the picture or more is not drawn


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


def drawable_box(value) -> tuple[float, float, float, float] | None:
    """An evidence box (left, top, right, bottom, as shares of the picture) worth drawing,
    cut to the picture; None when it is missing, not four numbers, empty, or around (nearly)
    the whole picture, where a box says nothing. The evidence is stored JSON: nothing else
    of it reaches a drawing."""
    if not (isinstance(value, (list, tuple)) and len(value) == 4
            and all(isinstance(v, (int, float)) for v in value)):
        return None
    left, top, right, bottom = (min(1.0, max(0.0, float(v))) for v in value)
    if right <= left or bottom <= top or (right - left) * (bottom - top) >= WHOLE_PICTURE:
        return None
    return left, top, right, bottom


def boxed(thumb: Thumbnail, box: Sequence[float] | None) -> Thumbnail:
    """The thumbnail with `box` (see `drawable_box`) drawn on it; as it was when there is no
    box worth drawing or no picture."""
    box = drawable_box(box)
    if thumb.data is None or box is None:
        return thumb
    left, top, right, bottom = box
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(thumb.data)) as img:
        img = img.convert("RGB")
    w, h = img.size
    line = max(3, round(min(w, h) / 60))  # thick enough to survive the JPEG
    ImageDraw.Draw(img).rectangle(
        [round(left * (w - 1)), round(top * (h - 1)), round(right * (w - 1)),
         round(bottom * (h - 1))], outline=BOX_COLOUR, width=line)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return replace(thumb, data=out.getvalue())
