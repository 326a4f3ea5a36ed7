"""Downloading listing images and hashing them: sha256 for identity, perceptual hashes for
"the same picture, altered".

Images are untrusted: downloads are capped in bytes and decoding is capped in pixels, so a
decompression bomb is refused instead of eating the machine. An image the crawl has seen
before is asked for conditionally (ETag / Last-Modified) and, when it comes back byte-identical,
is not decoded again.
"""

from __future__ import annotations

import hashlib
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


def hash_image_bytes(data: bytes) -> dict:
    """sha256, perceptual hashes and size of an image, or ImageRefused."""
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
        raise ImageRefused("not an image file Pillow can read") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageRefused(f"corrupt or truncated image: {e}") from e
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "phash": str(imagehash.phash(rgb)),
        "dhash": str(imagehash.dhash(rgb)),
        "width": width,
        "height": height,
        "bytes": len(data),
    }


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
            hashed = hash_image_bytes(data)
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
