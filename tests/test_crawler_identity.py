"""Issue #16: the crawler does not announce itself. A store page that reports what its script
can read about the browser (into the listing's own title), and a server that keeps every
request's headers, see an ordinary desktop Chromium on both paths: no `HeadlessChrome`, no
`navigator.webdriver`, no name of ours."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from crawler.crawl import crawl_sync
from storeaudit.sample_store import demo_contract
from tests.servers import serve

pytestmark = pytest.mark.e2e

# The listing's name is what the page's script saw: the crawler records it as the title.
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>tell</title></head>
<body><div itemscope itemtype="https://schema.org/Product">
<h1 itemprop="name">{name}</h1><meta itemprop="sku" content="TELL-1">
<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
<span itemprop="price" content="99.00">¥99.00</span><meta itemprop="priceCurrency" content="CNY">
</div></div>{script}</body></html>"""
TELL = """<script>
var d = navigator.userAgentData;
document.querySelector('h1').textContent = 'SEEN ' + JSON.stringify({
  ua: navigator.userAgent, webdriver: navigator.webdriver, languages: navigator.languages,
  brands: d ? d.brands.map(function (b) { return b.brand; }) : null});
</script>"""


@pytest.fixture
def telling_store():
    heard: list[dict[str, str]] = []

    async def page(request):
        heard.append({k.lower(): v for k, v in request.headers.items()})
        rendered = request.query_params.get("js") == "1"
        # Over plain HTTP the name is empty: the page leaves it to its script, as many do.
        return HTMLResponse(PAGE.format(name="" if rendered else "Plain name",
                                        script=TELL if rendered else ""))

    with serve(Starlette(routes=[Route("/p/tell", page)])) as url:
        yield url, heard


def _crawl(url: str, page: str, **overrides):
    config = demo_contract().with_base_url(url).crawl_config()
    [snap] = crawl_sync(replace(config, urls=[f"{url}{page}"], **overrides)).snapshots
    return snap


def test_a_rendered_page_sees_an_ordinary_desktop_chromium(telling_store):
    url, heard = telling_store
    snap = _crawl(url, "/p/tell?js=1", render="always")
    assert snap.ok and snap.fetched_with == "browser", snap.error
    seen = json.loads(snap.title.removeprefix("SEEN "))
    assert seen["webdriver"] is False
    assert "HeadlessChrome" not in seen["ua"] and "Headless" not in json.dumps(seen)
    assert seen["ua"].startswith("Mozilla/5.0 (X11; Linux x86_64)") and "Chrome/" in seen["ua"]
    assert seen["brands"] and "HeadlessChrome" not in seen["brands"]
    assert seen["languages"][0] == "zh-CN"
    [request] = heard
    assert request["user-agent"] == seen["ua"]
    assert "Headless" not in request.get("sec-ch-ua", "")
    assert request["accept-language"].startswith("zh-CN")


def test_a_plain_http_request_sends_what_the_browser_sends(telling_store):
    url, heard = telling_store
    _crawl(url, "/p/tell?js=1", render="always")
    snap = _crawl(url, "/p/tell")
    assert snap.ok and snap.fetched_with == "http" and snap.title == "Plain name"
    browser, plain = heard
    assert plain["user-agent"] == browser["user-agent"]
    assert plain["sec-ch-ua"] == browser["sec-ch-ua"]
    assert "storeaudit" not in json.dumps(plain).lower()
    assert plain["accept"].startswith("text/html") and plain["accept-language"].startswith("zh-CN")
