"""Pictures that are not a listing's own: the store's placeholder, its logo, a badge.

A picture shown on many listings belongs to the store, not to any one listing: counting it
makes every listing's image count wrong, and one match of it against the image registry would
flag every listing that shows it. It is recognised by its bytes (the same sha256, whatever
the URL; the URL when the picture could not be downloaded) on more than SHARED_SHARE of a
whole-store crawl's listings, and at least on MIN_LISTINGS of them, or as the only picture
of MIN_LISTINGS listings or more and at least PLACEHOLDER_SHARE of them (the store's "no
image" picture, where a few listings have no photo), or by a "no image" name on any number
of them, and left out of every listing's images. What a whole-store crawl found is kept by the caller and handed to the next
crawls (a spot-check sees too few listings to tell).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .snapshot import ImageInfo, Snapshot

# A store's "no image" picture by its name, on however few listings.
PLACEHOLDER = re.compile(
    r"placeholder|no[-_ ]?image|noimage|no[-_ ]?photo|image[-_ ]not[-_ ](?:found|available)|"
    r"not[-_ ]available|coming[-_ ]soon|non[-_ ]disponible|geen[-_ ]afbeelding|"
    r"kein(?:e)?[-_ ]bild|imagen[-_ ]no[-_ ]disponible|immagine[-_ ]non|brak[-_ ]zdj|"
    r"sem[-_ ]imagem|暂无图片|暫無圖片|画像なし|이미지\s*없음", re.I)
SHARED_SHARE = 0.2  # more than a fifth of the listings
MIN_LISTINGS = 3
# ... or the only picture of at least 3 listings and a twentieth of them: the store's "no
# image" picture, on the few listings that have no photo.
PLACEHOLDER_SHARE = 0.05


@dataclass(frozen=True)
class SharedImage:
    key: str            # the sha256 of its bytes, or its URL when it could not be read
    urls: tuple[str, ...]
    listings: int       # on how many listings of the crawl
    of: int             # of how many read


def image_key(url: str, images: Mapping[str, ImageInfo]) -> str:
    info = images.get(url)
    return info.sha256 if info is not None and info.sha256 else url


def find_shared(snapshots: Iterable[Snapshot],
                images: Mapping[str, ImageInfo]) -> dict[str, SharedImage]:
    """The pictures on more than SHARED_SHARE of the listings read (and on MIN_LISTINGS)."""
    read = [s for s in snapshots if s.ok]
    on: Counter[str] = Counter()
    urls: dict[str, list[str]] = {}
    for snap in read:
        keys = {}
        for url in snap.image_urls:
            keys.setdefault(image_key(url, images), url)
        for key, url in keys.items():
            on[key] += 1
            if url not in urls.setdefault(key, []):
                urls[key].append(url)
    only: Counter[str] = Counter(  # the listing's one picture: a "no image" placeholder's place
        image_key(s.image_urls[0], images) for s in read if len(s.image_urls) == 1)
    return {key: SharedImage(key, tuple(urls[key][:5]), count, len(read))
            for key, count in on.items()
            if (count >= MIN_LISTINGS and (count > SHARED_SHARE * len(read) or (
                only[key] == count and count >= PLACEHOLDER_SHARE * len(read))))
            or any(PLACEHOLDER.search(u) for u in urls[key])}


def leave_out(snapshots: Iterable[Snapshot], images: Mapping[str, ImageInfo],
              shared: Iterable[str]) -> None:
    """Take the shared pictures out of each listing's images (in place)."""
    keys = set(shared)
    if not keys:
        return
    for snap in snapshots:
        snap.image_urls = [u for u in snap.image_urls if image_key(u, images) not in keys]
