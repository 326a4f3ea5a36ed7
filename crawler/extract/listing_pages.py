"""Category (listing index) pages: the product cards' links and the next page, for discovery.

Used by `crawler.discover`; reads no product data.
"""

from __future__ import annotations

import logging
from urllib.parse import urldefrag

from crawler.extract.document import absolute_url, base_url, collapse_text, parse_html
from crawler.extract.selectors import Selectors, select_elements

log = logging.getLogger(__name__)


def extract_card_links(
    html: str, url: str, selectors: Selectors | None = None
) -> list[tuple[str, str | None]]:
    """(absolute product URL, data-sku or None) for each product card, in page order.

    A card is `selectors.card` (default `Selectors.defaults().card`); its link is the card
    itself when it is an <a href>, else its first <a href> with an http(s) target. Fragments
    are dropped and each URL is given once. Origins are not filtered: the caller does that.
    """
    tree = parse_html(html)
    if tree is None:
        return []
    card_selector = (selectors.card if selectors and selectors.card else None) or Selectors.defaults().card
    base = base_url(tree, url)
    problems: list[str] = []
    out: list[tuple[str, str | None]] = []
    index: dict[str, int] = {}
    for card in select_elements(tree, card_selector, problems, "card"):
        try:
            links = [card] if card.tag == "a" and card.get("href") else card.iter("a")
            link = None
            for a in links:
                link = absolute_url(base, a.get("href"))
                if link:
                    break
            if not link:
                continue
            link = urldefrag(link)[0]
            sku = collapse_text(card.get("data-sku"))
            if link in index:
                if sku and out[index[link]][1] is None:
                    out[index[link]] = (link, sku)
                continue
            index[link] = len(out)
            out.append((link, sku))
        except Exception:
            continue
    if problems:
        log.debug("card selector problems: %s", problems)
    return out


def extract_next_page(html: str, url: str) -> str | None:
    """The absolute URL of the next listing page (`link[rel=next]`, `a[rel=next]`), or None."""
    tree = parse_html(html)
    if tree is None:
        return None
    base = base_url(tree, url)
    here = urldefrag(url)[0]
    try:
        candidates = tree.xpath(
            "//link[@href][contains(concat(' ', translate(normalize-space(@rel),"
            " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' '), ' next ')]"
            " | //a[@href][contains(concat(' ', translate(normalize-space(@rel),"
            " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' '), ' next ')]"
        )
    except Exception:
        return None
    for el in candidates:
        link = absolute_url(base, el.get("href"))
        if link and urldefrag(link)[0] != here:
            return link
    return None
