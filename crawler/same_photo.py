"""A listing's thumbnail and the full-size copy of the same photo are one image.

Galleries often show a photo twice: as a small thumbnail and at full size, at two URLs with
two sets of bytes. Counted twice, every such listing's image count is wrong. Two images of
one listing whose core phash differ by at most SAME_PHASH bits and core dhash by at most
SAME_DHASH (`imaging`; a 150-300 px thumbnail of a photo stays within 0-6 and 0-10) are
taken for one photo, and the copy with more pixels is kept, at the first one's place in the
gallery. Different photos of one listing differ by more: none of the 1,040 pairs of a
200-listing sample store is within both. An image that could not be hashed is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .snapshot import ImageInfo, Snapshot

SAME_PHASH, SAME_DHASH = 8, 10  # bits of 64


def _bits(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def _hashes(info: ImageInfo | None) -> tuple[str, str] | None:
    if info is None:
        return None
    phash, dhash = info.core_phash or info.phash, info.core_dhash or info.dhash
    return (phash, dhash) if phash and dhash else None


def same_photo(a: ImageInfo | None, b: ImageInfo | None) -> bool | None:
    """Whether two images are one photo (within SAME_PHASH and SAME_DHASH bits); None when
    either has no hashes to tell by."""
    mine, theirs = _hashes(a), _hashes(b)
    if mine is None or theirs is None:
        return None
    return _bits(mine[0], theirs[0]) <= SAME_PHASH and _bits(mine[1], theirs[1]) <= SAME_DHASH


def _pixels(info: ImageInfo) -> int:
    return (info.width or 0) * (info.height or 0)


def one_per_photo(snapshots: Iterable[Snapshot], images: Mapping[str, ImageInfo]) -> int:
    """Keep one copy of each photo in each listing's images (in place); how many were
    dropped."""
    dropped = 0
    for snap in snapshots:
        kept: list[str] = []
        for url in snap.image_urls:
            same = next((i for i, other in enumerate(kept)
                         if same_photo(images.get(url), images.get(other))), None)
            if same is None:
                kept.append(url)
                continue
            dropped += 1
            if _pixels(images[url]) > _pixels(images[kept[same]]):
                kept[same] = url
        snap.image_urls = kept
    return dropped
