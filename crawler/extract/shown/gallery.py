"""The photos a product block shows: the pictures of the title's nearest container that
has any, without icons, logos, placeholders and other products' cards."""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import absolute_url, dedupe_urls
from crawler.extract.shown.block import CLIMB, shown_elements

_MAX_GALLERY = 40
_NOT_A_PHOTO = re.compile(r"no[-_ ]?image|noimage|nophoto|no[-_]photo|placeholder|blank|"
                          r"spacer|/s\.gif|pixel|暂无图片|logo|icon|badge|sprite|loading",
                          re.I)
_SMALL = 48  # px: a declared width or height this small is an icon, not a photo



def shown_gallery(title_el: Any, base: str, keep: frozenset) -> list[str]:
    """The photos of the title's nearest container that has any. Unlike a price, the
    gallery may sit straight under <body> beside the title's box (a mobile page): other
    products' pictures are told apart by their containers and links, not by distance."""
    node = title_el
    for _ in range(CLIMB):
        node = node.getparent()
        if node is None or not isinstance(node.tag, str) or node.tag == "html":
            break
        photos = _photos(node, base, keep)
        if photos:
            return photos[:_MAX_GALLERY]
    return []


def _photos(block: Any, base: str, keep: frozenset) -> list[str]:
    urls: list[str | None] = []
    for el in shown_elements(block, keep):
        if el.tag != "img":
            continue
        if any(a.tag == "a" and _elsewhere(a.get("href")) for a in el.iterancestors()):
            continue  # a card linking to another page: another product
        if _small(el.get("width")) or _small(el.get("height")):
            continue
        url = None
        for attr in ("data-src", "data-original", "data-lazy-src", "data-zoom-image",
                     "data-ks-lazyload", "src"):
            url = absolute_url(base, el.get(attr))
            if url and not url.startswith("data:"):
                break
            url = None
        if url is None or _NOT_A_PHOTO.search(f"{url} {el.get('alt') or ''}") \
                or url.lower().split("?")[0].endswith(".svg"):
            continue
        urls.append(url)
    return dedupe_urls(urls)


def _elsewhere(href: str | None) -> bool:
    if not href or href.startswith(("#", "javascript:")):
        return False
    return not re.search(r"\.(jpe?g|png|webp|gif|avif)(\?|$)", href, re.I)


def _small(value: str | None) -> bool:
    try:
        return value is not None and int(float(value)) <= _SMALL
    except ValueError:
        return False


