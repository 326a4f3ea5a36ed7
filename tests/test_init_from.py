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


def _oscar_like_store():
    """A django-oscar-style store: products at /catalogue/<slug>_<id>/, categories beside them
    at /catalogue/category/<slug>_<id>/ in the same sitemap, the UPC only in a details table,
    and each photo twice in the gallery (a slide and a cropped dot)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from pictures import encode, picture

    products = [(i, f"Mug {i}", f"50603124000{i:02d}", f"{9 + i}.50") for i in range(1, 7)]

    def product(request):
        i = int(request.path_params["slug"].rsplit("_", 1)[1])
        _, name, upc, price = products[i - 1]
        slides = "".join(f'<div class="carousel-item"><img src="/media/{i}-{n}.png"></div>'
                         for n in range(2))
        dots = "".join(f'<li><img src="/media/{i}-{n}-dot.png"></li>' for n in range(2))
        return HTMLResponse(
            f"<html><head><title>{name} | Frobshop</title></head><body><div class='row'>"
            f"<div class='col'><div id='product_gallery' class='carousel'><div "
            f"class='carousel-inner'>{slides}</div><ol class='carousel-indicators "
            f"img-thumbnail'>{dots}</ol></div></div><div class='col product_main'>"
            f"<h1>{name}</h1><p class='price_color'>£{price}</p><p class='instock "
            f"availability'>In stock (4 available)</p></div></div><table><tr><th>UPC</th>"
            f"<td>{upc}</td></tr></table></body></html>")

    def category(request):
        cards = "".join(f"<li><article class='product_pod'><a href='/catalogue/mug-{i}_{i}/'>"
                        f"<img src='/media/{i}-0.png'></a><h3><a href='/catalogue/mug-{i}_{i}/'>"
                        f"{name}</a></h3><p class='price_color'>£{price}</p></article></li>"
                        for i, name, _, price in products)
        return HTMLResponse(f"<html><body><h1>Kitchen</h1><ol class='row'>{cards}</ol>"
                            "</body></html>")

    def media(request):
        name = request.path_params["name"]
        drawn = picture(name.replace("-dot", ""))
        if name.endswith("-dot.png"):  # a dot: the photo cropped to another shape, tiny
            w, h = drawn.size
            drawn = drawn.crop((0, h // 8, w, h - h // 8)).resize((65, 55))
        return Response(encode(drawn), media_type="image/png")

    def sitemap(request):
        base = str(request.base_url).rstrip("/")
        locs = [f"/catalogue/mug-{i}_{i}/" for i, *_ in products] + \
            [f"/catalogue/category/kitchen_{c}/" for c in (1, 2)]
        return Response('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
            f"<url><loc>{base}{u}</loc></url>" for u in locs) + "</urlset>",
            media_type="application/xml")

    return Starlette(routes=[Route("/", lambda r: HTMLResponse("<title>Frobshop</title>")),
                             Route("/sitemap.xml", sitemap),
                             Route("/catalogue/category/{slug}/", category),
                             Route("/catalogue/{slug}/", product),
                             Route("/media/{name}", media)])


def test_init_from_a_store_nobody_tuned_it_for_leaves_out_its_categories_and_reads_its_upcs(
        tmp_path):
    from servers import serve

    with serve(_oscar_like_store()) as url:
        result = CliRunner().invoke(app, ["init", str(tmp_path), "--from", url, "--sample", "6"],
                                    terminal_width=200)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "listing pages match '/catalogue/(?!category/)'; 6 read" in out
    assert "Kitchen" not in out  # the category pages are not read as listings
    assert "£10.50" in out and "in stock (4)" in out
    rows = list(csv.DictReader((tmp_path / "catalog.csv").open(encoding="utf-8")))
    assert sorted(r["sku"] for r in rows) == [f"50603124000{i:02d}" for i in range(1, 7)]
    table = result.output.split("What storeaudit read")[1]
    assert all(line.split("│")[5].strip() == "2" for line in table.splitlines()
               if "/catalogue/" in line)  # two photos each, the dots not counted again
