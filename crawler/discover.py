"""Finding the store's listing pages: the sitemap first, then category pages and their
pagination, or an explicit list the contract gives.

Sitemaps, the home page and category pages are the store's as much as its listings are: each
is read within the same caps as a listing page, its decompressed size included (a gzip
"bomb" sitemap is refused, not inflated), and within the page deadline. What could not be
read is noted (`Discovery.problems`), so a discovery that found nothing can say why."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from collections.abc import Iterable
from urllib.parse import urljoin

import httpx
from lxml import etree, html as lxml_html

from .extract import Selectors, extract_card_links, extract_next_page
from .fetch import PageTooLarge, get_capped, timed_out
from .origins import same_origin

log = logging.getLogger(__name__)

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAPS = 50
MAX_CATEGORY_PAGES = 500


@dataclass
class Discovery:
    """The listing pages found, and what could not be read on the way."""

    urls: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    over_max_pages: int = 0  # listing pages found past the crawl's max_pages: not read

    def note(self, what: str, url: str, problem: str) -> None:
        log.info("%s %s: %s", what, url, problem)
        self.problems.append(f"{what} {url[:200]}: {problem}")


async def _read(client: httpx.AsyncClient, url: str, deadline_s: float,
                found: Discovery, what: str) -> bytes | None:
    """The body of a discovery page, or None with the reason noted."""
    try:
        status, body, _ = await get_capped(client, url, deadline_s=deadline_s)
    except TimeoutError:
        found.note(what, url, timed_out(deadline_s))
        return None
    except PageTooLarge as e:
        found.note(what, url, f"too large: {e}")
        return None
    except httpx.HTTPError as e:
        found.note(what, url, f"not fetched: {type(e).__name__}: {e}")
        return None
    if status != 200:
        found.note(what, url, f"HTTP {status}")
        return None
    return body


def canonical_url(url: str) -> str:
    """Drop fragments; the same page reached two ways must be one listing."""
    return url.split("#", 1)[0]


async def urls_from_sitemap(
    client: httpx.AsyncClient, sitemap_url: str, listing_pattern: re.Pattern,
    origins: Iterable[str] | None = None, *, deadline_s: float = 15.0,
    found: Discovery | None = None,
) -> list[str]:
    """Listing URLs in a sitemap (following sitemap indexes); [] when there is none.
    With `origins`, sitemaps and listings elsewhere are left out (a sitemap is the store's
    word, not a licence to fetch any address it names). What could not be read is noted in
    `found`."""
    report = found if found is not None else Discovery()
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
        body = await _read(client, url, deadline_s, report, "sitemap")
        if body is None:
            continue
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError as e:
            report.note("sitemap", url, f"not valid XML: {e}")
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
    *,
    deadline_s: float = 15.0,
    found: Discovery | None = None,
) -> list[str]:
    """Listing URLs from the product cards of every category page linked from the start page,
    following each category's pagination. What could not be read is noted in `found`."""
    report = found if found is not None else Discovery()
    home = await _read(client, start_url, deadline_s, report, "home page")
    if home is None:
        return []
    doc = lxml_html.fromstring(_text(home) or "<html/>")
    queue = []
    for href in doc.xpath("//a/@href"):
        absolute = canonical_url(urljoin(start_url, href))
        if category_pattern.search(absolute) and same_origin(absolute, origins):
            queue.append(absolute)
    listings: list[str] = []
    visited: set[str] = set()
    while queue and len(visited) < MAX_CATEGORY_PAGES:
        page_url = queue.pop(0)
        if page_url in visited:
            continue
        visited.add(page_url)
        body = await _read(client, page_url, deadline_s, report, "category page")
        if body is None:
            continue
        text = _text(body)
        for link, _sku in extract_card_links(text, page_url, selectors):
            listings.append(canonical_url(link))
        nxt = extract_next_page(text, page_url)
        if nxt and same_origin(nxt, origins):
            queue.append(canonical_url(nxt))
    return listings


def _text(body: bytes) -> str:
    """A discovery page as text (UTF-8, and what is not UTF-8 replaced: only links are read)."""
    return body.decode("utf-8", "replace")


def unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))
