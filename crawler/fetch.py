"""Fetching listing pages: plain HTTP first, a real browser when a page needs one.

Two fetchers behind one small interface (`Fetcher.fetch(url, state) -> FetchedPage`), as in
Crawlee's adaptive crawler; the crawl loop decides which one a page gets. This module holds
the interface, the page a fetcher returns, the helpers both fetchers share and the plain-HTTP
fetcher; the browser fetcher is `crawler.browser_fetch`, the origin checks `crawler.origins`.

`HttpFetcher` asks for a page conditionally (ETag / Last-Modified from the last crawl), so an
unchanged page costs a 304 and no body. `BrowserFetcher` renders the pages that need a
browser (see `crawler.browser_fetch`).

Both go through the crawl's `Politeness`: per-origin slots and a request rate.

Neither fetches anything outside the store's origins. The crawl's HTTP client carries
`origin_guard` (`crawler.origins`), which refuses every request and every redirect hop to
another host or port, a loopback service or a non-http(s) address (file:, data:,
javascript:) before it is made. In the browser, every request goes through
`BrowserFetcher._route`, which checks it and makes it itself, one redirect hop at a time.

A refused redirect and a redirect loop are errors no retry can fix (`FetchedPage.permanent`).
A 429 or 503 hands on its Retry-After, and an HTML document that stops before `</html>` is
marked `cut_off` (a truncated response), for the crawl loop to retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from collections.abc import Callable
from typing import Protocol

import httpx

from .origins import OffOrigin, refusal
from .polite import Politeness
from .snapshot import ImageInfo, PageState

MAX_PAGE_BYTES = 10 * 1024 * 1024
# Redirect hops followed for one page; more is a loop (browsers give up at 20).
MAX_REDIRECTS = 10
TOO_MANY_REDIRECTS = "too many redirects (more than {n}): the store redirects in a loop"


@dataclass
class FetchedPage:
    url: str
    final_url: str | None = None
    status: int | None = None
    html: str | bytes | None = None
    error: str | None = None
    fetched_with: str = "browser"
    not_modified: bool = False  # 304: the page is as it was at `state`
    body_sha256: str | None = None  # of the HTML as served (not as rendered)
    etag: str | None = None
    last_modified: str | None = None
    resources: dict[str, str] = field(default_factory=dict)  # rendered pages: url -> sha256
    # Seconds the store asked us to wait (Retry-After on a 429 or 503), as sent.
    retry_after: float | None = None
    # An error no retry can fix: a redirect loop, a redirect off the store, a refused address.
    permanent: bool = False
    # The HTML document stops before its end (no </html>): a truncated response.
    cut_off: bool = False

    def state(self) -> PageState:
        return PageState(self.url, self.fetched_with, self.body_sha256, self.etag,
                         self.last_modified, dict(self.resources))


class Fetcher(Protocol):
    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage: ...


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def conditional_headers(state: PageState | ImageInfo | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what was recorded of a page or an image."""
    headers: dict[str, str] = {}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds: "120" or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html)", re.IGNORECASE)
_HTML_END = re.compile(rb"</html\s*>", re.IGNORECASE)


def looks_cut_off(body: bytes, content_type: str | None) -> bool:
    """An HTML document (it starts with <!doctype html> or <html>) that never reaches its
    </html>: the response was cut off part-way, and what it lacks cannot be told."""
    if content_type and "html" not in content_type.lower():
        return False
    if not _HTML_START.match(body[:1024].removeprefix(b"\xef\xbb\xbf")):
        return False
    return _HTML_END.search(body) is None


class HttpFetcher:
    """Plain HTTP through the crawl's shared keep-alive client (give it `origin_guard`).

    `deadline_s` bounds each whole response, from the request to its last byte: the
    client's timeout bounds each read, and a store that sends a byte a second never lets
    a read time out."""

    def __init__(self, client: httpx.AsyncClient, politeness: Politeness,
                 deadline_s: float = 15.0):
        self.client = client
        self.politeness = politeness
        self.deadline_s = deadline_s
        self.downloads = 0  # page bodies received (a 304 is not one)

    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage:
        # Not http(s): refused here (httpx would misread a file: address). The origins are
        # checked by the client's `origin_guard`, for every redirect hop too.
        problem = refusal(url, None)
        if problem:
            return FetchedPage(url, fetched_with="http", permanent=True,
                               error=f"not fetched: {problem}")
        try:
            async with self.politeness.request(url), asyncio.timeout(self.deadline_s):
                async with self.client.stream("GET", url, headers=conditional_headers(state)) as r:
                    if r.status_code == 304 or r.status_code >= 400:
                        # Read the (empty or small) rest: a response closed unread closes
                        # its keep-alive connection too.
                        await read_capped(r, MAX_PAGE_BYTES, PageTooLarge)
                    if r.status_code == 304 and state is not None:
                        return FetchedPage(url, str(r.url), 304, fetched_with="http",
                                           not_modified=True, body_sha256=state.body_sha256,
                                           etag=r.headers.get("etag", state.etag),
                                           last_modified=r.headers.get("last-modified",
                                                                       state.last_modified))
                    if r.status_code >= 400:
                        return FetchedPage(url, str(r.url), r.status_code, fetched_with="http",
                                           error=f"HTTP {r.status_code}",
                                           retry_after=parse_retry_after(r.headers.get("retry-after")))
                    body = await read_capped(r, MAX_PAGE_BYTES, PageTooLarge)
                    self.downloads += 1
                    content_type = r.headers.get("content-type", "")
                    charset = "charset=" in content_type.lower()
                    html: str | bytes = body.decode(r.encoding or "utf-8", "replace") if charset else body
                    return FetchedPage(url, str(r.url), r.status_code, html, fetched_with="http",
                                       body_sha256=sha256(body), etag=r.headers.get("etag"),
                                       last_modified=r.headers.get("last-modified"),
                                       cut_off=looks_cut_off(body, content_type))
        except OffOrigin as e:
            hop = e.request.url != httpx.URL(url)  # a redirect's, not the page's own address
            return FetchedPage(url, fetched_with="http", permanent=True,
                               error=(f"redirected to {e.target}, not followed: {e.problem}"
                                      if hop else f"not fetched: {e.problem}"))
        except httpx.TooManyRedirects:
            return FetchedPage(url, fetched_with="http", permanent=True,
                               error=TOO_MANY_REDIRECTS.format(n=self.client.max_redirects))
        except (httpx.TimeoutException, TimeoutError):
            return FetchedPage(url, fetched_with="http", error=timed_out(self.deadline_s))
        except (httpx.HTTPError, PageTooLarge) as e:
            return FetchedPage(url, fetched_with="http", permanent=isinstance(e, PageTooLarge),
                               error=f"could not load page: {type(e).__name__}: {e}")

    async def resources_unchanged(self, resources: dict[str, str]) -> bool:
        """True when every script and data response a rendered page used is byte-identical."""
        for url, digest in resources.items():
            try:
                async with self.politeness.request(url), asyncio.timeout(self.deadline_s):
                    async with self.client.stream("GET", url) as r:
                        body = await read_capped(r, MAX_PAGE_BYTES, PageTooLarge)
            except (httpx.HTTPError, PageTooLarge, TimeoutError):
                return False
            if r.status_code >= 400 or sha256(body) != digest:
                return False
        return True


class PageTooLarge(ValueError):
    pass


async def get_capped(client: httpx.AsyncClient, url: str, *, limit: int = MAX_PAGE_BYTES,
                     deadline_s: float = 15.0) -> tuple[int, bytes, httpx.Response]:
    """GET `url` whole: (status, the body decoded, the response for its headers), within
    `limit` bytes (PageTooLarge) and `deadline_s` seconds for all of it (TimeoutError);
    httpx's errors as they come. For the pages a crawl reads besides listings: sitemaps,
    the home page, category pages."""
    async with asyncio.timeout(deadline_s):
        async with client.stream("GET", url) as response:
            body = await read_capped(response, limit, PageTooLarge)
    return response.status_code, body, response


def timed_out(seconds: float) -> str:
    """The error of a response that did not arrive whole in time (however slowly it came)."""
    return f"timed out after {seconds:g} s"


# What the guarded clients accept: what `read_capped` can decode itself, a bounded amount at a
# time (a gzip "bomb" of half a megabyte can stand for 512 MiB of zeros).
ACCEPT_ENCODING = "gzip, deflate"


def _decoder(encoding: str | None, refuse: Callable[[str], Exception]):
    """A function (raw chunk, at most n bytes) -> decoded bytes, for the response's
    Content-Encoding; it never makes more than n bytes of one chunk."""
    kind = (encoding or "identity").strip().lower()
    if kind in ("", "identity"):
        return lambda chunk, n: chunk
    if kind in ("gzip", "x-gzip", "deflate"):
        wbits = [zlib.MAX_WBITS | 16] if kind != "deflate" else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
        state = {"d": zlib.decompressobj(wbits[0]), "started": False, "pending": b""}

        def decode(chunk: bytes, n: int) -> bytes:
            data = state["pending"] + chunk
            try:
                out = state["d"].decompress(data, n + 1)
            except zlib.error:
                if kind == "deflate" and not state["started"]:  # raw deflate, no zlib header
                    state["d"] = zlib.decompressobj(wbits[1])
                    out = state["d"].decompress(data, n + 1)
                else:
                    raise refuse("a body that is not the gzip/deflate it says it is") from None
            state["started"] = True
            # Input not yet decoded (more was in it than n + 1 bytes): it comes with the next
            # chunk, and is already more than the cap allows, so the caller refuses.
            state["pending"] = state["d"].unconsumed_tail
            return out

        return decode
    raise refuse(f"a body in the {kind!r} encoding, which was not asked for")


async def read_capped(response: httpx.Response, limit: int,
                      refuse: Callable[[str], Exception]) -> bytes:
    """The body, decoded, or `refuse(how much)` raised once it is known to pass `limit`
    bytes: from its declared length before reading, else while reading, counting the bytes
    as decoded (a store's body is untrusted: a small compressed body may stand for a huge
    one, and it is never decoded past the limit)."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise refuse(f"{declared} bytes (limit {limit})")
    if response.is_stream_consumed:
        # Read whole already by whoever made it (httpx.MockTransport's answers): its bytes
        # are decoded and in memory; the cap still holds for what is handed on.
        chunks_in, decode = response.aiter_bytes(), (lambda chunk, n: chunk)
    else:
        chunks_in = response.aiter_raw()
        decode = _decoder(response.headers.get("content-encoding"), refuse)
    chunks, size = [], 0
    async for raw in chunks_in:
        chunk = decode(raw, limit - size)
        size += len(chunk)
        if size > limit:
            raise refuse(f"over {limit} bytes" + (" once decompressed"
                                                  if response.headers.get("content-encoding")
                                                  else ""))
        chunks.append(chunk)
    return b"".join(chunks)
