"""A store that breaks HTTP itself, against the crawl's client (httpx over aiohttp's
connections, crawler/guarded.py): an oversized or malformed response head, a connection
dropped part-way through a body. Each fails its own page with an error a person can read;
the crawl goes on and the good page beside them is read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crawler.crawl import crawl_sync
from servers import RawLoopback
from storeaudit.sample_store import demo_contract

GOOD = (b"<html><head><title>Kettle</title></head><body><h1 class='product-title'>Kettle</h1>"
        b"<span class='price'>\xc2\xa5199.00</span></body></html>")


def _answer(head: bytes) -> bytes:
    parts = head.split(b" ", 2)
    path = parts[1].decode("latin-1") if len(parts) > 2 else ""
    if path == "/p/huge-header":
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Filler: " + b"a" * 100_000
                + b"\r\nContent-Length: 5\r\n\r\nhello")
    if path == "/p/garbage":
        return b"THIS IS NOT HTTP AT ALL\r\n\r\n"
    if path == "/p/dropped":
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Length: 100000\r\n\r\n<html><body>" + b"x" * 2000)
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(GOOD)).encode() + b"\r\n\r\n" + GOOD)


@pytest.fixture
def wire():
    """A loopback "store" that writes each answer as raw bytes and closes the connection."""
    server = RawLoopback(_answer)
    yield server
    server.close()


def test_a_broken_response_fails_its_page_and_the_crawl_goes_on(wire):
    config = replace(demo_contract().with_base_url(wire.url).crawl_config(),
                     urls=["/p/huge-header", "/p/garbage", "/p/dropped", "/p/good"],
                     retries=0, page_timeout_s=5.0, recheck_share=0)
    result = crawl_sync(config)
    by_path = {s.url.removeprefix(wire.url): s for s in result.snapshots}

    assert by_path["/p/good"].error is None and by_path["/p/good"].title == "Kettle"
    for path in ("/p/huge-header", "/p/garbage", "/p/dropped"):
        error = by_path[path].error
        assert error and error.startswith("could not load page: "), (path, error)
        assert "timed out" not in error, (path, error)   # the store broke it; no clock ran out
    assert "Bad status line" in by_path["/p/garbage"].error
    assert "received 2012 of 100000 bytes" in by_path["/p/dropped"].error
