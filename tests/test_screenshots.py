"""Screenshots as evidence: the listing's page as the crawler's browser rendered it when a
finding was first seen and when it was resolved, kept within a retention limit and a size
cap, and shown on the finding's dashboard page."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from PIL import Image

from audits.clock import ManualClock
from audits.ledger import Ledger


def _shot(finding_id: int, size: int) -> dict:
    return {"finding_id": finding_id, "moment": "first_seen", "run_id": None,
            "url": "http://shop.test/p/a", "jpeg": bytes([finding_id % 251]) * size,
            "width": 1280, "height": 720}


def test_the_screenshots_never_take_more_than_the_cap_and_the_newest_stay(tmp_path):
    clock = ManualClock(datetime(2026, 11, 1, tzinfo=timezone.utc))
    with Ledger(tmp_path / "l.db", clock) as ledger:
        cap = 1_000_000
        for i in range(1, 41):  # 40 × 100 kB: four times the cap
            clock.advance(timedelta(hours=1))
            ledger.add_screenshots([_shot(i, 100_000)])
            ledger.prune_screenshots(keep_days=90, max_bytes=cap)
            assert ledger.screenshot_bytes() <= cap
        kept = [s.finding_id for i in range(1, 41) for s in ledger.screenshots(i)]
        assert kept == list(range(31, 41))  # the ten newest
        assert ledger.screenshot_jpeg(ledger.screenshots(40)[0].id) == bytes([40]) * 100_000
        # Older than the retention limit: dropped whatever the room left.
        clock.advance(timedelta(days=2))
        ledger.add_screenshots([_shot(41, 10)])
        assert ledger.prune_screenshots(keep_days=1, max_bytes=cap) == 10
        assert [s.finding_id for s in ledger.screenshots(41)] == [41]
        assert ledger.screenshot_bytes() == 10


def test_a_screenshot_moment_is_first_seen_or_resolved(tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        with pytest.raises(ValueError, match="moment"):
            ledger.add_screenshots([{**_shot(1, 10), "moment": "whenever"}])
        assert ledger.screenshot_bytes() == 0


@pytest.mark.e2e
def test_a_findings_screenshots_are_taken_kept_and_shown_on_its_page(tmp_path, page, artifacts):
    """The sample store's jacket drops under its floor on day 2 and is back on day 8: the
    finding's page shows the jacket's page as storeaudit's browser saw it, both times."""
    from api.app import create_app
    from api.settings import ApiSettings
    from audits.catalog import load_catalog
    from audits.runner import run_audit
    from demostore import scenario
    from demostore.app import DemoStore
    from demostore.server import run_in_thread
    from servers import serve
    from storeaudit.sample_store import demo_contract

    shop = DemoStore(size=60)
    with run_in_thread(shop) as running:
        contract = demo_contract().with_base_url(running.url)
        quiet = contract.model_copy(update={"evidence": contract.evidence.model_copy(
            update={"screenshots": False})})
        catalog = load_catalog(contract.catalog_path())
        jacket = running.url + shop.product(scenario.JACKET_SKU).url_path
        only_jacket = dataclasses.replace(contract.crawl_config(), urls=[jacket])
        clock = ManualClock(datetime.now(timezone.utc) - timedelta(days=8))
        with Ledger(tmp_path / "l.db", clock) as ledger:
            run_audit(quiet, ledger, catalog=catalog)  # day 0: nothing to show yet
            for day in (scenario.JACKET_DROP_DAY, scenario.JACKET_RESTORE_DAY):
                shop.day = day
                clock.set(datetime.now(timezone.utc) - timedelta(days=8 - day))
                run_audit(contract, ledger, kind="spot", catalog=catalog, config=only_jacket)
            (floor,) = ledger.findings(rule_id="prices.below_floor", sku=scenario.JACKET_SKU)
            assert floor.status == "resolved"
            shots = ledger.screenshots(floor.id)
            assert [s.moment for s in shots] == ["first_seen", "resolved"]
            for shot in shots:
                picture = Image.open(io.BytesIO(ledger.screenshot_jpeg(shot.id)))
                assert picture.format == "JPEG" and picture.size == (1280, 720)
                assert 5_000 < shot.bytes <= 300 * 1024
            merchant, _ = ledger.create_token("Merchant", "merchant")
        settings = ApiSettings(db_path=tmp_path / "l.db", contract_path=contract.path)
        with serve(create_app(settings, contract=contract)) as api:
            page.goto(f"{api}/login")
            page.fill("#token", merchant)
            page.click("button[type=submit]")
            page.wait_for_url(f"{api}/")
            page.goto(f"{api}/findings/{floor.id}")
            heading = page.get_by_role("heading", name="The page as storeaudit's browser saw it")
            heading.wait_for()
            figures = page.locator("figure.screenshot")
            assert figures.count() == 2
            assert figures.nth(0).locator("figcaption").inner_text().startswith("First seen")
            assert figures.nth(1).locator("figcaption").inner_text().startswith("Resolved")
            for i in range(2):
                image = figures.nth(i).locator("img")
                image.scroll_into_view_if_needed()
                page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                       arg=image.element_handle())
                assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [1280, 720]
            heading.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "finding-screenshots.png"))
            # Without a session the screenshot is not served.
            anonymous = httpx.get(f"{api}/screenshots/{shots[0].id}.jpg", timeout=30)
            assert anonymous.status_code in (303, 401) and not anonymous.content.startswith(b"\xff\xd8")


@pytest.mark.e2e
def test_a_page_that_freezes_or_leaves_the_store_costs_its_screenshot_only(store):
    """The agency's pages: one whose script spins for ever after load, one that sends the
    browser to another site. Neither stalls the shooter past its deadline nor is followed;
    the well-behaved page beside them is still shot."""
    import time

    from crawler.config import CrawlConfig
    from crawler.screenshots import shoot_pages_sync
    from demostore import scenario

    spinning, leaving, fine = (store.url + store.product(sku).url_path
                               for sku in (scenario.JACKET_SKU, scenario.SOFA_SKU, "SH-0008"))
    store.faults[store.product(scenario.JACKET_SKU).url_path] = "spinscript"
    store.faults[store.product(scenario.SOFA_SKU).url_path] = "offsite"
    config = CrawlConfig(base_url=store.url, page_timeout_s=5)
    started = time.monotonic()
    shots = shoot_pages_sync(config, [spinning, leaving, fine])
    assert time.monotonic() - started < 30
    assert shots[fine].jpeg is not None and shots[fine].error is None
    assert shots[leaving].jpeg is None and "not followed" in shots[leaving].error
    # A page frozen after load cannot paint: it is given up within the page timeout, saying
    # so. (Its script spins 50 ms after load; a shot taken before that is a true picture.)
    if shots[spinning].jpeg is None:
        assert re.search(r"Timeout 5000ms exceeded|kept it busy", shots[spinning].error)
    else:
        assert shots[spinning].error is None
