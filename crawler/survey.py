"""A first look at a store nobody has set storeaudit up for (`storeaudit init --from URL`):
where its listings are listed, which URLs are listing pages, which platform it runs on, and
what its listing pages give when read.

Everything goes through the crawl's guarded client (the store's origin only, each page under
the page timeout and size cap). What was tried is kept in words (`Survey.tried`), so a store
that could not be read says what was looked at and what to set by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urljoin, urlsplit

import httpx
from lxml import html as lxml_html

from .discover import Discovery, canonical_url, unique, urls_from_sitemap
from .extract import extract_listing
from .fetch import PageTooLarge, get_capped, timed_out
from .guarded import crawl_client
from .origins import origin_of, same_origin

SITEMAP_PLACES = ("/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml")
GROUPS_TRIED = 6          # URL shapes tried as listing pages, the most common first
PAGES_PER_GROUP = 2       # pages of each shape read to tell
ANY_URL = re.compile(".")

# What gives a platform away on its home page (documented asset hosts, body classes, headers).
_PLATFORM_SIGNS: tuple[tuple[str, re.Pattern, str], ...] = (
    ("shopify", re.compile(r"cdn\.shopify\.com|Shopify\.shop|shopify-section"),
     "Shopify's CDN and theme sections on the home page"),
    ("woocommerce", re.compile(r"woocommerce|wp-content/plugins/woocommerce"),
     "WooCommerce's classes and plugin assets on the home page"),
    ("magento", re.compile(r"Magento_|mage/cookies|data-mage-init"),
     "Magento's modules (Magento_*, data-mage-init) on the home page"),
)
_PLATFORM_HOSTS = (("tmall", ".tmall.com"), ("taobao", ".taobao.com"), ("jd", ".jd.com"))


class SurveyFailed(RuntimeError):
    """The store's listings could not be found; the message says what was tried."""


@dataclass
class Survey:
    base_url: str
    title: str | None = None               # the home page's <title>
    platform: str = "generic"
    platform_why: str | None = None
    sitemap: str | None = None             # the sitemap that listed the listings (a path)
    listing_pattern: str | None = None     # the regex that tells a listing URL
    listing_urls: list[str] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)


def _path_shape(url: str) -> str:
    """What a listing URL's path looks like: its first segment ("/p/…" -> "p"), or for a
    one-segment path its ending ("/lamp-12.html" -> ".html")."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2:
        return parts[0]
    if parts and "." in parts[0]:
        return "." + parts[0].rsplit(".", 1)[1]
    return ""


def _shape_pattern(shape: str, left_out: Iterable[str] = (), bare: bool = False) -> str:
    if shape.startswith("."):
        return re.escape(shape) + "$"
    skip = "".join(f"(?!{re.escape(inner)}/)" for inner in sorted(left_out))
    return f"/{re.escape(shape)}/{skip}" + ("(?=[^/?#])" if bare else "")


def _inner_shape(url: str) -> str | None:
    """The second segment of a deeper path ("/catalogue/category/garden_3/" -> "category")."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return parts[1] if len(parts) >= 3 else None


async def _not_listings_within(client, group: list[str], shape: str, timeout_s: float,
                               survey: Survey) -> set[str]:
    """The deeper shapes inside a listing shape whose pages are not listings: Oscar's
    /catalogue/category/… beside its /catalogue/<product>/."""
    inner = Counter(i for u in group if (i := _inner_shape(u)))
    left_out = set()
    for name, count in inner.most_common(GROUPS_TRIED):
        if count < 2 or count > len(group) // 2:
            continue  # one odd page, or the listings themselves
        probe = next(u for u in group if _inner_shape(u) == name)
        if not await _is_listing(client, probe, timeout_s, survey):
            left_out.add(name)
            survey.tried.append(f"pages like {probe} ({count} of them): not listing pages, "
                                f"left out")
    return left_out


def detect_platform(home_html: str, headers: httpx.Headers, url: str) -> tuple[str, str | None]:
    host = (urlsplit(url).hostname or "").lower()
    for name, suffix in _PLATFORM_HOSTS:
        if host == suffix[1:] or host.endswith(suffix):
            return name, f"the address is on {suffix[1:]}"
    if any(h.lower().startswith("x-shopify") or h.lower() == "x-shopid" for h in headers):
        return "shopify", "Shopify's X-Shopify headers"
    for name, sign, why in _PLATFORM_SIGNS:
        if sign.search(home_html):
            return name, why
    return "generic", None


async def _get(client: httpx.AsyncClient, url: str, deadline_s: float,
               survey: Survey, what: str) -> tuple[str, httpx.Response] | None:
    try:
        status, body, response = await get_capped(client, url, deadline_s=deadline_s)
    except TimeoutError:
        survey.tried.append(f"{what} {url}: {timed_out(deadline_s)}")
        return None
    except (PageTooLarge, httpx.HTTPError) as e:
        survey.tried.append(f"{what} {url}: {type(e).__name__}: {e}")
        return None
    if status != 200:
        survey.tried.append(f"{what} {url}: HTTP {status}")
        return None
    return body.decode(response.encoding or "utf-8", "replace"), response


async def survey_store(base_url: str, *, timeout_s: float = 15.0) -> Survey:
    """Find the store's listings and their URL pattern, and guess its platform."""
    base_url = base_url.rstrip("/")
    origin = origin_of(base_url)
    survey = Survey(base_url)
    async with crawl_client([origin], timeout_s=timeout_s, concurrency=4) as client:
        home = await _get(client, base_url + "/", timeout_s, survey, "home page")
        links: list[str] = []
        if home is not None:
            text, response = home
            survey.platform, survey.platform_why = detect_platform(text, response.headers,
                                                                   base_url)
            doc = lxml_html.fromstring(text or "<html/>")
            title = doc.findtext(".//title")
            survey.title = " ".join(title.split()) if title else None
            links = unique(canonical_url(urljoin(base_url + "/", h))
                           for h in doc.xpath("//a/@href"))
            links = [u for u in links if same_origin(u, [origin])]
        candidates = await _from_sitemaps(client, base_url, origin, timeout_s, survey)
        if not candidates:
            candidates = await _from_links(client, links, origin, timeout_s, survey)
        if not candidates:
            raise SurveyFailed(_tried(survey, "no sitemap and no links to listing pages"))
        await _pick_listings(client, survey, candidates, timeout_s)
    return survey


async def _from_sitemaps(client, base_url: str, origin: str, timeout_s: float,
                         survey: Survey) -> list[str]:
    places = []
    robots = await _get(client, base_url + "/robots.txt", timeout_s, survey, "robots.txt")
    if robots is not None:
        places += [line.split(":", 1)[1].strip() for line in robots[0].splitlines()
                   if line.lower().startswith("sitemap:")]
    places += [base_url + p for p in SITEMAP_PLACES]
    for place in unique(places):
        if not same_origin(place, [origin]):
            survey.tried.append(f"sitemap {place}: not on the store's origin, not read")
            continue
        found = Discovery()
        urls = await urls_from_sitemap(client, place, ANY_URL, [origin], deadline_s=timeout_s,
                                       found=found)
        survey.tried += found.problems
        if urls:
            survey.sitemap = urlsplit(place).path or "/"
            return urls
        if not found.problems:
            survey.tried.append(f"sitemap {place}: lists no page")
    return []


async def _from_links(client, links: list[str], origin: str, timeout_s: float,
                      survey: Survey) -> list[str]:
    """Without a sitemap: the home page's links, and the links of the pages it links to
    that link to many (category pages)."""
    found = list(links)
    for url in links[:20]:
        page = await _get(client, url, timeout_s, survey, "page")
        if page is None:
            continue
        doc = lxml_html.fromstring(page[0] or "<html/>")
        more = [canonical_url(urljoin(url, h)) for h in doc.xpath("//a/@href")]
        found += [u for u in more if same_origin(u, [origin])]
    return unique(found)


async def _is_listing(client, url: str, timeout_s: float, survey: Survey) -> bool:
    page = await _get(client, url, timeout_s, survey, "page")
    if page is None:
        return False
    got = extract_listing(page[0], url)
    return bool(got.title) and (got.price is not None or "price" in got.placeholders
                                or got.sources.get("title") in ("jsonld", "microdata"))


async def _pick_listings(client, survey: Survey, candidates: list[str], timeout_s: float) -> None:
    """The URL shape whose pages read as listings, the most common first."""
    shapes = Counter(_path_shape(u) for u in candidates if _path_shape(u))
    for shape, _ in shapes.most_common(GROUPS_TRIED):
        group = [u for u in candidates if _path_shape(u) == shape]
        step = max(1, len(group) // PAGES_PER_GROUP)
        probes = group[::step][:PAGES_PER_GROUP]
        if all([await _is_listing(client, u, timeout_s, survey) for u in probes]):
            left_out = await _not_listings_within(client, group, shape, timeout_s, survey)
            # "/catalogue/" itself (all products) is a list, not a listing.
            bare = any(urlsplit(u).path.rstrip("/") == f"/{shape}" for u in candidates)
            survey.listing_pattern = _shape_pattern(shape, left_out, bare)
            survey.listing_urls = [u for u in group if _inner_shape(u) not in left_out]
            return
        survey.tried.append(f"pages like {probes[0]} ({len(group)} of them): not listing pages "
                            "(no title and price read)")
    raise SurveyFailed(_tried(survey, "none of the store's pages read as a listing"))


def _tried(survey: Survey, why: str) -> str:
    lines = "\n".join(f"  - {t}" for t in survey.tried[-12:]) or "  (nothing could be read)"
    return (f"could not find the listings of {survey.base_url}: {why}. Tried:\n{lines}\n"
            "Write the template with `storeaudit init` (without --from) and set by hand: "
            "store.sitemap (or store.urls, the listing pages), store.listing_pattern, and "
            "[store.selectors] for what the pages do not mark up.")


__all__ = ["Survey", "SurveyFailed", "detect_platform", "survey_store"]
