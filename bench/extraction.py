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
import random
import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from .table import Row

SECTION = "extraction"
SET = Path(__file__).resolve().parent / "extraction_set"
TARGETS = {"price": 0.97, "availability": 0.97, "image_count": 0.98}
_SIZE_SUFFIX = re.compile(r"([_-](\d+x\d*|\d*x\d+|thumb(nail)?|small|medium|large|mini)|@\dx)"
                          r"(?=\.\w+$)", re.IGNORECASE)


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


def _picture(path: str, query: str) -> bytes:
    """One drawing per photo; a sized URL is a smaller copy of the same drawing."""
    key = _SIZE_SUFFIX.sub("", path)
    sized = bool(_SIZE_SUFFIX.search(path)) or "width=" in query or "w=" in query
    img = _photo(key)
    if sized:
        img = img.resize((200, 200))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _app(pages: dict[str, str]):
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    by_path = {urlsplit(v["url"]).path: k for k, v in pages.items()}

    async def anything(request):
        path = request.url.path
        if path in by_path:
            name = by_path[path]
            # The page as its own store serves it: its own origin is this server's.
            home = "{0.scheme}://{0.netloc}".format(urlsplit(pages[name]["url"]))
            html = (SET / "pages" / name).read_text(encoding="utf-8")
            here = str(request.base_url).rstrip("/")
            html = html.replace(home, here).replace(home.replace("/", "\\/"),
                                                     here.replace("/", "\\/"))
            return HTMLResponse(html)
        if re.search(r"\.(jpe?g|png|webp|gif)$", path, re.IGNORECASE):
            return Response(_picture(path, request.url.query), media_type="image/jpeg")
        return Response("not here", status_code=404)

    return Starlette(routes=[Route("/{rest:path}", anything)])


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


def run(quick: bool) -> list[Row]:
    from types import SimpleNamespace

    from crawler.config import CrawlConfig
    from crawler.crawl import crawl_sync
    from demostore.server import run_in_thread

    expected = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
    names = sorted(expected)[: 12 if quick else None]
    pages = {n: expected[n] for n in names}
    ours: dict[str, dict] = {}
    naive: dict[str, dict] = {}
    # Served the way the sample store is (demostore.server runs any object with an `asgi`).
    with run_in_thread(SimpleNamespace(asgi=_app(pages), day=None, size=len(pages))) as running:
        base = running.url
        by_currency = defaultdict(list)
        for name, want in pages.items():
            by_currency[want.get("currency") or "USD"].append(name)
        for currency, group in by_currency.items():
            config = CrawlConfig(base_url=base, default_currency=currency,
                                 urls=[urlsplit(pages[n]["url"]).path for n in group])
            result = crawl_sync(replace(config, retries=0))
            by_url = {urlsplit(s.url).path: s for s in result.snapshots}
            for name in group:
                snap = by_url.get(urlsplit(pages[name]["url"]).path)
                ours[name] = {"price": snap.price, "list_price": snap.list_price,
                              "availability": snap.availability,
                              "image_count": len(snap.image_urls)} if snap and snap.ok else {}
                naive[name] = _naive((SET / "pages" / name).read_text(encoding="utf-8"))
    rows = []
    misses: dict[str, list[str]] = defaultdict(list)
    for field in ("price", "list_price", "availability", "image_count"):
        right = [n for n in names if _same(field, ours[n].get(field), pages[n].get(field))]
        for n in names:
            if n not in right:
                misses[field].append(n)
        rate = len(right) / len(names)
        naive_rate = None
        if field != "list_price":
            naive_rate = sum(_same(field, naive[n].get(field), pages[n].get(field))
                             for n in names) / len(names) * 100
        target = TARGETS.get(field)
        rows.append(Row(SECTION, f"{field.replace('_', ' ')} right", rate * 100, "%",
                        naive=naive_rate,
                        target=f">= {target:.0%}" if target else None,
                        met=None if target is None else rate >= target,
                        note=f"{len(names)} pages; missed: {', '.join(m[:2] for m in misses[field][:8])}"
                        if misses[field] else f"{len(names)} pages"))
    return rows
