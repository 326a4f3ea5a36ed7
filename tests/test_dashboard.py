"""The dashboard as a person sees it: a real server (uvicorn in a thread) over a ledger built
night by night with the real engine, driven by real Chromium.

The store's images are served by a tiny HTTP server of their own (the "store"), which the
pages must never make the browser ask: they show the thumbnails the crawl kept, from the
dashboard's own origin. The ledger's history ends a few hours before the real now, because the
server reads the real clock (deadlines, the quota's rolling week).
"""

from __future__ import annotations

import json

import functools
import http.server
import re
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.settings import ApiSettings
from audits.catalog import load_catalog
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from imaging import hash_registry_bytes
from crawler.snapshot import ImageInfo, Thumbnail
from tests.pictures import encode, picture
from tests.history import History, failed, hashed_image, listing, not_there

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Shanghai")
SCRIPT_TITLE = "<script>window.__pwned=1</script>"
IMG_TITLE = '<img src=x onerror="window.__pwned=1">'

CATALOG = """sku,cost,reference_price,promoted
SH-1,100,299,yes
SH-2,100,299,yes
SH-3,100,299,no
SH-4,60,159,no
SH-5,80,199,no
SH-X1,10,30,no
SH-X2,10,30,no
"""

CONTRACT = """
[store]
name = "山禾茶铺 Shanhe Tea"
base_url = "{base_url}"
timezone = "Asia/Shanghai"
currency = "CNY"
catalog = "catalog.csv"

[rules.titles.weekly_quota]
per_week = 12
scale_to_store = false

[rules.titles.keywords]
keywords = ["山禾"]

[rules.crawl.incomplete]
max_failed_percent = 30
"""


# --- pictures ----------------------------------------------------------------------------


# --- servers -----------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    hits: list[str]  # every path asked for

    def log_message(self, *args) -> None:
        pass

    def send_head(self):
        self.hits.append(self.path)
        return super().send_head()


@pytest.fixture
def image_host(tmp_path):
    """The store's image server: files under tmp_path/store served on 127.0.0.1; `hits` lists
    every path it was asked for."""
    root = tmp_path / "store"
    (root / "img").mkdir(parents=True)
    with _counted(_Quiet, directory=str(root)) as server:
        server.root = root
        yield server


@contextmanager
def _counted(handler_class, **handler_args):
    """An HTTP server on a free loopback port with a handler of `handler_class`; `hits` lists
    every path it was asked for, `url` is where it is."""
    hits: list[str] = []
    handler = type("Counted", (handler_class,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, **handler_args))
    server.hits = hits
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Shop:
    """What the history fixture built, by name: ids the tests look for on the pages."""

    contract_path: Path
    contract: object
    registry_id: int
    registry_file: Path
    listing_ids: dict[str, int]

    def finding(self, ledger: Ledger, rule_id: str, sku: str | None, status=None):
        found = [f for f in ledger.findings(status=status, rule_id=rule_id) if f.sku == sku]
        assert found, f"no {rule_id} finding on {sku}"
        return found[0]


@pytest.fixture
def shop(ledger, clock, tmp_path, image_host) -> Shop:
    """Eight audited nights of a small tea shop, the last one three hours ago:

    SH-1 (promoted) drops under its floor (1.5 × cost = ¥150) for two nights, a fetch fails
    the night after, then it recovers; SH-2 (promoted) is under its floor now; SH-3 is 53 %
    off without approval; SH-4 claims 全网第一; SH-5 shows a copy of a registered infringing
    image; SH-X1 and SH-X2 have titles that are markup. A few titles change along the way.
    """
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    contract_path = tmp_path / "contract.toml"
    contract_path.write_text(CONTRACT.format(base_url=image_host.url), encoding="utf-8")
    contract = parse_contract(contract_path.read_text(encoding="utf-8"), contract_path)
    catalog = load_catalog(tmp_path / "catalog.csv")

    original = picture("sunset")
    registry_file = tmp_path / "registry" / "sunset_lake.png"
    registry_file.parent.mkdir()
    registry_file.write_bytes(encode(original))
    hashes = hash_registry_bytes(registry_file.read_bytes())
    entry = ledger.add_registry_entry(label="sunset_lake (licensed stock photo)",
                                      source="https://photos.example/sunset-lake",
                                      path=str(registry_file), sha256=hashes["sha256"],
                                      phash=hashes["phash"], dhash=hashes["dhash"])

    images: dict[str, ImageInfo] = {}
    thumbnails: dict[str, Thumbnail] = {}  # what the crawl kept of each, by sha256

    def store_image(name: str, data: bytes) -> str:
        (image_host.root / "img" / name).write_bytes(data)
        url = f"{image_host.url}/img/{name}"
        images[url], thumbnail = hashed_image(url, data)
        thumbnails[images[url].sha256] = thumbnail
        return url

    thumbs = {sku: store_image(f"{sku.lower()}.png", encode(picture(sku)))
              for sku in ("SH-1", "SH-2", "SH-3", "SH-4", "SH-5", "SH-X1", "SH-X2")}
    w, h = original.size
    stolen = store_image("sh-5-2.jpg", encode(original.resize((int(w * 0.9), int(h * 0.9))),
                                              "JPEG", quality=60))
    # What the store shows; each night changes some of it (titles stay as last set).
    shown = {
        "SH-1": ["山禾 有机红茶 250g 罐装", "229"],
        "SH-2": ["山禾 金骏眉 特级 礼盒", "199"],
        "SH-3": ["山禾 白茶饼 357g", "139"],
        "SH-4": ["山禾 茉莉花茶 全网第一 500g", "129"],
        "SH-5": ["山禾 西湖龙井 明前 100g", "189"],
        "SH-X1": [SCRIPT_TITLE, "29"],
        "SH-X2": [IMG_TITLE, "29"],
    }
    history = History(ledger, clock)

    def night(*, unreadable=(), **changes: dict):
        for key, change in changes.items():
            sku = key.replace("_", "-")
            shown[sku] = [change.get("title", shown[sku][0]), change.get("price", shown[sku][1])]
        snaps = []
        for sku, (title, price) in shown.items():
            page_url = f"{image_host.url}/p/{sku.lower()}"
            if sku in unreadable:
                snap = failed(sku)
                snap.url = page_url
            else:
                pictures = [thumbs[sku]] + ([stolen] if sku == "SH-5" else [])
                snap = listing(sku, title, price, promoted=sku in ("SH-1", "SH-2"),
                               images=pictures, url=page_url)
            snaps.append(snap)
        run = history.night(*snaps, images=images, thumbnails=thumbnails)
        audit_run(ledger, contract, catalog, run, full=True)

    clock.set(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=8, hours=3))
    night()                                                    # 7 days 3 h ago
    night(SH_1={"price": "219"}, SH_3={"title": "山禾 白茶饼 357g 老白茶"})
    night(SH_1={"price": "199"}, SH_5={"title": "山禾 西湖龙井 明前 特级 100g"})
    night(SH_1={"price": "139", "title": "山禾 有机红茶 250g 罐装 新品"})
    night(SH_1={"price": "129"}, SH_3={"title": "山禾 白茶饼 357g 老白茶 福鼎"})
    night(unreadable=("SH-1",))
    night(SH_1={"price": "169"}, SH_2={"price": "129"})
    night(SH_1={"price": "229", "title": "山禾 有机红茶 250g 罐装 正山小种"},  # 3 h ago
          SH_4={"title": "山禾 茉莉花茶 全网第一 500g 特级"})

    ids = {l.sku: l.id for l in ledger.listings()}
    return Shop(contract_path, contract, entry.id, registry_file, ids)


@dataclass
class RunningApi:
    url: str
    ledger: Ledger
    merchant: str  # token secrets
    agency: str


@pytest.fixture
def api_server(ledger, shop) -> RunningApi:
    """The API and dashboard over the shop's ledger, served by uvicorn on a free port."""
    app = create_app(ApiSettings(db_path=ledger.path, contract_path=shop.contract_path),
                     contract=shop.contract)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    agency, _ = ledger.create_token("Agency ops", "agency")
    yield RunningApi(f"http://127.0.0.1:{port}", ledger, merchant, agency)
    server.should_exit = True
    thread.join(10)
    sock.close()


def log_in(page, api: RunningApi, secret: str) -> None:
    page.goto(f"{api.url}/login")
    page.fill("#token", secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"{api.url}/")


def local(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


# --- tests -------------------------------------------------------------------------------


def test_not_logged_in_goes_to_login_and_a_bad_token_is_refused(page, api_server):
    page.goto(f"{api_server.url}/")
    assert page.url == f"{api_server.url}/login"
    page.goto(f"{api_server.url}/listings/1")
    assert page.url == f"{api_server.url}/login"

    page.fill("#token", "sa_not-a-real-token")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 401
    assert page.get_by_role("alert").inner_text().startswith("That token is not valid")
    assert page.context.cookies() == []


def test_merchant_overview_groups_findings_with_deadlines_and_quota(page, api_server, shop,
                                                                    artifacts):
    log_in(page, api_server, api_server.merchant)
    response = page.goto(f"{api_server.url}/")
    headers = response.headers
    assert "script-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"  # nothing leaves; our forms keep Origin

    assert "山禾茶铺 Shanhe Tea" in page.locator("header").inner_text()
    assert "Merchant Li" in page.locator("header").inner_text()
    assert "merchant" in page.locator("header .role").inner_text()

    # Grouped by severity, worst first, each group holding only its own severity.
    groups = page.locator("section.group")
    assert groups.evaluate_all("els => els.map(e => e.id)") == ["critical", "major", "minor"]
    ledger = api_server.ledger
    for severity in ("critical", "major", "minor"):
        shown = page.locator(f"table[data-severity={severity}] tr.finding-row")
        expected = ledger.findings(status=["open", "acknowledged"], severity=severity)
        assert shown.count() == len(expected)
        assert page.locator(f".count[data-severity={severity}]").inner_text() == str(len(expected))

    below = shop.finding(ledger, "prices.below_floor", "SH-2", status="open")
    row = page.locator(f"tr[data-finding='{below.id}']")
    assert "Price ¥129.00 is under the floor ¥150.00" in row.inner_text()
    assert local(below.deadline) in row.inner_text()  # the store's zone, "2026-11-09 04:00"
    assert row.locator(".deadline.overdue").count() == 1  # 1 h to answer, 3 h ago
    assert "answer within 1 h, fix within 24 h" in row.inner_text()
    row.get_by_role("link", name="SH-2").wait_for()
    assert row.get_by_role("link", name="Details").get_attribute("href") == f"/findings/{below.id}"

    # In the last 7 days: SH-3, SH-5, SH-1 (twice: counts once) and SH-4, against 12.
    quota = page.locator(".quota-text").inner_text()
    assert quota == "4 of 12 titles optimised in the last 7 days"
    assert page.locator("progress").get_attribute("value") == "4"

    assert page.locator("table.runs tbody tr").count() == 8
    page.screenshot(path=str(artifacts / "dashboard-overview.png"), full_page=True)


def test_listing_chart_marks_prices_under_the_floor_in_red(page, api_server, shop, artifacts):
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/listings/{shop.listing_ids['SH-1']}")
    assert page.locator("h1.listing-name").inner_text() == "山禾 有机红茶 250g 罐装 正山小种"

    chart = page.locator("svg.price-chart")
    assert chart.is_visible()
    assert chart.locator("circle.point").count() == 7  # 8 nights, one failed: a gap, not 0
    red = chart.locator("circle.point.below-floor")
    assert red.count() == 2
    assert red.first.evaluate("c => getComputedStyle(c).fill") == "rgb(198, 40, 40)"
    assert chart.locator(".failed-fetch").count() == 1
    assert chart.locator(".limit-label-floor").text_content() == "floor (1.5 × cost) ¥150.00"
    assert chart.locator(".limit-label-discount").text_content() == "30% off reference ¥209.30"
    assert chart.locator(".y-label").filter(has_text="¥").count() >= 3
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", chart.locator(".x-label").first.text_content())
    # The lowest points sit lowest: a lower price is further down the chart.
    ys = sorted(float(y) for y in red.evaluate_all("cs => cs.map(c => c.getAttribute('cy'))"))
    others = chart.locator("circle.point:not(.below-floor)").evaluate_all(
        "cs => cs.map(c => +c.getAttribute('cy'))")
    assert min(ys) > max(others)

    changes = page.locator("table.titles tbody tr")
    assert changes.count() == 2
    assert "→ 山禾 有机红茶 250g 罐装 正山小种" in changes.first.inner_text()
    assert page.locator("table.findings tbody tr").count() >= 2  # resolved ones too
    assert "Resolved" in page.locator("table.findings").inner_text()
    img = page.locator(".thumbs img").first
    assert img.get_attribute("src").startswith("/images/")  # the kept thumbnail, our origin
    assert img.evaluate("i => i.complete && i.naturalWidth") > 0
    page.screenshot(path=str(artifacts / "dashboard-listing.png"), full_page=True)


def test_acknowledging_from_the_finding_page_records_who(page, api_server, shop):
    finding = shop.finding(api_server.ledger, "prices.below_floor", "SH-2", status="open")
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{finding.id}")
    assert page.locator("#finding-status").inner_text() == "Open"
    page.fill("#ack-note", "Asked the agency to restore ¥199 today")
    page.get_by_role("button", name="Acknowledge").click()

    page.wait_for_url(f"{api_server.url}/findings/{finding.id}?done=acknowledged")
    assert page.locator("#finding-status").inner_text() == "Acknowledged"
    assert page.get_by_role("status").inner_text().startswith("Finding acknowledged")
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    assert "Merchant Li (merchant)" in page.locator("table.events").inner_text()

    [event] = api_server.ledger.events(finding_id=finding.id)
    assert (event["actor"], event["action"]) == ("Merchant Li (merchant)", "acknowledge")
    assert event["detail"] == "Asked the agency to restore ¥199 today"

    # Acknowledging twice (another tab) is refused with the reason, not a traceback.
    response = page.request.post(f"{api_server.url}/findings/{finding.id}/acknowledge",
                                 form={"note": ""})
    assert response.status == 409
    assert "only an open finding can be acknowledged" in response.text()


def test_agency_cannot_waive(page, api_server, shop):
    finding = shop.finding(api_server.ledger, "prices.unapproved_discount", "SH-3", status="open")
    log_in(page, api_server, api_server.agency)
    page.goto(f"{api_server.url}/findings/{finding.id}")
    assert "Agency ops" in page.locator("header").inner_text()
    assert page.get_by_role("button", name="Acknowledge").is_visible()
    assert page.get_by_role("button", name="Waive").count() == 0
    assert page.get_by_role("button", name="Approve discount").count() == 0

    forged = page.request.post(f"{api_server.url}/findings/{finding.id}/waive",
                               form={"reason": "we say it is fine"})
    assert forged.status == 403
    assert "only the merchant may waive" in forged.text()
    approval = page.request.post(f"{api_server.url}/approvals",
                                 form={"finding_id": str(finding.id), "max_discount_percent": "60",
                                       "valid_until": "2099-12-31"})
    assert approval.status == 403
    assert api_server.ledger.finding(finding.id).status == "open"
    assert api_server.ledger.approvals(sku="SH-3") == []


def test_markup_in_store_titles_is_shown_as_text(page, api_server, shop):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/")
    body = page.locator("main").inner_text()
    assert SCRIPT_TITLE in body
    assert IMG_TITLE in body
    assert page.locator("main img[src=x]").count() == 0
    for sku in ("SH-X1", "SH-X2"):
        page.goto(f"{api_server.url}/listings/{shop.listing_ids[sku]}")
        title = page.locator("h1.listing-name").inner_text()
        assert title == (SCRIPT_TITLE if sku == "SH-X1" else IMG_TITLE)
        assert page.evaluate("window.__pwned") is None
    finding = shop.finding(api_server.ledger, "titles.keywords", "SH-X2", status="open")
    page.goto(f"{api_server.url}/findings/{finding.id}")
    assert IMG_TITLE in page.locator(".message.big").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []


class _Canary(http.server.BaseHTTPRequestHandler):
    """Answers anything with a picture, and notes that it was asked."""

    hits: list[str]
    picture = encode(picture("canary"), "JPEG")

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.picture)))
        self.end_headers()
        self.wfile.write(self.picture)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def canary():
    """A service on another loopback port (a router's admin page, a local daemon): the store
    names it as an image, and nothing of ours may ever ask it anything."""
    with _counted(_Canary) as server:
        yield server


METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/admin"


def test_the_dashboard_shows_only_the_thumbnails_it_kept_never_the_stores_addresses(
        page, api_server, shop, clock, canary, image_host):
    """Issue #15: a listing whose images the store points at a service on another loopback
    port and at the cloud metadata address. Opening its page makes the merchant's browser ask
    neither: the picture shown is the thumbnail the crawl kept, from the dashboard's own
    origin; an image with none kept says so; the store's addresses are plain text."""
    ledger = api_server.ledger
    kept_url = f"{canary.url}/img/kept.jpg"        # the crawl saw a picture there, and kept it
    refused_url = f"{canary.url}/admin/reboot.jpg"  # refused by the crawl: nothing kept
    kept, thumbnail = hashed_image(kept_url, encode(picture("SH-C"), "JPEG"))
    images = {kept_url: kept,
              refused_url: ImageInfo(refused_url, error="not an image: the file is HTML"),
              METADATA: ImageInfo(METADATA, error="not one of the store's origins")}
    snap = listing("SH-C", "山禾 金针 canary", "99", images=[kept_url, METADATA, refused_url],
                   url="http://shop.test/p/sh-c")
    History(ledger, clock).night(snap, days=0.01, full=False, images=images,
                                 thumbnails={kept.sha256: thumbnail})
    listing_id = next(l.id for l in ledger.listings() if l.sku == "SH-C")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    log_in(page, api_server, api_server.merchant)

    response = page.goto(f"{api_server.url}/listings/{listing_id}")
    csp = response.headers["content-security-policy"]
    assert "img-src 'self';" in csp and "http:" not in csp and "data:" not in csp
    img = page.locator(".thumbs img")
    assert img.count() == 1
    page.wait_for_function("i => i.complete", arg=img.element_handle())
    assert img.evaluate("i => new URL(i.src).origin") == api_server.url
    assert img.get_attribute("src") == f"/images/{kept.sha256}.jpg"
    assert img.evaluate("i => i.naturalWidth") == 240
    placeholders = page.locator(".thumbs .no-picture")
    assert placeholders.all_inner_texts() == ["no picture kept", "no picture kept"]
    shown = page.locator(".thumbs").inner_text()
    assert kept_url in shown and METADATA in shown and refused_url in shown  # as text
    # No attribute of the page names the store's image addresses.
    named = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(
        e => [...e.attributes].map(a => a.value))""")
    assert not [v for v in named if canary.url in v or "169.254.169.254" in v]

    # The other pages with store pictures: an infringing image's finding, SH-5's listing.
    finding = shop.finding(ledger, "images.infringing", "SH-5", status="open")
    page.goto(f"{api_server.url}/findings/{finding.id}")
    page.goto(f"{api_server.url}/listings/{shop.listing_ids['SH-5']}")
    page.wait_for_load_state("networkidle")
    assert canary.hits == [], "the browser asked the loopback service the store named"
    assert image_host.hits == [], "the browser asked the store for its pictures"
    assert [u for u in asked if not u.startswith(api_server.url + "/")] == []

    # The thumbnail itself: a JPEG from the ledger, logged in only.
    answer = page.request.get(f"{api_server.url}/images/{kept.sha256}.jpg")
    assert answer.status == 200 and answer.body() == thumbnail.jpeg
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "max-age=" in answer.headers["cache-control"]
    for missing in ("0" * 64, "not-a-sha", kept.sha256.upper()):
        assert page.request.get(f"{api_server.url}/images/{missing}.jpg").status == 404
    page.context.clear_cookies()
    anonymous = page.request.get(f"{api_server.url}/images/{kept.sha256}.jpg",
                                 max_redirects=0)
    assert anonymous.status == 303 and anonymous.headers["location"] == "/login"


def test_session_cookie_is_httponly_and_samesite_strict(page, api_server):
    log_in(page, api_server, api_server.merchant)
    [cookie] = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert page.evaluate("document.cookie") == ""

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{api_server.url}/login?done=logged_out")
    assert [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE] == []


def test_infringing_image_finding_shows_both_images_side_by_side(page, api_server, shop,
                                                                 artifacts):
    finding = shop.finding(api_server.ledger, "images.infringing", "SH-5", status="open")
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{finding.id}")

    store_img = page.locator("#listing-image img")
    registry_img = page.locator("#registry-image img")
    for img in (store_img, registry_img):
        img.wait_for()
        page.wait_for_function("i => i.complete", arg=img.element_handle())
        assert img.evaluate("i => i.naturalWidth") > 0
    # The store's side is the thumbnail kept of the very bytes that matched.
    assert store_img.get_attribute("src") == f"/images/{finding.evidence['image_sha256']}.jpg"
    assert store_img.evaluate("i => new URL(i.src).origin") == api_server.url
    assert finding.evidence["image_url"] in page.locator("#listing-image").inner_text()
    left, right = store_img.bounding_box(), registry_img.bounding_box()
    assert left["x"] + left["width"] < right["x"]  # beside, not under
    assert abs(left["y"] - right["y"]) < 5
    verdict = page.locator(".compare-verdict").inner_text()
    assert str(finding.evidence["distance"]) in verdict and "phash distance" in verdict
    # the evidence names the hash that matched: both hashes compared, and the other distances
    hashes = page.locator("#matched-hashes").inner_text()
    assert finding.evidence["image_phash"] in hashes and finding.evidence["registry_phash"] in hashes
    assert f"dhash distance {finding.evidence['dhash_distance']} of 64" in verdict
    assert "sunset_lake (licensed stock photo)" in page.locator("#registry-image").inner_text()
    page.screenshot(path=str(artifacts / "dashboard-finding-image.png"), full_page=True)

    image = page.request.get(f"{api_server.url}/registry/{shop.registry_id}/image")
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"
    assert image.body() == shop.registry_file.read_bytes()
    assert page.request.get(f"{api_server.url}/registry/999/image").status == 404


def _set_evidence(ledger, finding, **values) -> None:
    evidence = {**finding.evidence, **values}
    with ledger.db.conn:
        ledger.db.execute("UPDATE findings SET evidence = ? WHERE id = ?",
                          [json.dumps(evidence), finding.id])


def test_the_part_each_picture_shares_is_boxed_on_both(page, api_server, shop, artifacts):
    """A match the local features placed: the box of the registry picture the listing's image
    shows, and where on the listing's image it is, drawn over each picture."""
    finding = shop.finding(api_server.ledger, "images.infringing", "SH-5", status="open")
    _set_evidence(api_server.ledger, finding, inliers=48, rotation=-10.2,
                  registry_box=[0.1, 0.2, 0.6, 0.9], listing_box=[0.2, 0.1, 0.9, 0.8])
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{finding.id}")
    img = page.locator("#registry-image img")
    img.wait_for()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
    picture, box = img.bounding_box(), page.locator("#registry-box rect").bounding_box()
    # the box sits on the picture where the shares say (the stroke adds a pixel or two)
    assert box["x"] - picture["x"] == pytest.approx(0.1 * picture["width"], abs=3)
    assert box["y"] - picture["y"] == pytest.approx(0.2 * picture["height"], abs=3)
    assert box["width"] == pytest.approx(0.5 * picture["width"], abs=4)
    assert box["height"] == pytest.approx(0.7 * picture["height"], abs=4)
    assert page.locator("#listing-box rect").count() == 1
    said = page.locator("#local-agreement").inner_text()
    assert "48 corners agree on one placement, turned 10°" in said
    assert "the boxes show the part each picture shares" in said
    page.screenshot(path=str(artifacts / "dashboard-finding-image-boxed.png"), full_page=True)


def test_a_forged_evidence_box_draws_nothing_it_should_not(page, api_server, shop):
    finding = shop.finding(api_server.ledger, "images.infringing", "SH-5", status="open")
    _set_evidence(api_server.ledger, finding, inliers=30, rotation=0.4,
                  registry_box=['"/><script>window.pwned=1</script>', 0, 1, 1],
                  listing_box="<img src=x onerror=window.pwned=1>")
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{finding.id}")
    page.locator("#registry-image").wait_for()
    assert page.evaluate("window.pwned") is None
    assert page.locator("#listing-box").count() == 0   # not four numbers: no box
    assert page.locator("#registry-image script").count() == 0
    # the text read as 0: a box around the whole picture, which is not drawn, nor spoken of
    assert page.locator("#registry-box").count() == 0
    assert page.locator("#local-agreement").inner_text() == "30 corners agree on one placement"


def test_merchant_approves_a_discount_from_its_finding(page, api_server, shop, artifacts):
    finding = shop.finding(api_server.ledger, "prices.unapproved_discount", "SH-3", status="open")
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{finding.id}")
    assert page.locator("#max-discount").input_value() == "54"  # 139 vs 299: 53.5 % off
    # A past day: the date field refuses it; sent anyway, the answer says why, not a traceback.
    assert page.locator("#valid-until").get_attribute("min") is not None
    refused = page.request.post(f"{api_server.url}/approvals", form={
        "finding_id": str(finding.id), "max_discount_percent": "54", "valid_until": "2000-01-01"})
    assert refused.status == 422
    assert "The last day 2000-01-01 is already past" in refused.text()

    page.fill("#valid-until", "2099-12-31")
    page.get_by_role("button", name="Approve discount").click()
    page.wait_for_url(f"{api_server.url}/findings/{finding.id}?done=approved")
    [approval] = api_server.ledger.approvals(sku="SH-3")
    assert approval.max_discount == Decimal("0.54")
    assert approval.created_by == "Merchant Li (merchant)"
    assert "54%" in page.locator("table.approvals").inner_text()
    page.screenshot(path=str(artifacts / "dashboard-finding-discount.png"), full_page=True)


def test_templates_never_mark_store_text_safe():
    templates = Path(__file__).resolve().parent.parent / "api" / "dashboard" / "templates"
    for path in templates.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", "").replace("|safe_url", ""), path.name
        assert "autoescape false" not in text, path.name


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: whatever follows it on the line would read backwards
HOSTILE_TITLES = {
    "SH-H1": f"{RLO}Jasmine tea ¥99 {IMG_TITLE}",
    "SH-H2": "Ja\u200bsm\u200di\ufeffne \u200e tea",  # zero-width characters: kept, as they are
    "SH-H3": "长" * 10_000,
}


def test_direction_overrides_zero_width_and_huge_titles_stay_plain_text(page, api_server, shop,
                                                                        clock):
    ledger = api_server.ledger
    snaps = [listing(sku, title, "29", url=f"http://shop.test/p/{sku.lower()}")
             for sku, title in HOSTILE_TITLES.items()]
    run = History(ledger, clock).night(*snaps, days=0.01, full=False)
    audit_run(ledger, shop.contract, load_catalog(shop.contract.catalog_path()), run, full=False)
    ids = {l.sku: l.id for l in ledger.listings()}
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, api_server, api_server.merchant)

    page.goto(f"{api_server.url}/listings/{ids['SH-H1']}")
    shown = page.locator("h1.listing-name").text_content()
    assert shown == f"[U+202E]Jasmine tea ¥99 {IMG_TITLE}", "the override is shown, not obeyed"
    page.goto(f"{api_server.url}/listings/{ids['SH-H2']}")
    assert page.locator("h1.listing-name").text_content() == HOSTILE_TITLES["SH-H2"]
    page.goto(f"{api_server.url}/listings/{ids['SH-H3']}")
    assert page.locator("h1.listing-name").text_content() == HOSTILE_TITLES["SH-H3"]
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), \
        "10,000 characters wrap; the page does not grow sideways"
    assert page.get_by_role("button", name="Log out").is_visible()

    finding = shop.finding(ledger, "titles.keywords", "SH-H1", status="open")
    for path in ("/", f"/findings/{finding.id}", f"/listings/{ids['SH-H1']}"):
        page.goto(api_server.url + path)
        body = page.locator("body").text_content()
        assert RLO not in body, path
        assert page.locator("main img[src=x]").count() == 0
    assert "[U+202E]Jasmine tea" in page.locator("body").text_content()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []

    # Issue #15: in a list, the 10,000-character title and the message quoting it are cut to
    # a glance, each with a link to the page that has the whole of it.
    long_one = shop.finding(ledger, "titles.length", "SH-H3", status="open")
    page.goto(api_server.url + "/")
    row = page.locator("tr", has=page.locator(f'a[href="/findings/{long_one.id}"]')).first
    title = row.locator(".listing-title")
    assert "长" * 150 in title.inner_text() and "长" * 201 not in title.inner_text()
    assert title.get_by_role("link", name="whole title").get_attribute("href") == \
        f"/listings/{ids['SH-H3']}"
    message = row.locator("td.message")
    assert len(message.inner_text()) < 320 and "…" in message.inner_text()
    message.get_by_role("link", name="whole message").click()
    page.wait_for_url(f"**/findings/{long_one.id}")
    assert "长" * 10_000 in page.locator("p.message.big").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_a_finding_gone_with_its_listing_says_so_and_not_resolved(page, api_server, shop,
                                                                   clock):
    """Issue #16: SH-2 (under its floor) is taken off the store: two nights of 404."""
    ledger = api_server.ledger
    floor = shop.finding(ledger, "prices.below_floor", "SH-2", status="open")
    catalog = load_catalog(shop.contract.catalog_path())
    for _ in range(2):
        gone = not_there("SH-2")
        gone.url = ledger.listing(shop.listing_ids["SH-2"]).url
        run = History(ledger, clock).night(gone, days=0.01)
        audit_run(ledger, shop.contract, catalog, run, full=True)
    assert ledger.finding(floor.id).status == "gone"
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{floor.id}")
    assert page.locator(".status-gone").first.inner_text() == "Gone with its listing (not fixed)"
    body = page.locator("main").inner_text()
    assert "never fixed" in body and "Resolved" not in body
    page.goto(f"{api_server.url}/")
    removal = shop.finding(ledger, "crawl.removed", "SH-2", status="open")
    assert page.locator(f'a[href="/findings/{removal.id}"]').count() >= 1


def test_a_finding_shows_what_changed_before_and_after_with_both_times(page, api_server, shop):
    """Issue #16: SH-2 went from ¥199 to ¥129 the night its floor finding was raised."""
    floor = shop.finding(api_server.ledger, "prices.below_floor", "SH-2", status="open")
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{floor.id}")
    page.get_by_role("heading", name="What changed").wait_for()
    rows = page.locator("table.changed tbody tr")
    assert rows.count() == 1
    assert rows.locator("th").inner_text() == "price"
    before, after = rows.locator("td").all_inner_texts()
    assert before.startswith("¥199.00") and after.startswith("¥129.00")
    [change] = floor.evidence["changed"]
    assert local(change["before_at"]) in before and local(change["after_at"]) in after
    assert "changed" not in page.locator("table.evidence:not(.changed)").inner_text()


def test_a_resolved_finding_shows_the_look_that_resolved_it(page, api_server, shop, clock):
    """Issue #16: SH-2, under its floor at ¥129, is seen back at ¥299 by the next look: the
    finding's page shows the value that raised it beside the one that resolved it."""
    ledger = api_server.ledger
    floor = shop.finding(ledger, "prices.below_floor", "SH-2", status="open")
    restored = listing("SH-2", price="299.00", url=ledger.listing(shop.listing_ids["SH-2"]).url)
    run = History(ledger, clock).night(restored, days=0.01)
    audit_run(ledger, shop.contract, load_catalog(shop.contract.catalog_path()), run, full=False)
    resolved = ledger.finding(floor.id)
    assert resolved.status == "resolved" and resolved.evidence["resolved_by"]["price"] == "299.00"
    log_in(page, api_server, api_server.merchant)
    page.goto(f"{api_server.url}/findings/{floor.id}")
    page.get_by_role("heading", name="What changed").wait_for()
    assert page.locator("table.changed thead th").last.text_content() == "when resolved"
    row = page.locator("table.changed tbody tr").first
    before, after, then = row.locator("td").all_inner_texts()
    assert before.startswith("¥199.00") and after.startswith("¥129.00")
    assert then.startswith("¥299.00") and local(resolved.evidence["resolved_by"]["at"]) in then
    assert "resolved by" not in page.locator("table.evidence:not(.changed)").inner_text()
