"""The product block: the part of a page around the product's title that is about this
listing, and the parts of it that are not (other products' cards and sections, the site's
frame, the header's cart, anything hidden).

"Beside the title": the product block is the nearest ancestor of the title (`title_element`)
that holds what is looked for; its parts that belong to something else are left out
(`shown_elements`), and so is anything the page hides, by an attribute, an inline style, a
style rule (`styles`) or, on a rendered page, a style sheet (the browser's HIDDEN_MARK,
`crawler.browser_fetch`), and what `others` marked as another product's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.extract.document import collapse_text, element_text

CLIMB = 8  # ancestors of the title looked at for the product block

# Containers that are not this listing's: other products, the site's frame, hidden parts.
# (An <aside> is often the buy box beside the product, not the site's sidebar.)
_SKIP_TAGS = {"header", "footer", "nav", "script", "style", "noscript", "template",
              "select", "option", "button", "label", "svg", "iframe", "head", "title"}
_FRAME = {"header", "footer", "nav", "template", "noscript"}
_SKIP_WORDS = {
    "related", "recommend", "recommended", "recommendations", "recommendation", "upsell",
    "upsells", "crosssell", "cross", "recent", "recently", "viewed", "also", "similar",
    "osusume", "rec", "more", "others", "minicart", "header", "footer",
    "menu", "breadcrumb", "breadcrumbs", "crumb", "pankuzu", "review", "reviews",
    "comment", "comments", "payment", "payments", "newsletter", "cookie", "hidden",
    "hide", "displaynone", "invisible", "nodisplay", "sr", "screen", "install", "installment",
    "installments", "instalment",
    "instalments", "finance", "financing", "klarna", "afterpay", "coupon", "shipping",
    "logo", "icon", "icons", "replacement", "spare", "parts", "accessories", "successor",
    "bundle", "tier", "tiers", "bulk", "unitprice", "baseprice", "grundpreis",
}
# Boxes of other products: a selector's match in one is not this listing's.
OTHER_PRODUCT_WORDS = {"related", "recommend", "recommended", "recommendations", "upsell",
                       "upsells", "crosssell", "recent", "recently", "similar", "osusume",
                       "rec", "minicart", "accessories", "successor"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Written by the browser (crawler.browser_fetch) on what a style sheet strikes or hides, by
# `styles` on what a page's inline rules do, and by `mark_other_products`.
STRUCK_MARK, HIDDEN_MARK = "data-storeaudit-struck", "data-storeaudit-hidden"
OTHER_MARK = "data-storeaudit-other"
DESCRIPTION_MARK = "data-storeaudit-description"
MARKS = (STRUCK_MARK, HIDDEN_MARK)
_PICTURE_LINK = re.compile(r"\.(jpe?g|png|webp|gif|avif)(\?|$)", re.I)

# Boxes a gallery's pictures sit in.
GALLERY_WORDS = {
    "gallery", "thumb", "thumbs", "thumbnail", "thumbnails", "pic", "pics", "photo", "photos",
    "image", "images", "img", "imgs", "media", "slide", "slides", "slider", "swiper",
    "carousel", "zoom", "preview", "booth", "spec", "album", "viewer", "fotorama",
    "flexslider", "mainpic", "figure", "picture", "pictures", "lightbox", "foto", "fotos",
    "bild", "bilder", "imagen", "imagenes", "immagine", "immagini", "afbeelding",
    "afbeeldingen", "galerie", "galleria", "galeria", "miniature", "miniatures", "miniaturen",
    "vignette", "vignettes", "zdjecia", "bilde", "tupian", "zhutu", "datu", "xiaotu"}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_HASH = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9]{5,}$")  # a CSS module's hash: "1spszep"


@lru_cache(maxsize=16384)
def class_words(text: str) -> frozenset[str]:
    """The words of a class or id: "price__sale" -> price, sale; a CSS module's
    "Price--originPrice--1Z7ofAn" -> price, origin, originprice (its hash left out)."""
    # "no-js-hidden" hides a part only from a browser without JavaScript: shoppers see it.
    out: set[str] = set()
    for token in text.split():
        if token.lower().startswith("no-js"):
            continue
        for part in re.split(r"[^A-Za-z0-9]+", token):
            lower = part.lower()
            if not lower:
                continue
            pieces = [w.lower() for w in _CAMEL.split(part) if w]
            if _HASH.match(lower):  # "descV8": keep its words ("desc"), not the hash
                out.update(w for w in pieces if w.isalpha() and len(w) >= 3)
                continue
            out.add(lower)
            out.update(pieces)
    return frozenset(out)


def words(el: Any) -> frozenset[str]:
    """The words of an element's class and id (`class_words`)."""
    return class_words(f"{el.get('class') or ''} {el.get('id') or ''}")


def skipped(el: Any) -> bool:
    """Not this listing's, or not shown: the frame, another product's box, a hidden part."""
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in ("html", "body"):
        return False  # a theme's body classes ("ast-hfb-header") say nothing of a part
    if tag in _SKIP_TAGS or el.get("hidden") is not None or el.get(HIDDEN_MARK) is not None \
            or el.get(OTHER_MARK) is not None:
        return True
    if _HIDDEN_STYLE.search(el.get("style") or ""):
        return True
    return bool(words(el) & _SKIP_WORDS)


def shown_elements(root: Any, keep: frozenset = frozenset()):
    """The elements of `root` in document order, without the skipped containers' insides.
    The title's own containers are never skipped, whatever their classes say (a
    WooCommerce product's wrapper is "... shipping-taxable ... no-review"): `keep`."""
    stack = [root]
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or (el is not root and skipped(el) and el not in keep):
            continue
        yield el
        stack.extend(reversed(list(el)))


def shown_text(el: Any) -> str:
    """The element's text without its skipped parts (hidden, screen-reader-only, another
    product's), whitespace collapsed."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node.tag, str) and node is not el and skipped(node):
            parts.append(node.tail or "")
            return
        if isinstance(node.tag, str):
            if node.tag == "br":
                parts.append(" ")
            parts.append(node.text or "")
            for child in node:
                walk(child)
        if node is not el:
            parts.append(node.tail or "")

    walk(el)
    return " ".join("".join(parts).split())


_HIDDEN_WORDS = {"hidden", "hide", "displaynone", "none", "invisible", "dnone", "nodisplay"}


def hidden(el: Any) -> bool:
    """The element is not shown: it or a box around it is hidden (by an attribute, a style,
    a mark, or a class that says so: "hidden", "displaynone", "d-none")."""
    return any(a.get("hidden") is not None or a.get(HIDDEN_MARK) is not None
               or _HIDDEN_STYLE.search(a.get("style") or "") or words(a) & _HIDDEN_WORDS
               for a in (el, *el.iterancestors()))


def _in_frame(el: Any) -> bool:
    return any(a.tag in _FRAME or a.get("hidden") is not None or a.get(HIDDEN_MARK) is not None
               or _HIDDEN_STYLE.search(a.get("style") or "") for a in (el, *el.iterancestors()))


def _reading(el: Any, title: str) -> Any:
    """The deepest element under `el` whose text reads `title`."""
    deepest = el
    while True:
        inner = [c for c in deepest if isinstance(c.tag, str)
                 and collapse_text(element_text(c)) == title]
        if not inner:
            return deepest
        deepest = inner[0]


_TITLE_WORDS = {"title", "name", "subject", "hd", "heading", "goodsname", "itemname",
                "productname"}
_TITLE_PARTS = re.compile(r"\s+[|｜\-–—_·:：»]\s+|\s*[|｜]\s*")


def title_element(tree: Any, title: str | None) -> Any | None:
    """The element that shows the product's title: the page's shown <h1> that reads `title`
    (the markup's), else the element that reads it, else the first shown <h1>; a page with
    no <h1> and no title in its markup is searched for a part of its <title> ("Silk scarf |
    Shop") or og:title."""
    h1s = [el for el in tree.iter("h1") if not _in_frame(el)
           and collapse_text(element_text(el))]
    if title:
        for el in h1s:
            if collapse_text(element_text(el)) == title:
                return el
        for el in tree.iter():
            if isinstance(el.tag, str) and el.tag not in ("title", "meta", "script", "html",
                                                          "head", "body", "style") \
                    and collapse_text(element_text(el)) == title and not _in_frame(el):
                return _reading(el, title)
    if h1s:
        return h1s[0]
    names = [collapse_text(t) for t in tree.xpath("//title/text()|//meta[@property='og:title']"
                                                  "/@content")]
    parts = sorted({p.strip() for n in names if n for p in [n, *_TITLE_PARTS.split(n)]
                    if len(p.strip()) >= 4}, key=len, reverse=True)
    for part in parts:
        for el in tree.iter():
            if isinstance(el.tag, str) and el.tag not in ("title", "meta", "script", "html",
                                                          "head", "body", "style", "a") \
                    and collapse_text(element_text(el)) == part and not _in_frame(el):
                return _reading(el, part)
    # The name as the page writes it, inside a longer <title> ("【海雀 H7】海雀 H7 65英寸…
    # 【报价】-京东"): the longest title-like element whose text the <title> holds.
    whole = " ".join(n for n in names if n)
    best, length = None, 5
    for el in tree.iter("h2", "h3", "h4", "div", "p", "span", "strong", "em"):
        text = collapse_text(element_text(el)) or ""
        if len(text) > length and text in whole and not _in_frame(el) \
                and (el.tag in ("h2", "h3") or words(el) & _TITLE_WORDS):
            best, length = el, len(text)
    return _reading(best, collapse_text(element_text(best))) if best is not None else None


def top_block(title_el: Any) -> Any | None:
    """The title's outermost container below <body>, within CLIMB levels."""
    top, node = None, title_el.getparent()
    for _ in range(CLIMB):
        if node is None or node.tag in ("body", "html"):
            break
        top, node = node, node.getparent()
    return top


def in_another_part(el: Any) -> bool:
    """The element sits in the site's frame or in another product's box (related, recently
    viewed, the cart): a selector's match there is not this listing's."""
    return any(a.tag in _FRAME or a.get(OTHER_MARK) is not None or words(a) & OTHER_PRODUCT_WORDS
               for a in (el, *el.iterancestors()))


def links_elsewhere(href: str | None, page_url: str) -> bool:
    """The link goes to another page than this one (not a picture, not an anchor here)."""
    if not href or href.strip().startswith(("#", "javascript:", "data:")):
        return False
    if _PICTURE_LINK.search(href):
        return False
    there = urlsplit(urljoin(page_url, href.strip()))
    here = urlsplit(page_url)
    return (there.netloc, there.path.rstrip("/")) != (here.netloc, here.path.rstrip("/"))


def drop_page_marks(tree: Any, rendered: bool) -> None:
    """Take off marks the page wrote itself. A rendered page's STRUCK and HIDDEN marks are
    the browser's (it took the page's own off before writing them); the others are always
    the page's."""
    names = (OTHER_MARK, DESCRIPTION_MARK) if rendered else (*MARKS, OTHER_MARK,
                                                            DESCRIPTION_MARK)
    for el in tree.xpath("|".join(f"//*[@{n}]" for n in names)):
        for mark in names:
            el.attrib.pop(mark, None)


def block_with(title_el: Any, has: Any) -> Any | None:
    """The title's nearest container for which `has(container)` is true, below <body>."""
    node = title_el
    for _ in range(CLIMB):
        node = node.getparent()
        if node is None or not isinstance(node.tag, str) or node.tag in ("body", "html"):
            return None  # the whole page is not the product's block: its other products are
        if has(node):
            return node
    return None


def title_order(block: Any, title_el: Any, keep: frozenset) -> int:
    """Where the title comes among the block's shown elements: prices are near or far."""
    for order, el in enumerate(shown_elements(block, keep)):
        if el is title_el:
            return order
    return 0
