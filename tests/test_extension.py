"""The browser extension, unpacked in real (headless) Chromium, on the sample store audited for
real: what a merchant sees on the store's own pages.

One audited store, API and browser serve the whole module: a full crawl of the sample store
takes ~12 s, so building it per test would not fit the time budget. The store is built with
hostile titles (SH-0059/SH-0060) for every test, so every test also runs with a dialog trap.

The overlay draws in *closed* shadow roots (the store's own scripts must not read or click
it), which Playwright's locators cannot enter. The tests read it the way only the extension
can: by evaluating in the content script's isolated world (found over CDP) with
chrome.dom.openOrClosedShadowRoot, and they click it with real mouse events at the element's
position, as a person would (the overlay ignores synthetic clicks).
"""

from __future__ import annotations

import re

import dataclasses
import json
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from api.app import create_app
from api.settings import ApiSettings
from crawler.browser import LAUNCH_ARGS, find_chromium
from servers import serve

pytestmark = pytest.mark.e2e

EXTENSION_DIR = Path(__file__).resolve().parent.parent / "extension"
EXTENSION_ORIGIN = (EXTENSION_DIR / "extension-id.txt").read_text().strip()
EXTENSION_ID = EXTENSION_ORIGIN.removeprefix("chrome-extension://")
STORE_DAY = 7  # jacket SH-0001 under its floor since day 2, power bank SH-0004 out of stock
JACKET, SOFA, POWER_BANK, KNIFE_SET = "SH-0001", "SH-0002", "SH-0004", "SH-0006"
HOSTILE_SKU = "SH-0059"  # title: <img src=x onerror=alert(1)>
RED = "rgb(198, 40, 40)"


# ---------------------------------------------------------------------------- the audited store


def _audit_history(store, db_path: Path):
    """Replay part of the fortnight through the real crawler: a full audit on day 0, a few
    listings on days 2, 4 and 5 (price history for the sparkline), a full audit on day 7."""
    from audits.catalog import load_catalog
    from audits.clock import ManualClock
    from storeaudit.sample_store import demo_contract
    from audits.ledger import Ledger
    from audits.runner import run_audit

    contract = demo_contract().with_base_url(store.url)
    catalog = load_catalog(contract.catalog_path())
    now = datetime.now(timezone.utc)
    clock = ManualClock(now - timedelta(days=STORE_DAY))
    watched = [f"{store.url}{store.product(sku).url_path}" for sku in (JACKET, SOFA, POWER_BANK, KNIFE_SET)]
    with Ledger(db_path, clock) as ledger:
        for day in (0, 2, 4, 5, STORE_DAY):
            store.day = day
            clock.set(now - timedelta(days=STORE_DAY - day))
            config = contract.crawl_config()
            if day not in (0, STORE_DAY):
                config = dataclasses.replace(config, urls=watched)
            run_audit(contract, ledger, config=config, catalog=catalog)
        merchant, _ = ledger.create_token("Merchant Li", "merchant")
        agency, _ = ledger.create_token("Agency ops", "agency")
    return contract, merchant, agency


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The sample store on day 7 (with hostile titles), its audited ledger, the API serving it
    with the extension's origin allowed by CORS."""
    from demostore.app import DemoStore
    from demostore.server import run_in_thread

    tmp = tmp_path_factory.mktemp("extension-world")
    shop = DemoStore(size=60, day=0, hostile_titles=True)
    with run_in_thread(shop) as running:
        shop.url = running.url
        db = tmp / "ledger.db"
        contract, merchant, agency = _audit_history(shop, db)
        settings = ApiSettings(db_path=db, contract_path=contract.path, extension_origins=[EXTENSION_ORIGIN])
        with serve(create_app(settings, contract=contract)) as api_url:
            yield {"store": shop, "store_url": shop.url, "api_url": api_url, "merchant": merchant,
                   "agency": agency, "db": db, "contract": contract, "settings": settings}


def api_get(world, path, role="merchant", api_url=None):
    response = httpx.get((api_url or world["api_url"]) + path,
                         headers={"Authorization": f"Bearer {world[role]}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def page_url(world, sku: str) -> str:
    return world["store_url"] + world["store"].product(sku).url_path


# ---------------------------------------------------------------------------- the browser


def _test_copy_of_the_extension(tmp: Path) -> Path:
    """The shipped extension asks for host access at run time (optional_host_permissions +
    chrome.permissions.request on Save). Headless automation cannot click the browser's
    permission prompt, and Chromium has no switch to accept it. So the tests load a copy whose
    manifest already grants the loopback host (all its ports: the store, the API, and the
    "other site" of test 6). On Save the options page still calls chrome.permissions.request,
    which Chromium answers `true` without a prompt when access is already granted, and the
    content script is still registered only for the configured store origin. The shipped
    manifest is never changed; the copy keeps its key, hence the documented extension ID."""
    copy = tmp / "extension"
    shutil.copytree(EXTENSION_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["host_permissions"] = ["http://127.0.0.1/*"]
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return copy


class Browser:
    def __init__(self, context, extension_id: str):
        self.context = context
        self.extension_id = extension_id
        self.configured: tuple | None = None

    def options_page(self):
        page = self.context.new_page()
        page.goto(f"chrome-extension://{self.extension_id}/options.html")
        expect(page.locator("#apiBase")).not_to_have_value("")  # settings loaded (no eval here: CSP)
        return page

    def configure(self, api_url: str, token: str, store_url: str) -> str:
        """Fill the options page as a person would; returns what "Test connection" said."""
        page = self.options_page()
        page.fill("#apiBase", api_url)
        page.fill("#token", token)
        page.fill("#storeOrigins", store_url)
        page.click("#save")
        saved = page.locator("#saveStatus.ok, #saveStatus.error")
        assert "The overlay is on for " + store_url in saved.text_content()
        page.click("#test")
        said = page.locator("#testStatus.ok, #testStatus.error").text_content()
        page.close()
        self.configured = (api_url, token, store_url)
        return said


@pytest.fixture(scope="module")
def extension_browser(playwright, world, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extension-browser")
    extension = _test_copy_of_the_extension(tmp)
    context = playwright.chromium.launch_persistent_context(
        str(tmp / "profile"), headless=True, executable_path=find_chromium(),
        args=[*LAUNCH_ARGS, f"--disable-extensions-except={extension}", f"--load-extension={extension}"],
        viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        worker = context.service_workers[0] if context.service_workers else \
            context.wait_for_event("serviceworker", timeout=15000)
        b = Browser(context, worker.url.split("/")[2])
        said = b.configure(world["api_url"], world["merchant"], world["store_url"])
        assert said.startswith("Connected as merchant"), said
        yield b
    finally:
        context.close()


@pytest.fixture
def ext(extension_browser, world):
    """The browser, connected to the module's API as the merchant (a test may have moved it)."""
    wanted = (world["api_url"], world["merchant"], world["store_url"])
    if extension_browser.configured != wanted:
        extension_browser.configure(*wanted)
    return extension_browser


@pytest.fixture
def page(ext):
    """A new tab that fails the test if any dialog opens (alert, confirm, prompt)."""
    tab = ext.context.new_page()
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    tab.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


# ---------------------------------------------------------------------------- reading the overlay


class Overlay:
    """The extension's overlay in one tab, read from the content script's isolated world."""

    HELPERS = """
      var sa = {
        layer: function () {
          var host = document.querySelector('storeaudit-overlay');
          return host ? chrome.dom.openOrClosedShadowRoot(host) : null;
        },
        panel: function () { var r = sa.layer(); return r && r.querySelector('.panel'); },
        badges: function () {
          return Array.from(document.querySelectorAll('storeaudit-badge')).map(function (host) {
            var badge = chrome.dom.openOrClosedShadowRoot(host).querySelector('.badge');
            var card = host.parentElement;
            return {sku: card.getAttribute('data-sku'), text: badge.innerText.replace(/\\s+/g, ' ').trim(),
                    color: getComputedStyle(badge).backgroundColor,
                    guess: !!card.closest('#guess-you-like')};
          });
        },
        center: function (el) {
          el.scrollIntoView({block: 'center'});
          var r = el.getBoundingClientRect();
          return {x: r.left + r.width / 2, y: r.top + r.height / 2};
        }
      };
    """

    def __init__(self, page, extension_id: str):
        self.page = page
        self.origin = f"chrome-extension://{extension_id}"
        self.contexts: dict[int, dict] = {}
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Runtime.executionContextCreated", self._created)
        self.cdp.on("Runtime.executionContextDestroyed",
                    lambda e: self.contexts.pop(e["executionContextId"], None))
        self.cdp.on("Runtime.executionContextsCleared", lambda e: self.contexts.clear())
        self.cdp.send("Runtime.enable")

    def _created(self, event):
        ctx = event["context"]
        if ctx.get("auxData", {}).get("type") == "isolated" and ctx.get("origin") == self.origin:
            self.contexts[ctx["id"]] = ctx

    def injected(self) -> bool:
        return bool(self.contexts)

    def eval(self, expression: str):
        if not self.contexts:
            return None
        answer = self.cdp.send("Runtime.evaluate", {
            "expression": f"(function () {{ {self.HELPERS} return ({expression}); }})()",
            "contextId": max(self.contexts), "returnByValue": True})
        if "exceptionDetails" in answer:
            raise AssertionError(f"overlay script failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait(self, expression: str, timeout: float = 15, what: str = ""):
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                seen = self.eval("sa.panel() ? sa.panel().innerText : sa.layer() ? sa.layer().textContent : null")
                raise AssertionError(f"timed out waiting for {what or expression}; the overlay shows: {seen!r}")
            self.page.wait_for_timeout(100)

    def panel_text(self, timeout: float = 15) -> str:
        return self.wait("sa.panel() && sa.panel().innerText", timeout, "the overlay panel")

    def click(self, selector_js: str):
        """A real mouse click on an element of the panel (the overlay ignores synthetic ones)."""
        point = self.wait(f"(function () {{ var el = {selector_js}; return el && sa.center(el); }})()",
                          what=selector_js)
        self.page.mouse.click(point["x"], point["y"])


def open_with_overlay(page, ext, url) -> Overlay:
    overlay = Overlay(page, ext.extension_id)
    page.goto(url)
    return overlay


def expected_badges(world, path: str) -> dict[str, tuple[int, str]]:
    cards = api_get(world, f"/api/overlay?url={world['store_url']}{path}")["cards"]
    return {c["sku"]: (c["count"], c["worst"]) for c in cards}


# ---------------------------------------------------------------------------- setup


def test_the_extension_loads_with_its_documented_id_and_no_warnings(ext):
    assert ext.extension_id == EXTENSION_ID, "the manifest's key fixes the ID extension-id.txt names"
    page = ext.context.new_page()
    page.goto("chrome://extensions/")
    info = page.evaluate("new Promise(r => chrome.developerPrivate.getExtensionsInfo({}, r))")
    page.close()
    [ours] = [e for e in info if e["id"] == EXTENSION_ID]
    assert ours["installWarnings"] == [] and ours["manifestErrors"] == []


@pytest.mark.parametrize("case, expected", [
    ("unreachable", "Unreachable: nothing answers at http://127.0.0.1:"),
    ("bad token", "Bad token: the API refused it (401)."),
    ("agency", "Connected as agency (Agency ops) to 山禾生活旗舰店"),
])
def test_test_connection_says_plainly_what_is_wrong(world, ext, case, expected):
    from servers import free_port

    api_url = f"http://127.0.0.1:{free_port()}" if case == "unreachable" else world["api_url"]
    token = {"bad token": "sa_not-a-token", "agency": world["agency"]}.get(case, world["merchant"])
    page = ext.options_page()
    page.fill("#apiBase", api_url)
    page.fill("#token", token)
    page.fill("#storeOrigins", world["store_url"])
    page.click("#test")  # tests what is typed, without saving it
    said = page.locator("#testStatus.ok, #testStatus.error").text_content()
    page.close()
    assert said.startswith(expected), said


def test_the_popup_shows_the_stores_findings_quota_and_dashboard(world, ext, artifacts):
    overlay = api_get(world, f"/api/overlay?url={world['store_url']}/")
    page = ext.context.new_page()
    page.set_viewport_size({"width": 320, "height": 400})
    page.goto(f"chrome-extension://{ext.extension_id}/popup.html")
    page.locator("#summary").wait_for(state="visible")
    counts = page.locator("#counts li").all_inner_texts()
    assert [c.split() for c in counts] == [
        [str(overlay["open_counts"][s]), s.capitalize()] for s in ("critical", "major", "minor")]
    quota = overlay["quota"]
    assert page.locator("#quotaText").inner_text().startswith(f"{quota['changed']} / {quota['quota']}")
    assert page.locator("#dashboard").get_attribute("href") == world["api_url"] + "/"
    # Opened in a tab of its own, the "active tab" is the popup itself, not the store.
    assert page.locator("#spotCheck").is_disabled()
    page.locator("body").screenshot(path=str(artifacts / "extension-popup.png"))
    page.close()


# ---------------------------------------------------------------------------- 1. badges


def test_product_cards_with_findings_get_a_badge_with_count_and_worst_severity(world, ext, page, artifacts):
    overlay = open_with_overlay(page, ext, world["store_url"] + "/c/apparel")
    on_page = page.eval_on_selector_all("article.product-card[data-sku]", "els => els.map(e => e.dataset.sku)")
    truth = expected_badges(world, "/c/apparel")
    wanted = {sku: truth[sku] for sku in on_page if sku in truth}
    assert JACKET in wanted and len(wanted) >= 3, "the category page should show several flagged listings"

    badges = overlay.wait(f"sa.badges().length >= {len(wanted)} && sa.badges()", what="badges")
    seen = {b["sku"]: b for b in badges}
    assert set(seen) == set(wanted), "a badge on exactly the cards with open findings"
    for sku, (count, worst) in wanted.items():
        word = [worst.upper()] if count == 1 else ["WORST", worst.upper()]
        assert seen[sku]["text"].split() == ["!", str(count), *word], (sku, seen[sku])
    assert seen[JACKET]["text"] == "! 2 WORST CRITICAL" and seen[JACKET]["color"] == RED

    # Hovering the jacket's badge shows its findings' messages.
    point = overlay.eval("""(function () {
        var host = Array.from(document.querySelectorAll('storeaudit-badge'))
          .find(function (h) { return h.parentElement.getAttribute('data-sku') === 'SH-0001'; });
        return sa.center(chrome.dom.openOrClosedShadowRoot(host).querySelector('.badge')); })()""")
    page.mouse.move(point["x"], point["y"])
    tip = overlay.wait("(function () { var t = sa.layer().querySelector('.tooltip');"
                       " return t && !t.hidden && t.innerText; })()", what="the tooltip")
    assert "2 open findings" in tip and "under the floor ¥240.00" in tip and "33.4% under" in tip
    page.screenshot(path=str(artifacts / "extension-badges.png"))


def test_cards_loaded_late_on_the_home_page_get_badges_too(world, ext, page):
    overlay = open_with_overlay(page, ext, world["store_url"] + "/")
    page.wait_for_selector("#guess-you-like[data-loaded='1']")
    late = page.eval_on_selector_all("#guess-you-like article[data-sku]", "els => els.map(e => e.dataset.sku)")
    truth = expected_badges(world, "/")
    flagged = [sku for sku in late if sku in truth]
    assert flagged, "the day's 猜你喜欢 picks should include a flagged listing"
    badges = overlay.wait(f"sa.badges().filter(function (b) {{ return b.guess; }}).length >= {len(flagged)}"
                          " && sa.badges()", what="badges on the late cards")
    got = {b["sku"]: b["text"] for b in badges if b["guess"]}
    # One finding: its severity; more: "worst" and the worst one's ("2 CRITICAL" would read
    # as two critical findings).
    assert got == {sku: f"! {truth[sku][0]} "
                        f"{'' if truth[sku][0] == 1 else 'WORST '}{truth[sku][1].upper()}"
                   for sku in flagged}


# ---------------------------------------------------------------------------- 2. the panel


def test_the_jackets_page_shows_the_below_floor_finding_with_deadline_and_floor(world, ext, page, artifacts):
    overlay = open_with_overlay(page, ext, page_url(world, JACKET))
    text = overlay.panel_text()
    finding = next(f for f in api_get(world, f"/api/findings?sku={JACKET}") if f["rule_id"] == "prices.below_floor")
    assert "Price ¥199.00 is under the floor ¥240.00" in text
    assert "CRITICAL" in text and "prices.below_floor" in text
    # What changed when it was raised (issue #16): the drop itself, with both looks' times.
    assert re.search(r"price ¥299\.00 → ¥199\.00 \(.+ → .+\)", text), text
    assert "deadline" in text and "overdue by" in text, "found on day 2: its 24 h deadline has passed"
    assert "answer within 1 h" in text.lower() or finding["response"] in text
    assert "floor ¥240.00" in text and "✗ under" in text
    assert "Reference\t¥299.00" in text or "¥299.00" in text
    assert "Spot-check now" in text and "Approve discount" in text and "Waive" in text
    points = overlay.eval("sa.panel().querySelectorAll('svg.spark circle').length")
    assert overlay.eval("sa.panel().querySelectorAll('svg.spark polyline').length") == 1 and points >= 1
    assert overlay.eval("sa.panel().querySelector('svg.spark title').textContent") == \
        "Price history: ¥299.00 → ¥199.00 → ¥199.00 → ¥199.00 → ¥199.00"
    page.screenshot(path=str(artifacts / "extension-panel.png"))


# ---------------------------------------------------------------------------- 3. spot-check


def test_spot_check_now_shows_the_result_in_the_panel(world, ext, page):
    overlay = open_with_overlay(page, ext, page_url(world, JACKET))
    overlay.panel_text()
    runs_before = {r["id"] for r in api_get(world, "/api/runs")["runs"]}
    overlay.click("sa.panel().querySelector('[data-action=\"spot-check\"]')")
    overlay.wait("sa.panel().innerText.indexOf('Spot-check #') >= 0", what="spot-check progress")
    result = overlay.wait("(function () { var s = sa.panel().querySelector('.status.done');"
                          " return s && s.innerText; })()", timeout=60, what="the spot-check result")
    [run] = [r for r in api_get(world, "/api/runs")["runs"] if r["id"] not in runs_before]
    assert run["kind"] == "spot" and run["status"] == "complete"
    assert result.startswith(f"Spot-check #{run['id']} complete")
    assert "2 open findings, worst critical on this page." in result
    assert "Price ¥199.00 is under the floor" in overlay.panel_text(), "the panel is redrawn after it"


# ---------------------------------------------------------------------------- 4. acknowledge


def test_acknowledging_in_the_panel_is_recorded_in_the_api(world, ext, page):
    finding = next(f for f in api_get(world, f"/api/findings?sku={POWER_BANK}")
                   if f["rule_id"] == "stock.promoted_out_of_stock")
    assert finding["status"] == "open"
    overlay = open_with_overlay(page, ext, page_url(world, POWER_BANK))
    assert "Promoted listing shows 0 in stock" in overlay.panel_text()
    overlay.click(f"sa.panel().querySelector('[data-finding=\"{finding['id']}\"] [data-action=\"acknowledge\"]')")
    overlay.wait("sa.panel().innerText.indexOf('Acknowledged by Merchant Li (merchant)') >= 0",
                 what="the acknowledged state")
    after = api_get(world, f"/api/findings/{finding['id']}", role="agency")
    assert after["status"] == "acknowledged" and after["acknowledged_by"] == "Merchant Li (merchant)"


def test_the_merchant_approves_a_discount_and_waives_with_a_reason_from_the_panel(world, ext, page):
    [finding] = [f for f in api_get(world, f"/api/findings?sku={SOFA}") if f["rule_id"] == "prices.unapproved_discount"]
    overlay = open_with_overlay(page, ext, page_url(world, SOFA))
    assert "40% under the reference" in overlay.panel_text()

    overlay.click("sa.panel().querySelector('[data-action=\"approve\"]')")
    overlay.click("sa.panel().querySelector('[data-action=\"confirm-approve\"]')")
    # Suggested: the smallest whole percentage that covers today's price (¥2,999 is 40.008% off).
    overlay.wait("sa.panel().innerText.indexOf('Approval recorded: SH-0002 may be up to 41%') >= 0", what="the approval")
    [approval] = api_get(world, f"/api/approvals?sku={SOFA}")
    assert approval["max_discount"] == "0.41" and approval["created_by"] == "Merchant Li (merchant)"

    waive = f"sa.panel().querySelector('[data-finding=\"{finding['id']}\"] [data-action=\"waive\"]')"
    overlay.click(waive)
    overlay.click("sa.panel().querySelector('[data-action=\"confirm-waive\"]')")  # no reason yet
    overlay.wait("sa.panel().innerText.indexOf('A reason is needed to waive a finding.') >= 0", what="the refusal")
    assert api_get(world, f"/api/findings/{finding['id']}")["status"] == "open"
    overlay.click("sa.panel().querySelector('[data-form=\"waive\"] input')")
    page.keyboard.type("清仓 agreed by phone")
    overlay.click("sa.panel().querySelector('[data-action=\"confirm-waive\"]')")
    overlay.wait("sa.panel().innerText.indexOf('No open findings on this listing') >= 0", what="the waived state")
    after = api_get(world, f"/api/findings/{finding['id']}")
    assert after["status"] == "waived" and after["waive_reason"] == "清仓 agreed by phone"


def test_the_agency_is_not_offered_the_merchants_buttons(world, ext, page):
    ext.configure(world["api_url"], world["agency"], world["store_url"])
    overlay = open_with_overlay(page, ext, page_url(world, JACKET))
    text = overlay.panel_text()
    assert "Acknowledge" in text and "Spot-check now" in text
    assert "Waive" not in text and "Approve discount" not in text


def test_the_panel_collapses_and_stays_collapsed(world, ext, page):
    overlay = open_with_overlay(page, ext, page_url(world, JACKET))
    assert "Agreed vs now".upper() in overlay.panel_text().upper()
    try:
        overlay.click("sa.panel().querySelector('.toggle')")
        overlay.wait("sa.panel().classList.contains('collapsed')", what="the collapsed panel")
        page.reload()
        height = overlay.wait("sa.panel() && sa.panel().getBoundingClientRect().height", what="the panel")
        assert height < 60, "only the header bar, with its severity chips"
        assert "1 CRITICAL" in overlay.eval("sa.panel().innerText"), "the chips still say what is wrong"
    finally:
        overlay.click("sa.panel().querySelector('.toggle')")
        overlay.wait("!sa.panel().classList.contains('collapsed')", what="the expanded panel")


# ---------------------------------------------------------------------------- 5. hostile titles


def test_a_hostile_title_is_shown_as_text_and_runs_nothing(world, ext, page):
    overlay = open_with_overlay(page, ext, page_url(world, HOSTILE_SKU))
    text = overlay.panel_text()
    assert "<img src=x onerror=alert(1)>" in text
    assert overlay.eval("sa.panel().querySelectorAll('img, script').length") == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now; the page fixture checks


IMG_MARKUP = '<img src=x onerror="window.__pwned=1;alert(1)">'
SCRIPT_MARKUP = "<script>window.__pwned=2</script><svg onload=alert(3)>"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "¥199" after it would read "991¥"
ZERO_WIDTH = "Ja\u200bck\u200det\ufeff \u200e"
LONG = "长" * 10_000


def _hostile_api(world):
    """A stand-in API that answers with the real API's overlays for the jacket's page and the
    apparel category, every piece of store text in them replaced by something hostile: what
    the overlay would get from a store whose agency writes titles to attack the merchant."""
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import JSONResponse

    jacket_path = world["store"].product(JACKET).url_path
    listing = api_get(world, f"/api/overlay?url={page_url(world, JACKET)}")
    category = api_get(world, f"/api/overlay?url={world['store_url']}/c/apparel")
    title = f"{IMG_MARKUP} {RLO}Down jacket ¥199{RLO} {ZERO_WIDTH} {LONG}"
    listing["listing"]["listing"]["current"]["title"] = title
    for i, f in enumerate(listing["listing"]["findings"]):
        f["message"] = [f"Title {RLO}¥199 elcitra{RLO} lacks 山禾; price ¥199.00 is under the floor",
                        SCRIPT_MARKUP][i % 2]
    for card in category["cards"]:
        card["messages"] = [f"{IMG_MARKUP} {RLO}tooltip" for _ in card["messages"]]
        for f in card["findings"]:
            f["message"] = f"{IMG_MARKUP} {RLO}tooltip"
    for body in (listing, category):
        body["dashboard_url"] = "javascript:window.__pwned=4"

    async def overlay(request):
        wanted = request.query_params["url"]
        return JSONResponse(listing if jacket_path in wanted else category)

    async def me(request):
        return JSONResponse({"name": IMG_MARKUP, "role": "merchant", "store": RLO + "Shop"})

    async def health(request):
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/api/overlay", overlay), Route("/api/me", me),
                             Route("/healthz", health)],
                     middleware=[Middleware(CORSMiddleware, allow_origins=[EXTENSION_ORIGIN],
                                            allow_headers=["Authorization", "Content-Type"])])


NOTHING_ACTIVE = """(function () {
  var root = sa.layer();
  var bad = root.querySelectorAll('img, script, iframe, object, embed, style:not(:empty) ~ script, [onerror], [onload]');
  var links = Array.from(root.querySelectorAll('a')).filter(function (a) { return !/^https?:/.test(a.href); });
  return bad.length + links.length;
})()"""


def test_hostile_store_text_in_every_field_stays_plain_text(world, ext, page):
    """Markup, a right-to-left override, zero-width characters and a 10,000-character title,
    in the title, the findings' messages, the badges' tooltips and the dashboard link."""
    with serve(_hostile_api(world)) as hostile:
        ext.configure(hostile, world["merchant"], world["store_url"])
        overlay = open_with_overlay(page, ext, page_url(world, JACKET))
        overlay.panel_text()
        shown = overlay.eval("sa.panel().querySelector('.title').textContent")
        assert shown.startswith(IMG_MARKUP + " [U+202E]Down jacket ¥199[U+202E] " + ZERO_WIDTH)
        assert shown.endswith(LONG), "all 10,000 characters, as text"
        panel_text = overlay.eval("sa.layer().textContent")
        assert RLO not in panel_text, "a direction override is shown, not obeyed"
        assert "Title [U+202E]¥199 elcitra[U+202E] lacks 山禾" in panel_text
        assert SCRIPT_MARKUP in panel_text
        assert overlay.eval(NOTHING_ACTIVE) == 0
        assert overlay.eval("sa.panel().querySelector('.foot a')") is None, "no javascript: link"
        box = overlay.eval("(function () { var r = sa.panel().getBoundingClientRect();"
                           " return {w: r.width, right: r.right, bottom: r.bottom,"
                           " vw: innerWidth, vh: innerHeight}; })()")
        assert box["w"] <= 400 and box["right"] <= box["vw"] and box["bottom"] <= box["vh"], \
            f"the panel keeps its place with a huge title: {box}"
        assert overlay.eval("getComputedStyle(sa.panel().querySelector('.body')).overflowY") == "auto"

        overlay = open_with_overlay(page, ext, world["store_url"] + "/c/apparel")
        overlay.wait("sa.badges().length > 0", what="badges")
        point = overlay.eval("sa.center(chrome.dom.openOrClosedShadowRoot("
                             "document.querySelector('storeaudit-badge')).querySelector('.badge'))")
        page.mouse.move(point["x"], point["y"])
        tip = overlay.wait("(function () { var t = sa.layer().querySelector('.tooltip');"
                           " return t && !t.hidden && t.textContent; })()", what="the tooltip")
        assert IMG_MARKUP + " [U+202E]tooltip" in tip and RLO not in tip
        assert overlay.eval(NOTHING_ACTIVE) == 0
        page.wait_for_timeout(300)  # an onerror or onload would have run by now
        assert page.evaluate("typeof window.__pwned") == "undefined"


# ---------------------------------------------------------------------------- 6. other sites


LOOKALIKE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head>
<body><h1>Not the store</h1>
<article class="product-card" data-sku="SH-0001"><a href="/p/sh-0001-down-jacket">A jacket</a></article>
</body></html>"""


def test_nothing_is_injected_on_a_site_that_is_not_the_store(world, ext, page):
    other = Starlette(routes=[Route("/{path:path}", lambda request: HTMLResponse(LOOKALIKE))])
    with serve(other) as other_url:
        assert other_url != world["store_url"]
        overlay = open_with_overlay(page, ext, other_url + "/p/sh-0001-down-jacket")
        page.wait_for_timeout(1500)
        assert not overlay.injected(), "the content script must not run here"
        assert page.evaluate("document.querySelectorAll('storeaudit-overlay, storeaudit-badge').length") == 0
        assert page.evaluate("document.documentElement.outerHTML").count("storeaudit") == 0


# ---------------------------------------------------------------------------- 7. API down


def test_with_the_api_stopped_the_store_shows_one_quiet_notice_and_still_works(world, ext, page):
    with serve(create_app(world["settings"], contract=world["contract"])) as spare_api:
        ext.configure(spare_api, world["merchant"], world["store_url"])
        overlay = open_with_overlay(page, ext, world["store_url"] + "/c/apparel")
        overlay.wait("sa.badges().length > 0", what="badges while the API is up")
    # The API is stopped now.
    overlay = open_with_overlay(page, ext, world["store_url"] + "/c/apparel")
    notice = overlay.wait("(function () { var n = sa.layer() && sa.layer().querySelectorAll('.notice');"
                          " return n && n.length && Array.from(n).map(function (x) { return x.innerText; }); })()",
                          what="the notice")
    assert len(notice) == 1 and notice[0].startswith("storeaudit: API unreachable")
    assert overlay.eval("sa.badges().length") == 0 and overlay.eval("sa.panel()") is None
    box = overlay.eval("(function () { var r = sa.layer().querySelector('.notice').getBoundingClientRect();"
                       " return {w: r.width, h: r.height}; })()")
    assert box["h"] <= 32 and box["w"] <= 320, "quiet: a small pill, not a banner"
    # The store still works: its cards are there and its links lead on.
    assert page.locator("article.product-card").count() >= 10
    page.click("nav.category-nav a[href='/c/kitchen']")
    page.wait_for_url("**/c/kitchen")
    assert page.locator("article.product-card").count() > 0


def test_a_busy_api_is_left_alone_for_a_while_and_the_last_answer_shown_said_so(
        world, ext, page, monkeypatch):
    """Under overload the API answers 503 with Retry-After; the extension shows the page's
    last answer with a quiet notice, and does not ask again until the pause is over."""
    from api import overload

    notices = ("(function () { var n = sa.layer() && sa.layer().querySelectorAll('.notice');"
               " return n ? Array.from(n).map(function (x) { return x.innerText; }) : []; })()")
    url = page_url(world, JACKET)
    with serve(create_app(world["settings"], contract=world["contract"])) as spare_api:
        ext.configure(spare_api, world["merchant"], world["store_url"])
        overlay = open_with_overlay(page, ext, url)
        assert "under the floor" in overlay.panel_text() and overlay.eval(notices) == []
        monkeypatch.setattr(overload, "LAG_LIMIT", -1.0)      # every read is refused now
        monkeypatch.setattr(overload, "MIN_ARRIVALS", 0)
        monkeypatch.setattr(overload, "RETRY_AFTER", "6")
        assert httpx.get(spare_api + "/api/overlay?url=x", headers={
            "Authorization": f"Bearer {world['merchant']}"}).headers["retry-after"] == "6"
        overlay = open_with_overlay(page, ext, url)
        [notice] = overlay.wait(notices, what="the busy notice")
        assert notice.startswith("storeaudit: the storeaudit server is busy: showing its answer from")
        assert "under the floor" in overlay.panel_text()   # the last answer, still shown
        asked_at = time.monotonic()
        monkeypatch.setattr(overload, "LAG_LIMIT", 10.0)      # the server is well again
        overlay = open_with_overlay(page, ext, url)   # within the pause: not asked
        assert overlay.wait(notices, what="the busy notice")[0] == notice
        assert time.monotonic() - asked_at < 6
        page.wait_for_timeout(max(0, 6.2 - (time.monotonic() - asked_at)) * 1000)
        overlay = open_with_overlay(page, ext, url)   # the pause over: asked, answered afresh
        assert "under the floor" in overlay.panel_text()
        overlay.wait(f"{notices}.length === 0", what="no notice once answered afresh")


# ---------------------------------------------------------------------------- 8. second witness

WITNESS_SKUS = (JACKET, SOFA, POWER_BANK, KNIFE_SET, HOSTILE_SKU, "SH-0007", "SH-0020")
TWO_FACED_SKU = "SH-0012"  # a listing no other test here looks at


def _observations(world, listing_id: int):
    from audits.ledger import Ledger
    with Ledger(world["db"]) as ledger:
        return ledger.observations(listing_id=listing_id)


def test_the_extension_reads_each_listing_as_the_crawler_did(world, ext, page):
    """The second witness is worth something only if both read a page the same way: on pages
    built from JSON-LD, microdata and selectors alone, with a list price, low and no stock and
    a hostile title, what the merchant's browser reports is what the crawler recorded."""
    from audits.ledger import Ledger
    from audits.observations import read_values

    with Ledger(world["db"]) as ledger:
        crawled = {s.sku: s for s in ledger.latest_snapshots()}
    for sku in WITNESS_SKUS:
        overlay = open_with_overlay(page, ext, page_url(world, sku))
        overlay.panel_text()
        # (a price the page's own script fills in comes a moment after the panel)
        read = overlay.wait("(function () { var O = window.__storeauditOverlay;"
                            " var r = O.readListing(O.state.overlay.read_with);"
                            " return r.price !== null && r; })()", what=f"{sku}'s price")
        values = read_values(world["contract"], **read)
        snap = crawled[sku]
        assert (values["title"], values["price"], values["availability"], values["promoted"]) == \
            (" ".join(snap.title.split()), str(snap.price), snap.availability, snap.promoted), sku
        if snap.stock_count is not None:
            assert values["stock_count"] == snap.stock_count, sku
        # ...and the page view was reported, agreeing: the crawler was not sent to look again.
        listing_id = snap.listing_id
        reported = _wait_for(lambda: _observations(world, listing_id))
        assert reported and str(reported[-1].price) == str(snap.price), sku


def _wait_for(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_page_showing_the_crawler_another_price_is_caught_by_the_merchants_browser(world, ext,
                                                                                    page):
    """The store shows a logged-in shopper ¥199 for SH-0012 and the crawler, which has no
    session, the listing's own price: the merchant's page view is reported, the crawler looks
    again at once, and the panel shows the disagreement with both prices and both times."""
    store = world["store"]
    own_price = store.product(TWO_FACED_SKU).price
    runs_before = {r["id"] for r in api_get(world, "/api/runs")["runs"]}
    store.shopper_prices[TWO_FACED_SKU] = own_price - 100
    ext.context.add_cookies([{"name": "session", "value": "shopper-1", "url": world["store_url"]}])
    try:
        overlay = open_with_overlay(page, ext, page_url(world, TWO_FACED_SKU))
        text = overlay.wait("sa.panel() && sa.panel().innerText.indexOf('Your browser saw') >= 0 "
                            "&& sa.panel().innerText", timeout=60,
                            what="the view mismatch in the panel")
    finally:
        ext.context.clear_cookies()
        store.shopper_prices.clear()
    seen = f"¥{own_price - 100:,.2f}"
    crawled = f"¥{own_price:,.2f}"
    assert re.search(rf"Your browser saw {re.escape(seen)} at \d\d:\d\d, the crawler "
                     rf"{re.escape(crawled)} at \d\d:\d\d", text), text
    [finding] = [f for f in api_get(world, f"/api/findings?sku={TWO_FACED_SKU}")
                 if f["rule_id"] == "crawl.view_mismatch"]
    assert finding["severity"] == "major" and finding["status"] == "open"
    assert finding["evidence"]["differences"] == [
        {"field": "price", "browser": f"{own_price - 100:.2f}", "crawler": f"{own_price:.2f}"}]
    [look] = [r for r in api_get(world, "/api/runs")["runs"] if r["id"] not in runs_before]
    assert look["kind"] == "spot" and look["status"] == "complete"
    # The browser's view is kept as its own kind of snapshot, beside the crawler's.
    kept = _observations(world, finding["listing_id"])
    assert str(kept[-1].price) == f"{own_price - 100:.2f}"
    assert kept[-1].reported_by == "Merchant Li (merchant)"


def test_the_agency_cannot_report_what_a_browser_saw(world):
    response = httpx.post(world["api_url"] + "/api/observations",
                          json={"url": page_url(world, JACKET), "price": "1.00"},
                          headers={"Authorization": f"Bearer {world['agency']}"}, timeout=30)
    assert response.status_code == 403
    off_store = httpx.post(world["api_url"] + "/api/observations",
                           json={"url": "http://elsewhere.test/p/1", "price": "1.00"},
                           headers={"Authorization": f"Bearer {world['merchant']}"}, timeout=30)
    assert off_store.status_code == 422 and "not one of the store's origins" in off_store.text
