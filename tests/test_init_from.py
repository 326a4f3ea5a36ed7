"""Issue #17: `storeaudit init --from URL` sets storeaudit up from the store itself: it finds
the sitemap and the listing pages, reads the listings and shows what it read, and writes a
contract that audits the store as the hand-written one does."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from audits.catalog import load_catalog
from audits.clock import ManualClock
from audits.contract import load_contract
from audits.ledger import Ledger
from audits.runner import run_audit
from storeaudit.cli import app
from storeaudit.sample_store import demo_contract

pytestmark = pytest.mark.e2e


def _without_screenshots(contract):
    return contract.model_copy(update={"evidence": contract.evidence.model_copy(
        update={"screenshots": False})})


def _open_findings(contract, db, store, days):
    catalog = load_catalog(contract.catalog_path())
    clock = ManualClock(datetime(2026, 11, 9, 2, tzinfo=ZoneInfo("Asia/Shanghai")))
    with Ledger(db, clock) as ledger:
        for day in days:
            store.day = day
            run_audit(contract, ledger, catalog=catalog)
            clock.advance(timedelta(days=1))
        return {(f.rule_id, f.sku) for f in ledger.findings(status=["open", "acknowledged"])}


def test_init_from_the_sample_store_writes_a_contract_that_audits_it_as_the_shipped_one(
        tmp_path, store):
    result = CliRunner().invoke(app, ["init", str(tmp_path), "--from", store.url],
                                terminal_width=160)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # as read, whatever the terminal wrapped
    assert "Listings: 60 found in the sitemap /sitemap.xml; listing pages match '/p/'" in out
    assert "What storeaudit read" in out and "SH-0001" in out and "¥299.00" in out
    assert "in stock (86)" in out
    assert "wrote" in out and "fill in each SKU's cost" in out

    written = load_contract(tmp_path / "contract.toml")
    assert written.store.base_url == store.url and written.store.listing_pattern == "/p/"
    assert written.store.currency == "CNY" and written.store.name.startswith("山禾生活旗舰店")
    rows = list(csv.DictReader((tmp_path / "catalog.csv").open(encoding="utf-8")))
    live = [p for p in store.products() if not p.removed]
    assert sorted(r["sku"] for r in rows) == sorted(p.sku for p in live)
    assert {r["cost"] for r in rows} == {""}  # for the merchant to fill in
    jacket = next(r for r in rows if r["sku"] == "SH-0001")
    assert (jacket["reference_price"], jacket["promoted"]) == ("399.00", "yes")

    # The store as init read it, with the merchant's own catalog and rules: the same
    # findings, night after night, as the hand-written contract gives.
    shipped = _without_screenshots(demo_contract().with_base_url(store.url))
    found = shipped.model_copy(update={"store": written.store.model_copy(
        update={"catalog": str(shipped.catalog_path())})})
    days = (0, 2, 5, 8)
    by_shipped = _open_findings(shipped, tmp_path / "shipped.db", store, days)
    by_init = _open_findings(found, tmp_path / "init.db", store, days)
    assert by_init == by_shipped and len(by_shipped) > 10


def test_init_from_an_address_with_no_store_says_what_was_tried(tmp_path):
    from servers import serve
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    blank = Starlette(routes=[Route("/", lambda r: HTMLResponse(
        "<html><head><title>Coming soon</title></head><body>Soon.</body></html>"))])
    with serve(blank) as url:
        result = CliRunner().invoke(app, ["init", str(tmp_path), "--from", url],
                                    terminal_width=160)
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert f"could not find the listings of {url}" in out
    assert "sitemap" in out and "HTTP 404" in out and "store.listing_pattern" in out
    assert not (tmp_path / "contract.toml").exists()
