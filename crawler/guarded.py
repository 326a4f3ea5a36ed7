"""The guarded HTTP client: every plain-HTTP fetch of a store's page or image goes through the
crawl's one (async, pooled), so every request and every redirect hop is checked against the
store's origins before it is made (`crawler.origins.origin_guard`), and answers are bounded
in time. Nothing outside a crawl fetches from the store: the dashboard and the email show the
thumbnails the crawl kept."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from .fetch import ACCEPT_ENCODING, MAX_REDIRECTS
from .identity import http_headers, installed_version
from .origins import origin_guard


def crawl_client(origins: Iterable[str], *, timeout_s: float,
                 concurrency: int) -> httpx.AsyncClient:
    """The crawl's one HTTP client; it refuses every request and redirect hop off `origins`."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        # A desktop Chromium's headers: a store cannot tell the audit from a shopper by them.
        headers={**http_headers(installed_version()), "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        event_hooks={"request": [origin_guard(origins)]},
    )

