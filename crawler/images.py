"""Downloading listing images and hashing them: sha256 for identity, perceptual hashes for
"the same picture, altered".

Images are untrusted: downloads are capped in bytes and decoding is capped in pixels, so a
decompression bomb is refused instead of eating the machine. An image the crawl has seen
before is asked for conditionally (ETag / Last-Modified) and, when it comes back byte-identical,
is not decoded again.

What the infringing-image match needs is computed here too, from the pixels (the matching itself
is `audits.image_match`):

* `core_phash` / `core_dhash`: phash and dhash of the picture with a plain border or canvas cut
  away (`trim_margins`), so a photo framed or placed on a white square hashes like the photo;
* `colour`: an 8 x 8 grid of the picture's chroma (`colour_signature`), because the grey-level
  hashes cannot tell a red jacket from the same jacket in blue;
* for a registry image only, `variants`: the core hashes of its mirror image and of a few crops
  (`registry_variants`), so a mirrored or slightly cropped copy is near one of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import io
import warnings
from dataclasses import replace

import httpx
import imagehash
from PIL import Image, UnidentifiedImageError

from .snapshot import ImageInfo

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # ~ 6300 x 6300; well above any listing photo


class ImageRefused(ValueError):
    """The bytes are not an image we are willing to decode; the message says why."""


def decode_image(data: bytes) -> Image.Image:
    """The image in `data` as RGB, or ImageRefused saying why not (empty, too many bytes or
    pixels, a decompression bomb, not an image, corrupt or truncated)."""
    if not data:
        raise ImageRefused("empty file (0 bytes)")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"too large: {len(data)} bytes (limit {MAX_IMAGE_BYTES})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(
                        f"too many pixels: {width}x{height} (limit {MAX_IMAGE_PIXELS})"
                    )
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
    return rgb


_SIGNATURES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP",
               b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}


def _looks_like(data: bytes) -> str | None:
    """The image format the first bytes announce, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in _SIGNATURES.items() if data.startswith(magic)), None)


def hash_image_bytes(data: bytes) -> dict:
    """sha256, perceptual hashes, colour signature and size of an image, or ImageRefused."""
    return _hashes(data, decode_image(data))[0]


def hash_registry_bytes(data: bytes) -> dict:
    """What `hash_image_bytes` gives, plus the `variants` a registry image is matched by."""
    hashed, core = _hashes(data, decode_image(data))
    hashed["variants"] = registry_variants(core)
    return hashed


def _hashes(data: bytes, rgb: Image.Image) -> tuple[dict, Image.Image]:
    core = trim_margins(rgb)
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "phash": str(imagehash.phash(rgb)),
        "dhash": str(imagehash.dhash(rgb)),
        "core_phash": str(imagehash.phash(core)),
        "core_dhash": str(imagehash.dhash(core)),
        "colour": colour_signature(core),
        "width": rgb.width,
        "height": rgb.height,
        "bytes": len(data),
    }, core


# ---------------------------------------------------------------- matching hashes
MARGIN_SCAN_SIZE = 160  # px: the margins are looked for on a copy this size
MARGIN_TOLERANCE = 16     # levels a border pixel may differ from the corner's colour
MARGIN_MIN_SHARE = 0.02   # a row or column with more differing pixels than this is picture
COLOUR_GRID = 8           # the colour signature's grid: 8 x 8 cells, (Cb, Cr) each
# Crops a registry image is also hashed at: (left, top) share of a 7.5 % cut per axis.
CROP_CUT = 0.075
CROP_ANCHORS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5),
                (0.5, 0.0), (0.5, 1.0), (0.0, 0.5), (1.0, 0.5)]


def trim_margins(img: Image.Image) -> Image.Image:
    """The picture with a plain border or canvas around it cut away.

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
    differs = np.abs(arr - arr[0, 0]).max(axis=2) > MARGIN_TOLERANCE
    rows = np.flatnonzero(differs.mean(axis=1) > MARGIN_MIN_SHARE)
    cols = np.flatnonzero(differs.mean(axis=0) > MARGIN_MIN_SHARE)
    if not len(rows) or not len(cols):
        return img
    top, bottom = math.floor(rows[0] * height / h), math.ceil((rows[-1] + 1) * height / h)
    left, right = math.floor(cols[0] * width / w), math.ceil((cols[-1] + 1) * width / w)
    top, left = max(0, top - 1), max(0, left - 1)
    bottom, right = min(height, bottom + 1), min(width, right + 1)
    if (bottom - top) * (right - left) < 0.25 * width * height:
        return img
    if (top, bottom, left, right) == (0, height, 0, width):
        return img
    return img.crop((left, top, right, bottom))


def colour_signature(img: Image.Image) -> str:
    """The picture's colour: its mean chroma (Cb, Cr) in each cell of an 8 x 8 grid, as hex
    (row by row, Cb then Cr per cell: 128 bytes)."""
    small = img.convert("RGB").resize((COLOUR_GRID, COLOUR_GRID), Image.BOX).convert("YCbCr")
    _, cb, cr = small.split()
    return bytes(b for pair in zip(cb.tobytes(), cr.tobytes()) for b in pair).hex()


def registry_variants(core: Image.Image) -> list[str]:
    """Core phash+dhash ("<phash>:<dhash>") of the picture's mirror image and of crops of it
    and of its mirror: what a mirrored or slightly cropped copy comes near."""
    out = []
    width, height = core.size
    cut_w, cut_h = CROP_CUT * width, CROP_CUT * height
    for mirrored in (False, True):
        base = core.transpose(Image.FLIP_LEFT_RIGHT) if mirrored else core
        boxes = [None] if mirrored else []
        boxes += [(round(fx * cut_w), round(fy * cut_h),
                   round(width - (1 - fx) * cut_w), round(height - (1 - fy) * cut_h))
                  for fx, fy in CROP_ANCHORS]
        for box in boxes:
            part = base if box is None else base.crop(box)
            out.append(f"{imagehash.phash(part)}:{imagehash.dhash(part)}")
    return out


class ImageHasher:
    """Downloads and hashes images through one shared HTTP client."""

    def __init__(self, client: httpx.AsyncClient, known: dict[str, ImageInfo] | None = None):
        self.client = client
        self.known = known or {}
        self.downloads = 0  # full bodies fetched this crawl (a 304 is not a download)

    async def fetch(self, url: str) -> ImageInfo:
        previous = self.known.get(url)
        headers = {}
        if previous and previous.sha256:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        try:
            async with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304 or response.status_code >= 400:
                    # A response closed unread closes its keep-alive connection too.
                    await response.aread()
                if response.status_code == 304 and previous:
                    return previous
                if response.status_code >= 400:
                    return ImageInfo(url, error=f"HTTP {response.status_code}")
                data = await _read_capped(response)
                etag = response.headers.get("etag")
                last_modified = response.headers.get("last-modified")
        except ImageRefused as e:
            return ImageInfo(url, error=str(e))
        except httpx.HTTPError as e:
            return ImageInfo(url, error=f"download failed: {type(e).__name__}: {e}")
        self.downloads += 1
        sha = hashlib.sha256(data).hexdigest()
        if previous and previous.sha256 == sha:
            # Same bytes as last time: keep the hashes, remember the new validators.
            return replace(previous, etag=etag, last_modified=last_modified, error=None)
        try:
            # Decoding and hashing is CPU work: off the event loop, so pages keep loading
            # meanwhile and Pillow/numpy (which release the GIL) can use a second core.
            hashed = await asyncio.to_thread(hash_image_bytes, data)
        except ImageRefused as e:
            return ImageInfo(url, error=str(e), bytes=len(data), etag=etag)
        return ImageInfo(url, etag=etag, last_modified=last_modified, **hashed)


async def _read_capped(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"too large: {declared} bytes (limit {MAX_IMAGE_BYTES})")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_IMAGE_BYTES:
            raise ImageRefused(f"too large: over {MAX_IMAGE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
