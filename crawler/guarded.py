"""The guarded HTTP client: every plain-HTTP fetch of a store's page or image goes through the
crawl's one (async, pooled), so every request and every redirect hop is checked against the
store's origins before it is made (`crawler.origins.origin_guard`), and answers are bounded
in time. Nothing outside a crawl fetches from the store: the dashboard and the email show the
thumbnails the crawl kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from .fetch import ACCEPT_ENCODING, MAX_REDIRECTS
from .identity import http_headers, installed_version
from .origins import origin_guard


def crawl_client(origins: Iterable[str], *, timeout_s: float,
                 concurrency: int) -> httpx.AsyncClient:
    """The crawl's one HTTP client; it refuses every request and redirect hop off `origins`."""
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        limits=limits,
        transport=_AiohttpWire(limits),
        # A desktop Chromium's headers: a store cannot tell the audit from a shopper by them.
        headers={**http_headers(installed_version()), "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        event_hooks={"request": [origin_guard(origins)]},
    )


# A response's header line or field longer than this is refused (h11's limit, httpx's own
# transport's, is 16 KB for the whole head; aiohttp's default 8 KB per line is less than some
# stores' Link and Set-Cookie headers).
MAX_HEADER_BYTES = 32 * 1024


class _AiohttpWire(AiohttpTransport):
    """httpx's client over aiohttp's connections: the client's redirects, origin checks,
    timeouts and streaming stay as they are; a request costs the crawl ~0.5 ms of CPU instead
    of ~1 ms over httpcore (measured, 2,000 conditional requests on keep-alive: 1.0 s against
    2.1 s), which is most of a nightly where nothing changed.

    aiohttp's cookie jar is left out (httpx's client keeps the cookies, once), and every
    aiohttp error, in the head or in the body, becomes the httpx error it is: a store that
    sends a malformed or oversized head, or drops the connection, fails the page, not the crawl.
    (httpx-aiohttp's own mapping calls a dropped connection a connect timeout and lets a
    malformed head through as aiohttp's own exception.)"""

    def __init__(self, limits: httpx.Limits):
        super().__init__(limits=limits, client=self._session)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections or 0,
                                         keepalive_timeout=self.limits.keepalive_expiry,
                                         ssl=self.ssl_context)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     max_line_size=MAX_HEADER_BYTES,
                                     max_field_size=MAX_HEADER_BYTES)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except (aiohttp.ClientError, httpx.TransportError) as e:
            raise _as_httpx(e, request) from e
        response.stream = _PlainErrors(response.stream, request)
        return response


class _PlainErrors(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request):
        self.stream, self.request = stream, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.stream:
                yield chunk
        except (aiohttp.ClientError, httpx.TransportError) as e:
            raise _as_httpx(e, self.request) from e

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        except (aiohttp.ClientError, httpx.TransportError):
            pass  # the connection is dropped either way


def _as_httpx(error: Exception, request: httpx.Request) -> httpx.TransportError:
    """The httpx error an aiohttp one is (looked for under httpx-aiohttp's mapping)."""
    cause = error
    while isinstance(cause, httpx.TransportError) and isinstance(cause.__cause__, Exception):
        cause = cause.__cause__
    # a response's head refused: what was wrong with it, not the request's repr
    message = (cause.message if isinstance(cause, aiohttp.ClientResponseError) else str(cause)
               ) or type(cause).__name__
    message = " ".join(message.split())[:300]   # one line: it is shown as the page's error
    if isinstance(cause, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(cause, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError,
                          aiohttp.ClientOSError)):
        return httpx.ReadError(f"{type(cause).__name__}: {message}", request=request)
    if isinstance(cause, httpx.TransportError):
        return cause
    return httpx.RemoteProtocolError(message, request=request)
