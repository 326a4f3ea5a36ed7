"""The sample storefront as an ASGI app (Starlette + Jinja2, autoescaped).

    store = DemoStore(size=60, day=0)
    store.day = 4                        # tests move the scenario between crawls
    store.faults["/p/sh-0001-down-jacket"] = "503"
    app = store.asgi

The fault kinds (`store.faults`, `store.fault_times`, `store.retry_after`,
`store.offsite_url`, `store.timeout_seconds`) and the middleware that plays them are in
demostore/faults.py.

`store.shopper_prices[sku] = Decimal("199")` makes the store two-faced for that listing: a
request carrying a `session` cookie (a shopper's browser, logged in) is shown that price, one
without (the crawler keeps no session) the listing's own. The agency's trick the extension's
second witness catches. `store.false_not_modified = True` answers every conditional request
304 Not Modified, changed or not: the trick a check of the store's 304s catches.

`store.hits` counts requests by path prefix ("/p", "/c", "/img", "/api", "/sitemap.xml", "/" ...);
"/img:304" counts image requests answered 304 Not Modified, "/img:200" image bodies sent;
"/p:304" product pages answered 304 (product pages carry an ETag of their bytes).
`store.path_hits` counts by full path.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import images as imagegen
from . import scenario
from .catalog import CATEGORIES, SHOP_NAME, Product, build_products, format_price, plain_price
from .faults import StoreMiddleware

HERE = Path(__file__).parent
PER_PAGE = 12
SCHEMA_AVAILABILITY = "https://schema.org/{}"
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


@dataclass
class DayView:
    """One day's store, indexed for the routes (shared, read-only)."""

    products: tuple[Product, ...]
    by_sku: dict[str, Product] = field(default_factory=dict)
    by_slug: dict[str, Product] = field(default_factory=dict)
    live: list[Product] = field(default_factory=list)
    by_category: dict[str, list[Product]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_category = {c: [] for c in CATEGORIES}
        for p in self.products:
            self.by_sku[p.sku] = p
            self.by_slug[p.slug] = p
            if not p.removed and not p.hidden:
                self.live.append(p)
                self.by_category.setdefault(p.category, []).append(p)


class DemoStore:
    """The sample store: its size, the scenario day it shows, and the faults it plays."""

    def __init__(self, size: int = 60, day: int = 0, hostile_titles: bool = False,
                 timeout_seconds: float = 30.0,
                 draw_image: Callable[[str, int, str, str], bytes] | None = None) -> None:
        self.size = size
        # (sku, index, ext, category) -> image bytes; None: demostore.images.product_image.
        # The benchmark passes a quicker drawing so that it measures the audit, not Pillow.
        self.draw_image = draw_image
        self.day = day
        self.hour = scenario.NIGHTLY_HOUR  # the time of day it shows (store time, 0..23)
        self.hostile_titles = hostile_titles
        # The faults it plays, by path, and their settings (demostore/faults.py).
        self.timeout_seconds = timeout_seconds  # how long the "timeout" fault hangs
        self.retry_after = "1"  # the Retry-After header of the "429" and "503" faults
        self.offsite_url = "http://offsite.invalid/"  # where the "offsite" fault redirects
        self.dribble_seconds = 1.0  # between the bytes of a "dribble" fault
        self.stun_url = "stun:127.0.0.1:9"  # where the "webrtc" fault's script sends STUN
        # True: every conditional request (a page or an image asked for with its validators)
        # is answered 304 Not Modified, whatever it now is: the agency freezing what the audit
        # sees. Counted in hits["false304"].
        self.false_not_modified = False
        self.faults: dict[str, str] = {}
        self.shopper_prices: dict[str, Any] = {}  # sku -> the price a logged-in browser sees
        self.fault_times: dict[str, int] = {}  # path -> requests the fault still plays
        self.hits: Counter[str] = Counter()
        self.path_hits: Counter[str] = Counter()
        self._views: dict[tuple, DayView] = {}
        self._base: dict[str, Product] | None = None
        self.asgi = create_app(self)

    # ---------------------------------------------------------------- data
    def products(self) -> list[Product]:
        """The listings as they are on `self.day` (fresh copies, removed ones included)."""
        return scenario.state_on(self.day, self.size, self.hostile_titles, self.hour)

    def product(self, sku: str) -> Product | None:
        p = self.view().by_sku.get(sku)
        return p.copy() if p else None

    def live_products(self) -> list[Product]:
        return [p.copy() for p in self.view().live]

    def view(self) -> DayView:
        key = (self.day, self.size, self.hostile_titles,
               scenario.daytime_events(self.day, self.hour))
        v = self._views.get(key)
        if v is None:
            v = DayView(scenario.shared_state(*key))
            self._views[key] = v
        return v

    def image_source(self, sku: str, index: int, ext: str) -> tuple[str, Any] | None:
        """What /img/{sku}/{index}.{ext} serves: ("product", category) or ("infringing", name)."""
        if self._base is None:
            self._base = {p.sku: p for p in build_products(self.size)}
        base = self._base.get(sku)
        if base is None:
            return None
        path = f"/img/{sku}/{index}.{ext}"
        if path == scenario.INFRINGING_IMAGE_PATH:
            return ("infringing", scenario.INFRINGING_ORIGINAL)
        if path in base.images:
            return ("product", base.category)
        return None

    def reset_counters(self) -> None:
        self.hits.clear()
        self.path_hits.clear()

    @property
    def date(self):
        return scenario.date_of(self.day)


# -------------------------------------------------------------------- templates
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"], default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = format_price
    env.filters["plain_price"] = plain_price
    env.globals.update(shop_name=SHOP_NAME, categories=CATEGORIES)
    return env


_ENV = _env()


def _json_for_script(data: Any) -> Markup:
    """JSON safe to put inside <script>: no '<', '>' or '&' survives literally."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -------------------------------------------------------------------- the app
def create_app(store: DemoStore) -> Any:
    def render(request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("request_path", request.url.path)
        ctx.setdefault("base", _base_url(request))
        ctx.setdefault("store_date", store.date)
        html = _ENV.get_template(template).render(**ctx)
        return HTMLResponse(html, status_code=status)

    async def home(request: Request) -> HTMLResponse:
        v = store.view()
        featured = [p for p in v.live if p.promoted][:12]
        new_arrivals = sorted(v.live, key=lambda p: p.sku, reverse=True)[:8]
        return render(request, "home.html", featured=featured, new_arrivals=new_arrivals,
                      counts={c: len(ps) for c, ps in v.by_category.items()})

    async def category(request: Request) -> HTMLResponse:
        slug = request.path_params["category"]
        if slug not in CATEGORIES:
            raise HTTPException(404)
        items = store.view().by_category.get(slug, [])
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            raise HTTPException(404) from None
        pages = max(1, math.ceil(len(items) / PER_PAGE))
        if not 1 <= page <= pages:
            raise HTTPException(404)
        shown = items[(page - 1) * PER_PAGE: page * PER_PAGE]
        return render(request, "category.html", category=slug, category_name=CATEGORIES[slug],
                      products=shown, page=page, pages=pages, total=len(items))

    async def product(request: Request) -> HTMLResponse:
        v = store.view()
        p = v.by_slug.get(request.path_params["slug"])
        if p is None or p.removed:
            return render(request, "error.html", status=404, code=404,
                          message="很抱歉，您查看的宝贝不存在，可能已下架或者被转移。",
                          gone=p is not None)
        if p.sku in store.shopper_prices and request.cookies.get("session"):
            p = p.copy()
            p.price = store.shopper_prices[p.sku]
        base = _base_url(request)
        related = [q for q in v.by_category.get(p.category, []) if q.sku != p.sku][:4]
        jsonld = None
        if p.page_style == "jsonld":
            jsonld = _json_for_script(_product_jsonld(p, base))
        page = render(request, "product.html", p=p, related=related, jsonld=jsonld,
                      availability_url=SCHEMA_AVAILABILITY.format(p.availability))
        # Conditional requests, as real stores (and their CDNs) answer them: every product
        # page carries an ETag of its bytes, and a request that already has this version gets
        # 304 Not Modified without a body. A JavaScript-filled price is not in these bytes.
        etag = '"' + hashlib.sha256(page.body).hexdigest()[:32] + '"'
        inm = request.headers.get("if-none-match")
        if inm and _etag_matches(inm, etag):
            store.hits["/p:304"] += 1
            return Response(status_code=304, headers={"ETag": etag})
        page.headers["ETag"] = etag
        return page

    async def search(request: Request) -> HTMLResponse:
        q = request.query_params.get("q", "").strip()
        found = [p for p in store.view().live if q and q.lower() in p.title.lower()][:48]
        return render(request, "search.html", q=q, products=found)

    async def api_price(request: Request) -> JSONResponse:
        p = store.view().by_sku.get(request.path_params["sku"])
        if p is None or p.removed:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({
            "sku": p.sku, "price": plain_price(p.price), "currency": "CNY", "display": format_price(p.price),
            "list_price": plain_price(p.list_price) if p.list_price else None,
        }, headers={"Cache-Control": "no-store"})

    async def scenario_control(request: Request) -> JSONResponse:
        """The demo's remote control: GET says which scenario day the store is on and what
        the agency did that day; POST {"day": N} moves the store to day N at the nightly's
        hour, {"day": N, "hour": H} to day N at H:00 (store time; daytime events show)."""
        if request.method == "POST":
            try:
                asked = await request.json()
                day = int(asked["day"])
                hour = int(asked.get("hour", scenario.NIGHTLY_HOUR))
            except (ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError):
                return JSONResponse({"error": 'send {"day": N} or {"day": N, "hour": H}'},
                                    status_code=400)
            if not 0 <= day < scenario.DAYS:
                return JSONResponse({"error": f"day must be 0..{scenario.DAYS - 1}"}, status_code=400)
            if not 0 <= hour < 24:
                return JSONResponse({"error": "hour must be 0..23"}, status_code=400)
            store.day, store.hour = day, hour
        return JSONResponse({
            "day": store.day, "hour": store.hour, "days": scenario.DAYS,
            "date": scenario.date_of(store.day).isoformat(),
            "events": [{"sku": e.sku, "kind": e.kind, "description": e.description}
                       for e in scenario.events_on(store.day)],
        }, headers={"Cache-Control": "no-store"})

    async def api_recommend(request: Request) -> JSONResponse:
        live = store.view().live
        try:
            n = max(1, min(24, int(request.query_params.get("n", "8"))))
        except ValueError:
            n = 8
        if not live:
            return JSONResponse({"items": []})
        # "guess you like": a day-dependent but deterministic pick
        start = (store.day * 7 + 5) % len(live)
        picks = [live[(start + i * 5) % len(live)] for i in range(min(n, len(live)))]
        seen, items = set(), []
        for p in picks:
            if p.sku in seen:
                continue
            seen.add(p.sku)
            items.append({"sku": p.sku, "url": p.url_path, "title": p.title, "price": format_price(p.price),
                          "image": p.images[0], "promoted": p.promoted, "sales": p.monthly_sales})
        return JSONResponse({"items": items})

    async def image(request: Request) -> Response:
        sku = request.path_params["sku"]
        name = request.path_params["name"]
        stem, _, ext = name.partition(".")
        if not stem.isdigit() or ext not in _CONTENT_TYPES:
            raise HTTPException(404)
        source = store.image_source(sku, int(stem), ext)
        if source is None:
            raise HTTPException(404)
        kind, arg = source
        if kind == "infringing":
            data = await run_in_threadpool(imagegen.altered_copy, arg)
        else:
            draw = store.draw_image or imagegen.product_image
            data = await run_in_threadpool(draw, sku, int(stem), ext, arg)
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
        inm = request.headers.get("if-none-match")
        if inm and _etag_matches(inm, etag):
            store.hits["/img:304"] += 1
            return Response(status_code=304, headers=headers)
        store.hits["/img:200"] += 1
        return Response(data, media_type=_CONTENT_TYPES[ext], headers=headers)

    async def sitemap(request: Request) -> Response:
        base = _base_url(request)
        v = store.view()
        today = store.date.isoformat()
        urls = [(f"{base}/", today)] + [(f"{base}/c/{c}", today) for c in CATEGORIES]
        urls += [(base + p.url_path, _lastmod(p.sku, store.day)) for p in v.live]
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        lines += [f"  <url><loc>{xml_escape(loc)}</loc><lastmod>{lastmod}</lastmod></url>" for loc, lastmod in urls]
        lines.append("</urlset>\n")
        return Response("\n".join(lines), media_type="application/xml")

    async def robots(request: Request) -> PlainTextResponse:
        base = _base_url(request)
        return PlainTextResponse(
            "User-agent: *\nDisallow: /search\nDisallow: /cart\n\n"
            f"Sitemap: {base}/sitemap.xml\n")

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return render(request, "error.html", status=status, code=status,
                      message="您访问的页面不存在。" if status == 404 else "请求无法完成。")

    async def server_error(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", status=500, code=500, message="服务器开小差了，请稍后再试。")

    routes = [
        Route("/", home),
        Route("/c/{category}", category),
        Route("/p/{slug}", product),
        Route("/search", search),
        Route("/api/price/{sku}", api_price),
        Route("/api/recommend", api_recommend),
        Route("/__scenario__", scenario_control, methods=["GET", "POST"]),
        Route("/img/{sku}/{name}", image),
        Route("/sitemap.xml", sitemap),
        Route("/robots.txt", robots),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found, 500: server_error})
    return StoreMiddleware(app, store, _ENV)


def _etag_matches(header: str, etag: str) -> bool:
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def _lastmod(sku: str, day: int) -> str:
    changed = scenario.last_changed(sku, day)
    if changed is not None:
        return scenario.date_of(changed).isoformat()
    # untouched in the scenario: last edited some weeks before day 0
    back = int(hashlib.sha256(sku.encode()).hexdigest()[:6], 16) % 40 + 10
    return (scenario.START_DATE - timedelta(days=back)).isoformat()


def _product_jsonld(p: Product, base: str) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p.title,
        "sku": p.sku,
        "image": [base + src for src in p.images],
        "description": p.description,
        "brand": {"@type": "Brand", "name": "山禾"},
        "category": p.category_name,
        "url": base + p.url_path,
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": str(p.rating), "reviewCount": p.reviews},
        "offers": {
            "@type": "Offer",
            "url": base + p.url_path,
            "price": plain_price(p.price),
            "priceCurrency": "CNY",
            "availability": SCHEMA_AVAILABILITY.format(p.availability),
            "seller": {"@type": "Organization", "name": SHOP_NAME},
        },
    }
