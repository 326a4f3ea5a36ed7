"""Downloading listing images and hashing them: sha256 for identity, perceptual hashes for
"the same picture, altered".

Images are untrusted: downloads are capped in bytes and decoding is capped in pixels, so a
decompression bomb is refused instead of eating the machine. An image the crawl has seen
before is asked for conditionally (ETag / Last-Modified) and, when it comes back byte-identical,
is not decoded again.

What the infringing-image match needs is computed here too, from the pixels (the matching itself
is `audits.image_match`):

* `core_phash` / `core_dhash`: phash and dhash of the picture with a plain border or canvas cut
  away (`margin_box`), so a photo framed or placed on a white square hashes like the photo;
* `colour`: an 8 x 8 grid of the picture's chroma (`colour_signature`), because the grey-level
  hashes cannot tell a red jacket from the same jacket in blue;
* for a registry image only, `variants`: the core hashes of its mirror image and of a few crops
  (`registry_variants`), so a mirrored or slightly cropped copy is near one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import io
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timezone

import httpx
import imagehash
from PIL import Image, UnidentifiedImageError

from .fetch import conditional_headers, read_capped
from .snapshot import ImageInfo

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # ~ 6300 x 6300; well above any listing photo
# px: the longest side of the copy the hashes are computed from. phash reads 32 x 32, yet
# a copy much smaller than the photo loses what tells a copy with a promo banner from another
# picture; at 512 a listing photo (400-800 px) is hashed whole, a 4000 px one is not.
HASH_SIZE = 512
MAX_WAITING_TO_HASH = 32  # images downloaded and not yet hashed, per crawl


class ImageRefused(ValueError):
    """The bytes are not an image we are willing to decode; the message says why."""


def decode_image(data: bytes) -> Image.Image:
    """The image in `data` as RGB, or ImageRefused saying why not (empty, too many bytes or
    pixels, a decompression bomb, not an image, corrupt or truncated)."""
    return _decode(data)[1]


def _decode(data: bytes, work_size: int | None = None) -> tuple[tuple[int, int], Image.Image]:
    """The image's own (width, height) and its pixels as RGB; with `work_size`, a copy no
    larger than that on either side (a JPEG is then decoded at a reduced scale straight away,
    which costs a fraction of a full decode)."""
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
                if work_size and img.format == "JPEG":
                    img.draft("RGB", (work_size, work_size))
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
    if work_size and max(rgb.size) > work_size:
        # Box averaging: what the hashes' own downscaling would see, at a tenth of the cost.
        rgb.thumbnail((work_size, work_size), Image.BOX)
    return size, rgb


_SIGNATURES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP",
               b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}


def _looks_like(data: bytes) -> str | None:
    """The image format the first bytes announce, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)


def hash_image_bytes(data: bytes) -> dict:
    """sha256, perceptual hashes, colour signature and size of a listing image, or
    ImageRefused. The whole picture's phash and dhash are None when it has a border or canvas:
    the match reads the core hashes, and the whole picture's would cost a third of the work."""
    return _hashes(data, whole=False)[0]


def hash_registry_bytes(data: bytes) -> dict:
    """What `hash_image_bytes` gives, plus the `variants` a registry image is matched by."""
    hashed, core = _hashes(data, whole=True)
    hashed["variants"] = registry_variants(core)
    return hashed


def _hashes(data: bytes, *, whole: bool) -> tuple[dict, Image.Image]:
    # The hashes read a small copy (phash sees 32 x 32, dhash 9 x 8, the colour grid 8 x 8):
    # a big photo is decoded straight to about HASH_SIZE instead of at full size.
    (width, height), rgb = _decode(data, HASH_SIZE)
    box = margin_box(rgb)
    core = rgb.crop(box) if box else rgb
    # Grey is per pixel: the core's grey copy is the whole picture's, cropped.
    grey = rgb.convert("L")
    core_phash, core_dhash = _grey_hashes(grey.crop(box) if box else grey)
    if not box:
        phash, dhash = core_phash, core_dhash
    else:
        phash, dhash = _grey_hashes(grey) if whole else (None, None)
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "phash": phash,
        "dhash": dhash,
        "core_phash": core_phash,
        "core_dhash": core_dhash,
        "colour": colour_signature(core),
        "width": width,
        "height": height,
        "bytes": len(data),
    }, core


def _grey_hashes(grey: Image.Image) -> tuple[str, str]:
    """phash and dhash of a grey ("L") picture (given one, each would make its own)."""
    return str(imagehash.phash(grey)), str(imagehash.dhash(grey))


# ---------------------------------------------------------------- matching hashes
MARGIN_SCAN_SIZE = 160  # px: the margins are looked for on a copy this size
MARGIN_TOLERANCE = 16     # levels a border pixel may differ from the corner's colour
MARGIN_MIN_SHARE = 0.02   # a row or column with more differing pixels than this is picture
COLOUR_GRID = 8           # the colour signature's grid: 8 x 8 cells, (Cb, Cr) each
# Crops a registry image is also hashed at: (left, top) share of a 7.5 % cut per axis.
CROP_CUT = 0.075
CROP_ANCHORS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5),
                (0.5, 0.0), (0.5, 1.0), (0.0, 0.5), (1.0, 0.5)]


def margin_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """The (left, top, right, bottom) of the picture inside a plain border or canvas; None
    when there is none to cut.

    The margin colour is the top-left corner's; rows and columns where almost every pixel is
    within MARGIN_TOLERANCE of it are margin. A picture that would lose more than three
    quarters of its area is left whole (a product on white is not a canvas)."""
    import numpy as np

    width, height = img.size
    # Found on a small nearest-neighbour copy (exact margin colours, a tenth of the work),
    # then scaled back, rounding outwards so no picture is cut.
    small = img.convert("RGB")
    small.thumbnail((MARGIN_SCAN_SIZE, MARGIN_SCAN_SIZE), Image.NEAREST)
    arr = np.asarray(small, dtype=np.int16)
    h, w = arr.shape[:2]
    # Channel by channel: a reduction over the last, 3-wide axis costs numpy five times more.
    differs = np.zeros((h, w), dtype=bool)
    for channel in range(3):
        differs |= np.abs(arr[..., channel] - arr[0, 0, channel]) > MARGIN_TOLERANCE
    rows = np.flatnonzero(differs.mean(axis=1) > MARGIN_MIN_SHARE)
    cols = np.flatnonzero(differs.mean(axis=0) > MARGIN_MIN_SHARE)
    if not len(rows) or not len(cols):
        return None
    top, bottom = math.floor(rows[0] * height / h), math.ceil((rows[-1] + 1) * height / h)
    left, right = math.floor(cols[0] * width / w), math.ceil((cols[-1] + 1) * width / w)
    top, left = max(0, top - 1), max(0, left - 1)
    bottom, right = min(height, bottom + 1), min(width, right + 1)
    if (bottom - top) * (right - left) < 0.25 * width * height:
        return None
    if (top, bottom, left, right) == (0, height, 0, width):
        return None
    return left, top, right, bottom


def colour_signature(img: Image.Image) -> str:
    """The picture's colour: its mean chroma (Cb, Cr) in each cell of an 8 x 8 grid, as hex
    (row by row, Cb then Cr per cell: 128 bytes)."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    small = img.resize((COLOUR_GRID, COLOUR_GRID), Image.BOX).convert("YCbCr")
    _, cb, cr = small.split()
    return bytes(b for pair in zip(cb.tobytes(), cr.tobytes()) for b in pair).hex()


def registry_variants(core: Image.Image) -> list[str]:
    """Core phash+dhash ("<phash>:<dhash>") of the picture's mirror image and of crops of it
    and of its mirror: what a mirrored or slightly cropped copy comes near."""
    out = []
    width, height = core.size
    cut_w, cut_h = CROP_CUT * width, CROP_CUT * height
    grey = core.convert("L")  # grey is per pixel: each variant's grey copy is this one's, cut
    for mirrored in (False, True):
        base = grey.transpose(Image.FLIP_LEFT_RIGHT) if mirrored else grey
        boxes = [None] if mirrored else []
        boxes += [(round(fx * cut_w), round(fy * cut_h),
                   round(width - (1 - fx) * cut_w), round(height - (1 - fy) * cut_h))
                  for fx, fy in CROP_ANCHORS]
        for box in boxes:
            part = base if box is None else base.crop(box)
            out.append(":".join(_grey_hashes(part)))
    return out


class ImageHasher:
    """Downloads and hashes images through one shared HTTP client.

    An image seen before is asked for conditionally, and bytes seen before (at this URL or
    any other) are not hashed again. With `reuse_fresh_s`, an image the store confirmed less
    than that long ago, and said may be reused at least that long (Cache-Control max-age), is
    not asked for at all: what a browser's cache does, bounded by the caller's patience.
    `politeness` (the crawl's per-origin limits) holds a request slot only while downloading;
    `hash_with` hashes the bytes (default: on a thread; `crawler.hash_workers` for processes).
    """

    def __init__(self, client: httpx.AsyncClient, known: dict[str, ImageInfo] | None = None,
                 *, politeness=None, now: Callable[[], datetime] | None = None,
                 reuse_fresh_s: float = 0.0,
                 hash_with: Callable[[bytes], Awaitable[dict]] | None = None):
        self.client = client
        self.known = known or {}
        self.politeness = politeness
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.reuse_fresh_s = reuse_fresh_s
        self.hash_with = hash_with or (lambda data: asyncio.to_thread(hash_image_bytes, data))
        self.by_sha = {i.sha256: i for i in self.known.values() if i.sha256 and not i.error}
        # Downloaded images waiting to be hashed are held in memory: at most this many at once,
        # so the downloads never run far ahead of the hashing.
        self._backlog: asyncio.Semaphore | None = None
        self.downloads = 0  # full bodies fetched this crawl (a 304 is not a download)
        self.reused_fresh = 0  # not asked for: the store's max-age said they were fresh

    async def fetch(self, url: str) -> ImageInfo:
        previous = self.known.get(url)
        if self._fresh(previous, self.now()):
            self.reused_fresh += 1
            return previous
        if self._backlog is None:
            self._backlog = asyncio.Semaphore(MAX_WAITING_TO_HASH)
        async with self._backlog:
            return await self._fetch(url, previous)

    async def _fetch(self, url: str, previous: ImageInfo | None) -> ImageInfo:
        checked = dict(checked_at=self.now().isoformat())
        # Asked for conditionally only when its hashes are on record to fall back on.
        headers = conditional_headers(previous if previous and previous.sha256 else None)
        try:
            async with self._slot(url), self.client.stream("GET", url, headers=headers) as response:
                checked["max_age"] = _max_age(response.headers)
                if response.status_code == 304 or response.status_code >= 400:
                    # A response closed unread closes its keep-alive connection too; read
                    # within the cap (an error body is the store's as much as an image is).
                    await read_capped(response, MAX_IMAGE_BYTES, _too_large)
                if response.status_code == 304 and previous:
                    return replace(previous, **checked)
                if response.status_code >= 400:
                    return ImageInfo(url, error=f"HTTP {response.status_code}")
                data = await read_capped(response, MAX_IMAGE_BYTES, _too_large)
                validators = dict(etag=response.headers.get("etag"),
                                  last_modified=response.headers.get("last-modified"))
        except ImageRefused as e:
            return ImageInfo(url, error=str(e))
        except httpx.HTTPError as e:
            return ImageInfo(url, error=f"download failed: {type(e).__name__}: {e}")
        self.downloads += 1
        sha = hashlib.sha256(data).hexdigest()
        same = previous if previous and previous.sha256 == sha else self.by_sha.get(sha)
        if same is not None:
            # Bytes hashed before: keep their hashes, remember this URL's validators.
            return replace(same, url=url, error=None, **validators, **checked)
        try:
            hashed = await self.hash_with(data)
        except ImageRefused as e:
            return ImageInfo(url, error=str(e), bytes=len(data), etag=validators["etag"])
        info = ImageInfo(url, **validators, **checked, **hashed)
        self.by_sha[sha] = info
        return info

    def _fresh(self, previous: ImageInfo | None, now: datetime) -> bool:
        if (not self.reuse_fresh_s or previous is None or not previous.sha256
                or previous.error or not previous.max_age or not previous.checked_at):
            return False
        age = (now - datetime.fromisoformat(previous.checked_at)).total_seconds()
        return 0 <= age < min(previous.max_age, self.reuse_fresh_s)

    def _slot(self, url: str):
        return self.politeness.request(url) if self.politeness else contextlib.nullcontext()


def _too_large(how: str) -> ImageRefused:
    return ImageRefused(f"too large: {how}")


def _max_age(headers: httpx.Headers) -> int | None:
    """How long the response says it may be reused without asking: Cache-Control's max-age,
    None when it says no-store / no-cache or nothing."""
    directives = {}
    for part in headers.get("cache-control", "").lower().split(","):
        name, _, value = part.partition("=")
        directives[name.strip()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    value = directives.get("max-age", "")
    return int(value) if value.isdigit() else None
