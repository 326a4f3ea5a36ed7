"""The guarded HTTP clients: every fetch of a store's page or image goes through one of these,
so every request and every redirect hop is checked against the store's origins before it is
made (`crawler.origins.origin_guard`), and answers are bounded in time.

`crawl_client` is the crawl's one (async, pooled); `guarded_client` serves a fetch made
outside a crawl (the email's thumbnail of a listing image) under the same guard."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from .fetch import ACCEPT_ENCODING, MAX_REDIRECTS
from .origins import OffOrigin, normal_origins, origin_guard, refusal

USER_AGENT = "storeaudit/0.1 (merchant contract audit)"


def crawl_client(origins: Iterable[str], *, timeout_s: float,
                 concurrency: int) -> httpx.AsyncClient:
    """The crawl's one HTTP client; it refuses every request and redirect hop off `origins`."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        event_hooks={"request": [origin_guard(origins)]},
    )


def guarded_client(origins: Iterable[str], *, timeout_s: float) -> httpx.Client:
    """A plain (sync) client under the same guard: OffOrigin for any request or redirect hop
    off `origins`."""
    allowed = normal_origins(origins)

    def guard(request: httpx.Request) -> None:
        problem = refusal(str(request.url), allowed)
        if problem:
            raise OffOrigin(str(request.url), problem, request)

    return httpx.Client(timeout=httpx.Timeout(timeout_s), headers={"User-Agent": USER_AGENT},
                        follow_redirects=True, max_redirects=MAX_REDIRECTS,
                        event_hooks={"request": [guard]})
