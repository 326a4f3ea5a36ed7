"""Reading a rendered page: the browser waits for a price that a script fills in, and a page
whose scripts break the read in its own world is still read (through Playwright's isolated
world), in real Chromium against pages served on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from aio import run
from crawler.browser_fetch import READ_GRACE_S, BrowserFetcher
from servers import serve

pytestmark = pytest.mark.e2e

PAGE = """<!DOCTYPE html><html><head><title>{name}</title></head><body>
<h1>{name}</h1><span class="price">{price}</span>
<script>{script}</script></body></html>"""

SCRIPTS = {
    # The price arrives 300 ms after load, as a store's price API answer would.
    "late": 'setTimeout(() => { document.querySelector(".price").textContent = "¥88"; }, 300);',
    # The page takes away what a read in its own world uses.
    "sabotaged": 'document.querySelectorAll = () => { throw new Error("no"); };'
                 'XMLSerializer.prototype.serializeToString = () => { throw new Error("no"); };',
    # Its timers never fire: a read that polls in its world would wait for ever.
    "frozen": "window.setTimeout = () => 0;",
}
PRICES = {"late": "", "sabotaged": "¥77", "frozen": ""}


def _page(request):
    name = request.path_params["name"]
    return HTMLResponse(PAGE.format(name=name, price=PRICES[name], script=SCRIPTS[name]))


APP = Starlette(routes=[Route("/p/{name}", _page)])


def _read(urls: list[str], origin: str, fill_timeout_s: float) -> dict[str, tuple[str, float]]:
    async def go():
        out = {}
        async with BrowserFetcher(concurrency=1, wait_for_filled=".price",
                                  fill_timeout_s=fill_timeout_s, origins=[origin]) as fetcher:
            for url in urls:
                started = time.monotonic()
                page = await fetcher.fetch(url)
                assert page.error is None, page.error
                out[url.rsplit("/", 1)[1]] = (page.html, time.monotonic() - started)
        return out
    return run(go())


def test_a_price_a_script_fills_in_is_waited_for_and_a_broken_read_still_reads_the_page():
    with serve(APP) as base:
        read = _read([f"{base}/p/{name}" for name in SCRIPTS], base, fill_timeout_s=1.0)
    late, _ = read["late"]
    assert '<span class="price">¥88</span>' in late and late.startswith("<!DOCTYPE html>")
    sabotaged, _ = read["sabotaged"]
    assert '<span class="price">¥77</span>' in sabotaged and "<h1>sabotaged</h1>" in sabotaged
    frozen, took = read["frozen"]
    assert "<h1>frozen</h1>" in frozen and '<span class="price"></span>' in frozen
    assert took < 1.0 + READ_GRACE_S + 5  # given up, not waited on for ever


# A store nobody set selectors for: its price box ("prijs") and stock line are filled 350 ms
# after load; the default price selector matches nothing on the page.
UNTUNED = """<!DOCTYPE html><html><head><title>Fietstas</title></head><body><main>
<h1>Fietstas 20 L</h1><div class="prijs" id="prijs"><span class="prijs__laden"></span></div>
<p id="voorraad"></p><script>setTimeout(() => {
  document.getElementById("prijs").innerHTML = '<s>€ 109,00</s> <span>€ 89,00</span>';
  document.getElementById("voorraad").textContent = "Op voorraad";
}, 350);</script></main></body></html>"""


def test_a_price_box_a_script_fills_is_waited_for_though_no_selector_names_it():
    from crawler.extract import extract_listing

    app = Starlette(routes=[Route("/p/fietstas", lambda r: HTMLResponse(UNTUNED))])
    with serve(app) as base:
        read = _read([f"{base}/p/fietstas"], base, fill_timeout_s=3.0)
    html, took = read["fietstas"]
    got = extract_listing(html, f"{base}/p/fietstas", default_currency="EUR", rendered=True)
    assert (str(got.price), str(got.list_price)) == ("89.00", "109.00")
    assert got.availability == "InStock"
    assert took < 3.0  # read once the box was filled, not at the fill timeout
