"""Finding the store's listing pages: the sitemap first, then category pages and their
pagination, or an explicit list the contract gives."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urljoin

import httpx
from lxml import etree, html as lxml_html

from .extract import Selectors, extract_card_links, extract_next_page
from .origins import same_origin

log = logging.getLogger(__name__)

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAPS = 50
MAX_CATEGORY_PAGES = 500


def canonical_url(url: str) -> str:
    """Drop fragments; the same page reached two ways must be one listing."""
    return url.split("#", 1)[0]


async def urls_from_sitemap(
    client: httpx.AsyncClient, sitemap_url: str, listing_pattern: re.Pattern,
    origins: Iterable[str] | None = None,
) -> list[str]:
    """Listing URLs in a sitemap (following sitemap indexes); [] when there is none.
    With `origins`, sitemaps and listings elsewhere are left out (a sitemap is the store's
    word, not a licence to fetch any address it names)."""
    origins = list(origins) if origins is not None else None
    elsewhere: list[str] = []

    def ours(url: str) -> bool:
        if origins is None or same_origin(url, origins):
            return True
        elsewhere.append(url)
        return False

    seen_maps: set[str] = set()
    pending = [sitemap_url]
    found: list[str] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    while pending and len(seen_maps) < MAX_SITEMAPS:
        url = pending.pop(0)
        if url in seen_maps:
            continue
        seen_maps.add(url)
        try:
            response = await client.get(url)
        except httpx.HTTPError as e:
            log.info("sitemap %s not fetched: %s", url, e)
            continue
        if response.status_code != 200:
            log.info("sitemap %s answered HTTP %s", url, response.status_code)
            continue
        try:
            root = etree.fromstring(response.content, parser)
        except etree.XMLSyntaxError as e:
            log.warning("sitemap %s is not valid XML: %s", url, e)
            continue
        if root.tag == f"{_SITEMAP_NS}sitemapindex":
            pending.extend(loc.text.strip() for loc in root.iter(f"{_SITEMAP_NS}loc")
                           if loc.text and ours(loc.text.strip()))
            continue
        for loc in root.iter(f"{_SITEMAP_NS}loc"):
            if loc.text and listing_pattern.search(loc.text.strip()) and ours(loc.text.strip()):
                found.append(canonical_url(loc.text.strip()))
    if elsewhere:
        log.warning("the sitemap names %d address(es) off the store's origins (%s), left out: "
                    "%s", len(elsewhere), ", ".join(origins or []), elsewhere[0][:200])
    return found


async def urls_from_categories(
    client: httpx.AsyncClient,
    start_url: str,
    category_pattern: re.Pattern,
    selectors: Selectors,
    origins: list[str],
) -> list[str]:
    """Listing URLs from the product cards of every category page linked from the start page,
    following each category's pagination."""
    try:
        home = await client.get(start_url)
    except httpx.HTTPError as e:
        log.warning("start page %s not fetched: %s", start_url, e)
        return []
    doc = lxml_html.fromstring(home.text or "<html/>")
    queue = []
    for href in doc.xpath("//a/@href"):
        absolute = canonical_url(urljoin(start_url, href))
        if category_pattern.search(absolute) and same_origin(absolute, origins):
            queue.append(absolute)
    found: list[str] = []
    visited: set[str] = set()
    while queue and len(visited) < MAX_CATEGORY_PAGES:
        page_url = queue.pop(0)
        if page_url in visited:
            continue
        visited.add(page_url)
        try:
            response = await client.get(page_url)
        except httpx.HTTPError as e:
            log.info("category page %s not fetched: %s", page_url, e)
            continue
        if response.status_code != 200:
            continue
        for link, _sku in extract_card_links(response.text, page_url, selectors):
            found.append(canonical_url(link))
        nxt = extract_next_page(response.text, page_url)
        if nxt and same_origin(nxt, origins):
            queue.append(canonical_url(nxt))
    return found


def unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))
