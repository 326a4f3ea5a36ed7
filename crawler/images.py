"""Downloading listing images: capped in bytes, asked for conditionally, reused while fresh.

Images are untrusted: downloads are capped in bytes (and decoding, in `imaging`, in pixels too),
so a decompression bomb is refused instead of eating the machine. An image the crawl has seen
before is asked for conditionally (ETag / Last-Modified) and, when it comes back byte-identical,
is not decoded again. The hashing itself (sha256, perceptual hashes, colour) is
`imaging.hash_image_bytes`; where the bytes are hashed, a small thumbnail is made from them too
(`crawler.hashing`), kept in the crawl's ThumbnailSpool: the only copy of the picture that
storeaudit shows anyone. The local features the hashing finds (about 9 KB an image, for the
second stage of the infringing-image match) wait in a BlobSpool the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timezone

import httpx

from imaging import MAX_IMAGE_BYTES, ImageRefused

from .fetch import conditional_headers, read_capped, timed_out
from .hashing import hash_and_thumbnail
from .not_modified import NotModifiedCheck
from .same_photo import same_photo
from .snapshot import ImageInfo, Thumbnail

__all__ = ["MAX_WAITING_TO_HASH", "BlobSpool", "ImageHasher", "ThumbnailSpool", "max_age"]

MAX_WAITING_TO_HASH = 32  # images downloaded and not yet hashed, per crawl


class ImageHasher:
    """Downloads and hashes images through one shared HTTP client.

    An image seen before is asked for conditionally, and bytes seen before (at this URL or
    any other) are not hashed again. With `reuse_fresh_s`, an image the store confirmed less
    than that long ago, and said may be reused at least that long (Cache-Control max-age), is
    not asked for at all: what a browser's cache does, bounded by the caller's patience.
    `politeness` (the crawl's per-origin limits) holds a request slot only while downloading;
    `hash_with` hashes the bytes and makes their thumbnail (`crawler.hashing.hash_and_thumbnail`,
    by default on a thread; `crawler.hash_workers` for processes); the thumbnails of the images
    hashed are in `thumbnails` (by sha256), their packed local features in `features`. Bytes
    seen before get neither: theirs are kept already.
    `deadline_s` bounds each whole download (an image sent a byte a second never lets one
    read time out).
    """

    def __init__(self, client: httpx.AsyncClient, known: dict[str, ImageInfo] | None = None,
                 *, politeness=None, now: Callable[[], datetime] | None = None,
                 reuse_fresh_s: float = 0.0, deadline_s: float = 15.0,
                 hash_with: Callable[[bytes], Awaitable[dict]] | None = None,
                 not_modified: NotModifiedCheck | None = None):
        self.client = client
        self.not_modified = not_modified or NotModifiedCheck(0)
        self.known = known or {}
        self.politeness = politeness
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.reuse_fresh_s = reuse_fresh_s
        self.deadline_s = deadline_s
        self.hash_with = hash_with or (lambda data: asyncio.to_thread(hash_and_thumbnail, data))
        self.thumbnails = ThumbnailSpool()
        self.features = BlobSpool()
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
            info, not_modified = await self._fetch(url, previous)
            if not (not_modified and self.not_modified.draw()):
                return info
            # The 304 checked (crawler.not_modified): the picture asked for whole.
            whole, _ = await self._fetch(url, None)
            if whole.error is None and same_photo(whole, previous) is False:
                self.not_modified.found_false(url, "its picture")
            return whole

    async def _fetch(self, url: str, previous: ImageInfo | None) -> tuple[ImageInfo, bool]:
        """The image, and whether the store answered 304 Not Modified for it."""
        checked = dict(checked_at=self.now().isoformat())
        # Asked for conditionally only when its hashes are on record to fall back on.
        headers = conditional_headers(self.not_modified.validators(
            previous if previous and previous.sha256 else None))
        try:
            async with (self._slot(url), asyncio.timeout(self.deadline_s),
                        self.client.stream("GET", url, headers=headers) as response):
                checked["max_age"] = max_age(response.headers)
                if response.status_code == 304 or response.status_code >= 400:
                    # A response closed unread closes its keep-alive connection too; read
                    # within the cap (an error body is the store's as much as an image is).
                    await read_capped(response, MAX_IMAGE_BYTES, _too_large)
                if response.status_code == 304 and previous:
                    return replace(previous, **checked), True
                if response.status_code >= 400:
                    return ImageInfo(url, error=f"HTTP {response.status_code}"), False
                data = await read_capped(response, MAX_IMAGE_BYTES, _too_large)
                validators = dict(etag=response.headers.get("etag"),
                                  last_modified=response.headers.get("last-modified"))
        except ImageRefused as e:
            return ImageInfo(url, error=str(e)), False
        except (httpx.TimeoutException, TimeoutError):
            return ImageInfo(url, error=f"download {timed_out(self.deadline_s)}"), False
        except httpx.HTTPError as e:
            return ImageInfo(url, error=f"download failed: {type(e).__name__}: {e}"), False
        return await self._hashed(url, previous, data, validators, checked), False

    async def _hashed(self, url: str, previous: ImageInfo | None, data: bytes,
                      validators: dict, checked: dict) -> ImageInfo:
        """What a download's bytes are: hashes kept from before, or hashed now."""
        self.downloads += 1
        sha = hashlib.sha256(data).hexdigest()
        same = previous if previous and previous.sha256 == sha else self.by_sha.get(sha)
        if same is not None:
            # Bytes hashed before: keep their hashes, remember this URL's validators.
            return replace(same, url=url, error=None, **validators, **checked)
        try:
            hashed = dict(await self.hash_with(data))
        except ImageRefused as e:
            return ImageInfo(url, error=str(e), bytes=len(data), etag=validators["etag"])
        del data  # the full bytes go now: only the hashes and the thumbnail stay
        thumbnail = hashed.pop("thumbnail", None)
        if thumbnail is not None:
            self.thumbnails.add(sha, thumbnail)
        features = hashed.pop("features", None)
        if features is not None:
            self.features.add(sha, features)
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


class BlobSpool(Mapping[str, bytes]):
    """key -> bytes, held in memory up to `in_memory` bytes and in an unnamed temporary file
    past that: the first crawl of a big store makes thousands of thumbnails and feature sets,
    and they wait for the crawl to end before the ledger keeps them. A key added twice keeps
    its first bytes."""

    def __init__(self, in_memory: int = 8 * 1024 * 1024):
        self._file = tempfile.SpooledTemporaryFile(max_size=in_memory)
        self._where: dict[str, tuple[int, int]] = {}  # offset, size

    def add(self, key: str, data: bytes) -> None:
        if key in self._where:
            return
        offset = self._file.seek(0, 2)
        self._file.write(data)
        self._where[key] = (offset, len(data))

    def __getitem__(self, key: str) -> bytes:
        offset, size = self._where[key]
        self._file.seek(offset)
        return self._file.read(size)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def close(self) -> None:
        self._file.close()
        self._where.clear()


class ThumbnailSpool(Mapping[str, Thumbnail]):
    """sha256 -> Thumbnail of each image a crawl hashed: the JPEGs in a BlobSpool."""

    def __init__(self, in_memory: int = 8 * 1024 * 1024):
        self._jpegs = BlobSpool(in_memory)
        self._sizes: dict[str, tuple[int, int]] = {}

    def add(self, sha256: str, thumbnail: Thumbnail) -> None:
        if sha256 in self._sizes:
            return
        self._jpegs.add(sha256, thumbnail.jpeg)
        self._sizes[sha256] = (thumbnail.width, thumbnail.height)

    def __getitem__(self, sha256: str) -> Thumbnail:
        return Thumbnail(self._jpegs[sha256], *self._sizes[sha256])

    def __iter__(self) -> Iterator[str]:
        return iter(self._sizes)

    def __len__(self) -> int:
        return len(self._sizes)

    def close(self) -> None:
        self._jpegs.close()
        self._sizes.clear()


def _too_large(how: str) -> ImageRefused:
    return ImageRefused(f"too large: {how}")


def max_age(headers: httpx.Headers) -> int | None:
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
