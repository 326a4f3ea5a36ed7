"""A gallery the page's script draws from data in the page: Magento's gallery JSON
(`text/x-magento-init`), Hyvä's and Next.js stores' data, Taobao's and JD's item data,
Shopify's product JSON. The HTML then shows only a placeholder or the first photo.

Every inline script is searched for a list under a gallery-like key (`images`, `data`,
`gallery`, `imageList`, `pictures`, `media`…) whose entries are picture URLs or objects with
one (`full`, `img`, `large`, `url`, `src`…). A list counts as this listing's gallery only if
it names a photo the page itself shows as this listing's (the main picture, the markup's
image, og:image: `known`), by the photo's file name, whatever size the URL asks for; of
those, the longest is taken. Nothing in a script is run.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable
from urllib.parse import unquote, urlsplit

from crawler.extract.document import absolute_url, dedupe_urls

_MAX_SCRIPT = 2_000_000         # characters of inline script read per page
_MAX_LIST = 100                 # entries of one list read
_KEY = re.compile(r'["\']?(?:images|imageList|imgList|image_list|pictures|picList|gallery|'
                  r'galleryImages|media|mediaGallery|media_gallery|photos|viewImageData|'
                  r'data|itemImages|auctionImages|item_imgs)["\']?\s*:\s*\[', re.I)
_URL_KEYS = ("full", "large", "zoom", "original", "img", "image", "url", "src", "big",
             "imageUrl", "image_url", "imgUrl", "picUrl", "medium", "thumb", "thumbnail")
_PICTURE = re.compile(r"\.(?:jpe?g|png|webp|gif|avif)(?:$|[?!_#@])", re.I)
_SIZE = re.compile(r"(?:[_-]\d+x\d*\w*|[_-]x?\d+x\d+q?\d*|_(?:thumb|small|medium|large|big|"
                   r"grande|master)|@\dx)$", re.I)


def photo_name(url: str) -> str:
    """The photo a picture URL shows, whatever size it asks for: its file name without
    extension and size suffix ("…/urbano-e7-seite.jpg", "…/cache/9f…/urbano-e7-seite.jpg"
    and "urbano-e7-seite_300x300.jpg" are one photo; Taobao's "O1CN01…!!123.jpg_60x60.jpg"
    is "O1CN01…!!123")."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]).lower()
    name = re.split(r"\.(?:jpe?g|png|webp|gif|avif)", name, maxsplit=1)[0]
    return _SIZE.sub("", name)


def _lists(text: str) -> Iterable[list[Any]]:
    for match in _KEY.finditer(text):
        start = match.end() - 1
        depth, end, quote, escaped = 0, None, "", False
        for i in range(start, min(len(text), start + 200_000)):
            ch = text[i]
            if quote:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        if end is None:
            continue
        try:
            value = json.loads(text[start:end])
        except ValueError:
            continue
        if isinstance(value, list) and value:
            yield value[:_MAX_LIST]


def _entry_url(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry if _PICTURE.search(entry) else None
    if isinstance(entry, dict):
        if entry.get("type") not in (None, "image", "IMAGE", "photo") or entry.get("disabled"):
            return None
        for key in _URL_KEYS:
            value = entry.get(key)
            if isinstance(value, str) and _PICTURE.search(value):
                return value
            if isinstance(value, dict):  # {"image": {"url": …}}
                found = _entry_url(value)
                if found:
                    return found
    return None


def inline_gallery(tree: Any, base: str, known: Iterable[str]) -> list[str]:
    """The photos of the page's inline gallery data that names one of the `known` photos;
    [] when none does."""
    names = {photo_name(u) for u in known if u}
    names.discard("")
    if not names:
        return []
    text = "\n".join(str(s.text or "") for s in tree.iter("script")
                     if (s.get("type") or "").lower() not in ("application/ld+json",))
    best: list[str] = []
    for entries in _lists(text[:_MAX_SCRIPT]):
        urls = [u for e in entries if (u := _entry_url(e))]
        if len(urls) < len(entries) / 2 or not urls:
            continue  # a list of something else that mentions a picture
        absolute = dedupe_urls(absolute_url(base, u.replace("\\/", "/")) for u in urls)
        if len(absolute) > len(best) and names & {photo_name(u) for u in absolute}:
            best = absolute
    return best


__all__ = ["inline_gallery", "photo_name"]
