"""Security, as an attacker would try it: the spot-check as a way to reach other machines.
43 hostile URLs (other hosts, this machine by other names and number forms, other schemes,
credentials, backslashes, control characters, ...) are refused by the API and by planning,
while a loopback service and the store count their hits and must have none; SKUs and samples
use only listings on the store's origins. SECURITY.md says what each test proves.

The servers are real (uvicorn and http.server on 127.0.0.1, in threads). The world attacked is
tests/security_world.py.
"""

from __future__ import annotations

import http.server
import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from audits.ledger import Ledger
from audits.spot_check import SpotCheckRefused, check_store_url, plan_spot_check
from history import History, listing
from security_world import Secured, bearer, write_contract
from servers import serve


class Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self):
        self.hits.append(self.path)
        body = b"<html><title>secret admin</title></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_HEAD = do_GET

    def log_message(self, *args):
        pass


def counting_server():
    hits: list[str] = []
    handler = type("Handler", (Counting,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.hits = hits
    server.port = server.server_address[1]
    return server


@pytest.fixture(scope="module")
def ssrf(tmp_path_factory):
    """A "store" and, beside it on loopback, a service nobody may reach through storeaudit;
    a ledger that also holds a listing recorded off the store; the API over it."""
    from audits.clock import ManualClock as Clock

    tmp = tmp_path_factory.mktemp("ssrf")
    store, service = counting_server(), counting_server()
    base = f"http://127.0.0.1:{store.port}"
    clock = Clock(datetime(2026, 11, 2, 18, 0, tzinfo=ZoneInfo("UTC")))
    with Ledger(tmp / "ledger.db", clock) as led:
        off_store = listing("EVIL", price="10", url=f"http://127.0.0.1:{service.port}/p/evil")
        world = Secured(tmp, led, clock, base_url=base, extra_listings=[off_store])
        with serve(world.app()) as url:
            world.url, world.store, world.service = url, store, service
            world.base = base
            yield world
    store.shutdown()
    service.shutdown()


def hostile_urls(store_port: int, port: int) -> list[str]:
    store = f"127.0.0.1:{store_port}"
    return [
        "https://evil.example/p/x",
        f"http://127.0.0.1:{port}/admin",                 # another loopback service
        f"http://localhost:{store_port}/p/a",             # the store's machine by another name
        f"http://localhost:{port}/",
        f"http://[::1]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://0.0.0.0:{port}/",
        f"http://2130706433:{port}/",                     # 127.0.0.1 as one number
        f"http://0x7f000001:{port}/",
        f"http://0177.0.0.1:{port}/",
        f"http://127.1:{port}/",
        f"http://127.0.0.1.:{store_port}/p/a",            # trailing dot
        f"http://１２７.０.０.１:{port}/",                  # full-width digits
        f"http://xn--80ak6aa92e.com:{port}/",             # punycode
        f"http://shоp.test:{port}/",                      # Cyrillic о
        f"https://{store}/p/a",                           # the store's host, another scheme
        f"http://{store}.evil.example/",
        f"http://{store}:80/p/a",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "data:text/html,<h1>hi</h1>",
        "javascript:alert(1)",
        f"gopher://127.0.0.1:{port}/_GET",
        f"ftp://127.0.0.1:{port}/",
        f"ws://{store}/p/a",
        f"http://{store}@evil.example/",                  # credentials
        f"http://user:pw@{store}/p/a",
        f"http://@{store}/p/a",
        f"http://127.0.0.1:{port}\\@{store}/",            # backslash: browsers read a path
        f"http://{store}\\@127.0.0.1:{port}/",
        "http:/\\evil.example/",
        "http:\\\\evil.example\\x",
        f"http://127.0.0.1:{port}\t/admin",               # tab and newline: stripped by parsers
        f"http://127.0.0.1:{store_port}\n.evil.example/",
        f"http://{store}/p/a\r\nHost: evil.example",
        f"\x00http://127.0.0.1:{port}/",
        "//evil.example/x",                               # scheme-relative
        f"//127.0.0.1:{port}/admin",
        "http://evil.example#@" + store + "/",
        "http://[::1",                                     # not a URL at all
        f"http://{store}/p/" + "a" * 10_000,              # very long
        "",
    ]


def _ids(urls):
    return [repr(u[:40]) for u in urls]


_URLS = hostile_urls(1111, 2222)  # for the ids; the tests use the fixture's real ports


@pytest.mark.parametrize("index", range(len(_URLS)), ids=_ids(_URLS))
def test_the_api_spot_check_refuses_anything_off_the_store(ssrf, index):
    url = hostile_urls(ssrf.store.port, ssrf.service.port)[index]
    runs_before = len(ssrf.ledger.runs())
    answer = httpx.post(ssrf.url + "/api/spot-checks", json={"url": url},
                        headers=bearer(ssrf.merchant), timeout=30)
    assert answer.status_code == 422, answer.text
    said = answer.json()["detail"][0]["msg"]
    assert re.search(r"origin|http\(s\)|credentials|backslash|control|characters|URL|address",
                     said), said
    assert len(ssrf.ledger.runs()) == runs_before
    assert ssrf.service.hits == [] and ssrf.store.hits == []


@pytest.mark.parametrize("index", range(len(_URLS)), ids=_ids(_URLS))
def test_planning_a_spot_check_refuses_anything_off_the_store(ssrf, index):
    """What the API, the extension's "Spot-check now" and any command go through."""
    url = hostile_urls(ssrf.store.port, ssrf.service.port)[index]
    with pytest.raises(SpotCheckRefused) as refused:
        plan_spot_check(ssrf.contract, ssrf.ledger, url=url)
    assert str(refused.value) and len(str(refused.value)) < 400
    assert ssrf.service.hits == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "file://localhost/etc/passwd",
                                 "data:text/html,x", "javascript:alert(1)", "gopher://h/_x",
                                 "ftp://127.0.0.1/", "ws://shop.test/", "chrome://settings"])
def test_other_schemes_are_refused_by_name(ssrf, url):
    with pytest.raises(SpotCheckRefused, match=r"only http\(s\) pages of the store"):
        check_store_url(ssrf.contract, url)


@pytest.mark.parametrize("given, planned", [
    ("/p/a", "/p/a"),
    ("p/a?x=1#top", "/p/a?x=1"),
    ("{base}/p/a", "/p/a"),
    ("  {base}/p/a  ", "/p/a"),
    ("///evil.example/x", "/evil.example/x"),  # a path on the store, as Python reads it
    ("{base}", ""),
])
def test_pages_of_the_store_are_planned_as_checked(ssrf, given, planned):
    given = given.replace("{base}", ssrf.base)
    assert check_store_url(ssrf.contract, given) == ssrf.base + planned


def test_the_origin_rule_ignores_case_and_default_ports(tmp_path):
    contract, _ = write_contract(tmp_path, "https://Shop.Example")
    for url in ("https://shop.example/p/a", "HTTPS://SHOP.EXAMPLE/p/a", "https://shop.example:443/p/a"):
        assert check_store_url(contract, url).lower().endswith("/p/a")
    for url in ("http://shop.example/p/a", "https://shop.example:8443/p/a"):
        with pytest.raises(SpotCheckRefused, match="not one of the store's origins"):
            check_store_url(contract, url)


def test_skus_and_samples_use_only_listing_urls_on_the_store(ssrf):
    answer = httpx.post(ssrf.url + "/api/spot-checks", json={"skus": ["A", "EVIL"]},
                        headers=bearer(ssrf.merchant))
    assert answer.status_code == 422
    said = answer.json()["detail"][0]["msg"]
    assert "SKU EVIL" in said and "not one of the store's origins" in said
    planned = plan_spot_check(ssrf.contract, ssrf.ledger, sample=50)
    assert sorted(planned) == [f"{ssrf.base}/p/a", f"{ssrf.base}/p/b"], "EVIL is never sampled"
    assert plan_spot_check(ssrf.contract, ssrf.ledger, skus=["B"]) == [f"{ssrf.base}/p/b"]
    assert ssrf.service.hits == []


def test_a_sample_with_only_off_store_listings_is_refused(tmp_path, ledger, clock):
    h = History(ledger, clock)
    h.night(listing("X", url="http://127.0.0.1:9/p/x"))
    contract, _ = write_contract(tmp_path, "http://shop.test")
    with pytest.raises(SpotCheckRefused, match="no listings on the store's origins"):
        plan_spot_check(contract, ledger, sample=3)
