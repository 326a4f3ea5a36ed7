"""Thumbnails for the email: an infringing listing image beside its registry original.

The listing image is downloaded when the email is made, through the crawler's guarded client
(only from the store's origins, every redirect hop checked: a store cannot make the email
fetch anything else), capped in bytes and decoded with a pixel limit; the registry image is
read from its file. Both are shrunk to a small JPEG so the email stays light.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from imaging import thumbnail_jpeg

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024
THUMB_SIZE = (220, 220)
TIMEOUT_S = 10


@dataclass(frozen=True)
class Thumbnail:
    data: bytes | None     # JPEG bytes, or None when the picture could not be had
    problem: str | None = None
    width: int = 0
    height: int = 0

    @property
    def ok(self) -> bool:
        return self.data is not None


def thumbnail_bytes(data: bytes) -> Thumbnail:
    """A JPEG no larger than THUMB_SIZE; ValueError (imaging.ImageRefused, saying why) for
    what is not an image we decode."""
    jpeg, width, height = thumbnail_jpeg(data, THUMB_SIZE, quality=82)
    return Thumbnail(jpeg, width=width, height=height)


def listing_thumbnail(url: str, client: httpx.Client) -> Thumbnail:
    """The listing image at `url`, fetched with `client` (a `crawler.guarded.guarded_client`
    on the store's origins)."""
    try:
        data = _download(url, client)
        return thumbnail_bytes(data)
    except (httpx.HTTPError, ValueError) as e:
        log.warning("email thumbnail of %s: %s", url, e)
        return Thumbnail(None, f"could not fetch the image: {e}")


def registry_thumbnail(path: str | None) -> Thumbnail:
    if not path:
        return Thumbnail(None, "the registry has no file for this image")
    file = Path(path)
    try:
        if file.stat().st_size > MAX_DOWNLOAD_BYTES:
            return Thumbnail(None, "the registry file is too large to show")
        return thumbnail_bytes(file.read_bytes())
    except (OSError, ValueError) as e:
        return Thumbnail(None, f"could not read {file.name}: {e}")


def _download(url: str, client: httpx.Client) -> bytes:
    with client.stream("GET", url) as response:
        if response.status_code >= 400:
            raise ValueError(f"HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
            raise ValueError(f"too large ({declared} bytes)")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"too large (over {MAX_DOWNLOAD_BYTES} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)
