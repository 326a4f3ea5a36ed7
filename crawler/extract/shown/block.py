"""The product block: the part of a page around the product's title that is about this
listing, and the parts of it that are not (related products, recently viewed, the header's
cart, anything hidden).

"Beside the title": the product block is the nearest ancestor of the title (the page's <h1>)
that holds what is looked for; its parts that belong to something else are left out
(`shown_elements`), and so is anything the page hides, by an attribute, an inline style or,
on a rendered page, a style sheet (the browser's HIDDEN_MARK, `crawler.browser_fetch`).
"""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import collapse_text, element_text

CLIMB = 8  # ancestors of the title looked at for the product block

# Containers that are not this listing's: other products, the site's frame, hidden parts.
_SKIP_TAGS = {"header", "footer", "nav", "aside", "script", "style", "noscript", "template",
              "select", "option", "button", "label", "svg", "iframe", "head", "title"}
_FRAME = {"header", "footer", "nav", "aside", "template", "noscript"}
_SKIP_WORDS = {
    "related", "recommend", "recommended", "recommendations", "recommendation", "upsell",
    "upsells", "crosssell", "cross", "recent", "recently", "viewed", "also", "similar",
    "osusume", "rec", "more", "others", "minicart", "header", "footer",
    "menu", "breadcrumb", "breadcrumbs", "crumb", "pankuzu", "review", "reviews",
    "comment", "comments", "payment", "payments", "newsletter", "cookie", "modal", "hidden",
    "hide", "sr", "screen", "install", "installment", "installments", "instalment",
    "instalments", "finance", "financing", "klarna", "afterpay", "coupon", "shipping",
    "logo", "icon", "icons", "replacement", "spare", "parts", "accessories", "successor",
    "bundle", "popup", "tier", "tiers", "bulk", "unit",
}
_OTHER_PRODUCTS = {"related", "recommend", "recommended", "recommendations", "upsell",
                   "upsells", "crosssell", "recent", "recently", "similar", "osusume", "rec",
                   "minicart", "accessories", "successor"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Written by the browser (crawler.browser_fetch) on what a style sheet strikes or hides.
STRUCK_MARK, HIDDEN_MARK = "data-storeaudit-struck", "data-storeaudit-hidden"
MARKS = (STRUCK_MARK, HIDDEN_MARK)


def words(el: Any) -> set[str]:
    """The words of an element's class and id ("price__sale" -> price, sale)."""
    # "no-js-hidden" hides a part only from a browser without JavaScript: shoppers see it.
    text = " ".join(t for t in f"{el.get('class') or ''} {el.get('id') or ''}".split()
                    if not t.lower().startswith("no-js"))
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def skipped(el: Any) -> bool:
    """Not this listing's, or not shown: the frame, another product's box, a hidden part."""
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in ("html", "body"):
        return False  # a theme's body classes ("ast-hfb-header") say nothing of a part
    if tag in _SKIP_TAGS or el.get("hidden") is not None or el.get(HIDDEN_MARK) is not None:
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


def title_element(tree: Any, title: str | None) -> Any | None:
    """The page's shown <h1> (the one that reads `title` when there are several), not one in
    the site's header or footer."""
    h1s = [el for el in tree.iter("h1") if not any(
        a.tag in _FRAME or a.get("hidden") is not None
        or _HIDDEN_STYLE.search(a.get("style") or "") for a in (el, *el.iterancestors()))]
    if title and h1s:
        for el in h1s:
            if collapse_text(element_text(el)) == title:
                return el
    if h1s:
        return h1s[0]
    if title:  # no <h1> (Taobao's title is an <h3>): the element that reads the title
        for el in tree.iter():
            if isinstance(el.tag, str) and el.tag not in ("title", "meta", "script") \
                    and collapse_text(element_text(el)) == title:
                deepest = el
                while True:
                    inner = [c for c in deepest if isinstance(c.tag, str)
                             and collapse_text(element_text(c)) == title]
                    if not inner:
                        return deepest
                    deepest = inner[0]
    return None


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
    return any(a.tag in _FRAME or words(a) & _OTHER_PRODUCTS for a in el.iterancestors())


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


def drop_page_marks(tree: Any) -> None:
    """Take off marks the page wrote itself: only the browser's own count (plain HTTP's
    HTML has none of its making)."""
    for el in tree.xpath("//*[@data-storeaudit-struck or @data-storeaudit-hidden]"):
        for mark in MARKS:
            el.attrib.pop(mark, None)
