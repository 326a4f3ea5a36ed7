"""The photos a product block shows: the pictures of the title's nearest container that has
any, without what is not a photo of this listing.

Not a photo of the listing: the site's frame, other products (their cards and sections),
reviews and their avatars, the description's own pictures (a "详情" page of long images, a
size chart), a video's cover, swatches of other colours, icons, logos, badges, payment marks,
lazy-loading placeholders and the store's "no image" picture. A carousel's hidden slides
are still the listing's photos, so a hidden part is not skipped here. The same photo at
several sizes (a thumbnail and its zoom) is told apart later, by its hashes
(`crawler.same_photo`); a picture on many listings, by its bytes (`crawler.shared_images`).
"""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import absolute_url, collapse_text, dedupe_urls, element_text
from crawler.extract.shown.block import (CLIMB, DESCRIPTION_MARK, GALLERY_WORDS, OTHER_MARK,
                                         OTHER_PRODUCT_WORDS, links_elsewhere, words)

_MAX_GALLERY = 40
_FRAME = {"header", "footer", "nav", "template", "noscript"}
# URL or alt text of a picture that is not a photo of the listing.
# URL or alt text of a picture that is not a photo of the listing (a word on its own: a
# "Wool Throw Blanket" is not a blank.gif).
_NOT_A_PHOTO = re.compile(
    r"(?<![a-z])(?:no[-_ ]?image|noimage|nophoto|no[-_]photo|image[-_]not[-_]found|placeholder|"
    r"blank|spacer|pixel|transparent|loading|lazy|logo|icons?|badges?|sprite|avatar|flags?|"
    r"rating|stars?|play[-_]?(?:overlay|button|icon)|video[-_]?(?:cover|poster|thumb)|"
    r"payments?|visa|mastercard|maestro|amex|paypal|klarna|afterpay|apple[-_ ]?pay|"
    r"google[-_ ]?pay|alipay|size[-_ ]?(?:chart|guide)|not\s+available|non\s+disponible|"
    r"visuel\s+non|geen\s+afbeelding)(?![a-z])|"
    r"暂无图片|支付宝|花呗|花唄|微信支付|银联|尺码表|尺碼表|größentabelle|guía\s+de\s+tallas|"
    r"guide\s+des\s+tailles|maattabel|tabela\s+de\s+medidas",
    re.I)
# Alibaba's CDN names a picture's size in it: "…-2-tps-48-48.png" is a 48 × 48 icon.
_TPS = re.compile(r"-tps-(\d+)-(\d+)\.", re.I)
_SMALL = 48  # px: a declared width or height this small is an icon, not a photo
_ICON_TPS = 200
# Boxes whose pictures are not the listing's photos.
_NOT_GALLERY = {"review", "reviews", "comment", "comments", "rating", "ratings", "ugc",
                "avatar", "avatars", "video", "poster", "play", "swatch", "swatches",
                "desc", "description", "descv8", "richtext", "rte", "detailcontent",
                "detaildesc", "logo", "icon", "icons", "badge", "badges", "payment",
                "payments", "guarantee", "service",
                "services", "promise", "trust", "share", "social", "sizechart", "sizeguide",
                "banner", "ad", "ads", "advert", "coupon", "qrcode", "qr"}
_NOT_GALLERY |= OTHER_PRODUCT_WORDS | {"seller", "sellers", "merchant", "vendor",
                                       "replacement", "successor", "accessories", "bundle",
                                       "parts", "spare", "more", "others", "also"}
_GALLERY = GALLERY_WORDS
_NOT_A_PHOTO_CLASS = {"logo", "icon", "badge", "avatar", "flag", "sprite", "payment", "emoji",
                      "placeholder", "spinner", "loader"}
_WORDY = {"review", "reviews", "comment", "comments", "rating", "ratings", "ugc"}
# A carousel's row of small copies of its slides.
_STRIP = {"indicators", "indicator", "thumbs", "thumbnails", "thumbnail", "thumb", "dots",
          "pager", "pagination", "nav", "navigation", "strip", "filmstrip"}
# Where a lazy-loading page keeps the real picture (the `src` being a placeholder), best
# first; a gallery's zoom copy is the same photo.
_URL_ATTRS = ("data-zoom-image", "data-large_image", "data-large", "data-zoom", "data-src",
              "data-original", "data-lazy-src", "data-lazy", "data-ks-lazyload", "data-echo",
              "src")


def shown_gallery(title_el: Any, base: str, keep: frozenset) -> list[str]:
    """The photos of the title's nearest container that has any in a gallery (a box whose
    class says "gallery", "thumbs", "slider", "photos"…), else that has any at all. Unlike a
    price, the gallery may sit straight under <body> beside the title's box (a mobile page):
    other products' pictures are told apart by their containers and links, not by distance."""
    node, anywhere, found = title_el, [], []
    for _ in range(CLIMB):
        node = node.getparent()
        if node is None or not isinstance(node.tag, str) or node.tag == "html":
            break
        in_gallery = _photos(node, base, keep, in_gallery=True)
        if found and not (len(in_gallery) > len(found) and set(found) <= set(in_gallery)):
            break
        if in_gallery:
            # The zoomed main photo may sit one box below the thumbnails: look one more up.
            found = in_gallery
            continue
        anywhere = anywhere or _photos(node, base, keep)
    return (found or anywhere)[:_MAX_GALLERY]


def _photos(block: Any, base: str, keep: frozenset, in_gallery: bool = False) -> list[str]:
    found = list(_pictures(block, base, keep, in_gallery))
    # A carousel's slides and its row of small copies, one for each: the slides. (The small
    # copies are often cropped to another shape, which their hashes cannot match.) A row is
    # the box of two pictures or more that says "indicators", "thumbs", "dots"…
    rows: dict[Any, list[str]] = {}
    for el, url in found:
        rows.setdefault(_row(el, block), []).append(url)
    copies = {box for box, urls in rows.items() if box is not None and words(box) & _STRIP
              and any(other is not box and not words(other) & _STRIP
                      and len(set(others)) == len(set(urls)) >= 2
                      for other, others in rows.items() if other is not None)}
    return dedupe_urls(url for el, url in found if _row(el, block) not in copies)


def _row(el: Any, block: Any) -> Any | None:
    """The nearest box around the picture that holds two pictures or more."""
    for box in _boxes(el.getparent(), block):
        if sum(1 for _ in box.iter("img")) >= 2:
            return box
    return None


def _pictures(block: Any, base: str, keep: frozenset, in_gallery: bool):
    for el in block.iter("img"):
        if _not_the_listings(el, block, keep, base):
            continue
        if in_gallery and not any(words(a) & _GALLERY for a in _boxes(el, block)):
            continue
        url = _picture_url(el, base)
        if url is None or _small(el, url) or _NOT_A_PHOTO.search(f"{url} {el.get('alt') or ''}") \
                or words(el) & _NOT_A_PHOTO_CLASS:
            continue
        yield el, url


def _boxes(el: Any, block: Any):
    node = el
    while node is not None and node is not block:
        yield node
        node = node.getparent()


def _not_the_listings(el: Any, block: Any, keep: frozenset, base: str) -> bool:
    """The picture sits where pictures are not the listing's photos (see the module doc)."""
    node = el
    while node is not None and node is not block:
        if node not in keep and (node.get(OTHER_MARK) is not None or node.tag in _FRAME
                                 or node.get(DESCRIPTION_MARK) is not None
                                 or _not_gallery_box(node)
                                 or (node.tag == "a" and links_elsewhere(node.get("href"), base))):
            return True
        node = node.getparent()
    return False


def _not_gallery_box(node: Any) -> bool:
    found = words(node) & _NOT_GALLERY
    if found and found <= _WORDY:
        # A review or comment holds words; a row of pictures named "review-images" (Tiki's
        # thumbnails) holds none.
        return len(collapse_text(element_text(node)) or "") >= 20
    return bool(found)


def _picture_url(el: Any, base: str) -> str | None:
    for attr in _URL_ATTRS:
        url = absolute_url(base, el.get(attr))
        if url and not url.startswith("data:") and not _NOT_A_PHOTO.search(url):
            return url
    srcset = el.get("data-srcset") or el.get("srcset") or ""
    first = srcset.split(",")[0].strip().split(" ")[0] if srcset else ""
    url = absolute_url(base, first)
    return url if url and not url.startswith("data:") else None


def _small(el: Any, src: str) -> bool:
    """An icon: a declared width or height of a few pixels, an SVG, or an Alibaba
    picture whose name says it is small (`src`: the picture's own URL, not a lazy
    placeholder's)."""
    for attr in ("width", "height"):
        try:
            if el.get(attr) is not None and int(float(el.get(attr))) <= _SMALL:
                return True
        except ValueError:
            pass
    if src.lower().split("?")[0].endswith(".svg"):
        return True
    tps = _TPS.search(src)
    return bool(tps) and int(tps.group(1)) <= _ICON_TPS and int(tps.group(2)) <= _ICON_TPS
