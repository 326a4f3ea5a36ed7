"""`make bench` section "extraction": how often the crawl reads a product page right, on pages
it was never tuned for.

The set (`bench/extraction_set/`): hand-written product pages in the styles of Shopify,
WooCommerce, Magento, Taobao/Tmall, JD and hand-made shops, in several languages and
currencies, with variant offers, markup/visible disagreements, JavaScript-filled prices,
placeholders and gallery thumbnails; `expected.json` holds what a shopper reads on each
(price, list price, availability, the number of the listing's own photos), written by hand.

Each page is served from 127.0.0.1 at its own path and read by the real crawl (plain HTTP
first, Chromium when the page needs it, the images downloaded and hashed), with the default
selectors and the page's currency as the store's default, as a merchant's contract would
have it. Pictures are served as a real store serves them: each photo is one drawing, and a
URL with a size suffix (`_200x`, `-150x150`, `_thumb`, `?width=`) is a resized copy of it.

The naive way, in the same run: the first price-looking text in the page, "in stock" unless
the page says out of stock in English, and every <img> on the page.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from PIL import Image, ImageDraw

from .table import Row

SECTION = "extraction"
SET = Path(__file__).resolve().parent / "extraction_set"
TARGETS = {"price": 0.97, "availability": 0.97, "image_count": 0.98}
_SIZE_SUFFIX = re.compile(r"(?:[_-](?:\d+x\d*|\d*x\d+|\d{3,4}|thumb(?:nail)?|small|medium|large|mini|sm|"
                          r"[sml])|@\dx)+(?=\.\w+$)", re.IGNORECASE)
# How stores' image servers name the sizes of one photo, beside a size suffix: a CDN's size
# after the name (`.jpg_50x50.jpg`, `.jpg!middle.jpg`, `.jpg.avif`), a size folder (`/s/`,
# `/thumbs/`, `/120/`, `/n5/s54x54_jfs/`) or Magento's cache folder per size.
_SIZE_FORMS = [
    (re.compile(r"(\.(?:jpe?g|png|webp))(?:_\d+x\d+(?:q\d+)?\.\w+|![a-z]+\.\w+|\.avif|\.webp)$", re.I), r"\1"),
    (re.compile(r"/(?:s|l|m|thumbs?|large|small|medium|zoom|big|grand|mini|petit|moyen|"
                r"\d{2,4}|n\d)/", re.I), "/"),
    (re.compile(r"/s\d+x\d+_", re.I), "/"),
    (re.compile(r"/cache/[0-9a-f]{32}/", re.I), "/"),
]
# Addresses that name a vocabulary, not a place to fetch from: left as they are.
_VOCABULARIES = ("schema.org", "www.w3.org", "ogp.me", "purl.org")


def photo_key(path: str) -> str:
    """The photo a picture's address shows, whatever size it asks for."""
    key = path
    for form, to in _SIZE_FORMS:
        key = form.sub(to, key)
    return _SIZE_SUFFIX.sub("", key)


@lru_cache(maxsize=None)
def _photo(key: str) -> Image.Image:
    rng = random.Random(key)
    img = Image.new("RGB", (800, 800), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x, y, w, h = rng.randrange(700), rng.randrange(700), rng.randrange(60, 400), \
            rng.randrange(60, 400)
        draw.ellipse((x, y, x + w, y + h), fill=tuple(rng.randrange(256) for _ in range(3)))
    return img


def served_at(url: str, page_url: str) -> str:
    """Where the bench's server serves a picture the page names as `url`: its path and
    query, under /_cdn/<host> when it is on another host than the page's (as `_local`
    rewrites the page)."""
    absolute = urlsplit(urljoin(page_url, url))
    home = urlsplit(page_url).netloc
    path = absolute.path if absolute.netloc in ("", home) else f"/_cdn/{absolute.netloc}{absolute.path}"
    return path + (f"?{absolute.query}" if absolute.query else "")


def photo_groups(pages: dict[str, dict]) -> dict[str, tuple[str, bool]]:
    """For pages whose entry lists its `photos` (each photo's URLs, the largest first): where
    each URL is served -> (the photo's drawing, whether it is a smaller copy)."""
    served: dict[str, tuple[str, bool]] = {}
    for name, want in pages.items():
        for number, urls in enumerate(want.get("photos") or []):
            for i, url in enumerate(urls):
                served[served_at(url, want["url"])] = (f"{name}#{number}", i > 0)
    return served


def _picture(path: str, query: str, groups: dict[str, tuple[str, bool]]) -> bytes:
    """One drawing per photo; a sized URL is a smaller copy of the same drawing. A page that
    lists its photos says which URLs are one photo; for the others, the URL's size suffix
    says."""
    place = path + (f"?{query}" if query else "")
    if place in groups:
        key, sized = groups[place]
    else:
        key = photo_key(path)
        sized = key != path or "width=" in query or "w=" in query
    img = _photo(key)
    if sized:
        img = img.resize((200, 200))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _where(url: str) -> str:
    """Where a page is served on the bench's server: its path and query (two Taobao
    listings are both /item.htm, told apart by ?id=)."""
    parts = urlsplit(url)
    return unquote(parts.path) + (f"?{parts.query}" if parts.query else "")


def _local(html: str, home: str, here: str) -> str:
    """The page as its own store would serve it from `here`: its own origin is this server,
    and every other host it names (its CDNs: img.alicdn.com, 360buyimg.com, cdn.shopify.com)
    is this server too, under /_cdn/<host>, as a contract's `origins` would allow them."""
    home_host, here_host = urlsplit(home).netloc, urlsplit(here).netloc

    def one(m: re.Match) -> str:
        scheme, slash, host = m.group(1) or "", m.group(2), m.group(3)
        if host in _VOCABULARIES or host == here_host:
            return m.group(0)
        where = here_host if host == home_host else f"{here_host}{slash}_cdn{slash}{host}"
        return f"{'http:' if scheme else ''}{slash}{slash}{where}"

    return re.sub(r"(https?:)?(\\?/)\2([a-z0-9][a-z0-9.-]*\.[a-z]{2,}(?::\d+)?)", one, html,
                  flags=re.I)


def _app(pages: dict[str, str]):
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    by_place = {_where(v["url"]): k for k, v in pages.items()}
    groups = photo_groups(pages)

    async def anything(request):
        path = request.url.path
        place = path + (f"?{request.url.query}" if request.url.query else "")
        if place in by_place:
            name = by_place[place]
            home = "{0.scheme}://{0.netloc}".format(urlsplit(pages[name]["url"]))
            html = (SET / "pages" / name).read_text(encoding="utf-8")
            return HTMLResponse(_local(html, home, str(request.base_url).rstrip("/")))
        if re.search(r"\.(jpe?g|png|webp|gif|avif)$", path, re.IGNORECASE):
            return Response(_picture(path, request.url.query, groups), media_type="image/jpeg")
        return Response("not here", status_code=404)

    return Starlette(routes=[Route("/{rest:path}", anything)])


def load_set() -> tuple[dict[str, dict], set[str]]:
    """Every page's expected values (`expected.json` and each `expected-<batch>.json`), and
    the names of the held-out pages (`expected-heldout.json`): written by someone else and
    never looked at while the extraction was tuned, so their figure says how it does on
    pages it has not seen."""
    expected: dict[str, dict] = {}
    held_out: set[str] = set()
    for path in sorted(SET.glob("expected*.json")):
        batch = json.loads(path.read_text(encoding="utf-8"))
        expected.update(batch)
        if path.stem == "expected-heldout":
            held_out |= set(batch)
    return expected, held_out


def _naive(html: str) -> dict:
    from crawler.prices import parse_price

    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    price = None
    for m in re.finditer(r"[¥￥$€£]\s?[\d.,]+|[\d.,]+\s?(?:€|元|円|KWD)", text):
        parsed = parse_price(m.group())
        if parsed is not None:
            price = parsed.amount
            break
    out = re.search(r"out of stock|sold out", text, re.I)
    return {"price": price, "availability": "OutOfStock" if out else "InStock",
            "image_count": len(re.findall(r"<img\b", html, re.I))}


def _same(field: str, got, want) -> bool:
    if field in ("price", "list_price"):
        return (got is None and want is None) or (
            got is not None and want is not None and Decimal(str(got)) == Decimal(str(want)))
    return got == want


FIELDS = ("price", "list_price", "availability", "image_count")


def platform_of(want: dict, named: bool) -> str:
    """The platform a merchant's contract names for the page's store (as `storeaudit init
    --from` writes it), when storeaudit has a preset for it; else (or not `named`) generic."""
    from crawler.presets import PLATFORMS

    platform = want.get("platform") or "generic"
    return platform if named and platform in PLATFORMS else "generic"


def measure(pages: dict[str, dict], named: bool = True
            ) -> tuple[dict[str, dict], dict[str, dict]]:
    """What the real crawl reads on each page, and what the naive way reads. `named`: each
    store's contract names its platform (else every page is read as a generic store's)."""
    from types import SimpleNamespace

    from crawler.config import CrawlConfig
    from crawler.extract import Selectors
    from crawler.crawl import crawl_sync
    from crawler.presets.pages import platform_selectors
    from demostore.server import run_in_thread

    ours: dict[str, dict] = {}
    naive: dict[str, dict] = {}
    # Served the way the sample store is (demostore.server runs any object with an `asgi`).
    with run_in_thread(SimpleNamespace(asgi=_app(pages), day=None, size=len(pages))) as running:
        base = running.url
        by_store = defaultdict(list)
        for name, want in pages.items():
            by_store[want.get("currency") or "USD", platform_of(want, named)].append(name)
        for (currency, platform), group in by_store.items():
            config = CrawlConfig(base_url=base, default_currency=currency, platform=platform,
                                 selectors=platform_selectors(platform, Selectors.defaults()),
                                 urls=[_where(pages[n]["url"]) for n in group])
            # Read as whole stores are: the store's own pictures are told apart.
            result = crawl_sync(replace(config, retries=0), whole_store=True)
            by_url = {_where(s.url): s for s in result.snapshots}
            for name in group:
                snap = by_url.get(_where(pages[name]["url"]))
                ours[name] = {"price": snap.price, "list_price": snap.list_price,
                              "availability": snap.availability,
                              "image_count": len(snap.image_urls),
                              "note": snap.price_note} if snap and snap.ok else \
                    {"error": snap.error if snap else "not read"}
                naive[name] = _naive((SET / "pages" / name).read_text(encoding="utf-8"))
    return ours, naive


def run(quick: bool) -> list[Row]:
    expected, held_out = load_set()
    names = sorted(expected)[: 12 if quick else None]
    pages = {n: expected[n] for n in names}
    ours, naive = measure(pages)
    generic, _ = measure(pages, named=False)
    rows = []
    misses: dict[str, list[str]] = defaultdict(list)
    apart = [n for n in names if n in held_out]
    for field in FIELDS:
        right = [n for n in names if _same(field, ours[n].get(field), pages[n].get(field))]
        for n in names:
            if n not in right and n not in held_out:  # the held-out pages are not looked at
                misses[field].append(n)
        rate = len(right) / len(names)
        held = f"; held out: {sum(n in right for n in apart) / len(apart):.0%} of {len(apart)}" \
            if apart else ""
        naive_rate = None
        if field != "list_price":
            naive_rate = sum(_same(field, naive[n].get(field), pages[n].get(field))
                             for n in names) / len(names) * 100
        target = TARGETS.get(field)
        rows.append(Row(SECTION, f"{field.replace('_', ' ')} right", rate * 100, "%",
                        naive=naive_rate,
                        target=f">= {target:.0%}" if target else None,
                        met=None if target is None else rate >= target,
                        note=f"{len(names)} pages{held}" + (
                            f"; missed: {', '.join(m.split('-')[0] for m in misses[field][:12])}"
                            if misses[field] else "")))
    for field in FIELDS:  # the same pages with no platform named in the contract
        rate = sum(_same(field, generic[n].get(field), pages[n].get(field))
                   for n in names) / len(names)
        rows.append(Row(SECTION, f"{field.replace('_', ' ')} right, no platform named",
                        rate * 100, "%", note="every page read with the generic selectors"))
    return rows


def main(argv: list[str]) -> None:
    """`python -m bench.extraction [PAGE-PREFIX …]`: what was read wrong on each page, beside
    what a shopper reads (for working on the extraction; the held-out pages only when
    named). GENERIC=1: with no platform named."""
    expected, held_out = load_set()
    names = [n for n in sorted(expected) if (any(n.startswith(a) for a in argv) if argv
                                             else n not in held_out)]
    pages = {n: expected[n] for n in names}
    ours, _ = measure(pages, named=os.environ.get("GENERIC") != "1")
    wrong = 0
    for name in names:
        got, want = ours[name], pages[name]
        bad = [f for f in FIELDS if not _same(f, got.get(f), want.get(f))]
        if bad:
            wrong += 1
            print(f"{name}: " + "; ".join(f"{f} {got.get(f)} (want {want.get(f)})" for f in bad)
                  + (f" — note: {got.get('note')}" if got.get("note") else "")
                  + (f" — error: {got['error']}" if got.get("error") else ""))
    print(f"{wrong} of {len(names)} pages read wrong")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
