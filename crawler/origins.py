"""The store's origins: what counts as one, and the guard that keeps every fetch on them.

Nothing is fetched outside the store's origins, on any path: discovery leaves out sitemap and
category links elsewhere (`same_origin`), the browser fetcher checks every request and
redirect hop (`refusal`, in `crawler.browser_fetch`), and the crawl's HTTP client carries
`origin_guard`, which refuses every request and every redirect hop to another host or port,
a loopback service or a non-http(s) address (file:, data:, javascript:) before it is made.
Kept in one module so that every path compares origins the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpx


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def normal_origins(origins: Iterable[str]) -> frozenset[str]:
    return frozenset(o.rstrip("/").lower() for o in origins)


def same_origin(url: str, origins: Iterable[str]) -> bool:
    return origin_of(url) in normal_origins(origins)


class OffOrigin(httpx.RequestError):
    """A request, or a redirect hop, to somewhere other than the store's origins: not made."""

    def __init__(self, target: str, problem: str, request: httpx.Request):
        super().__init__(f"{target} not fetched: {problem}", request=request)
        self.target, self.problem = target, problem


def refusal(url: str, origins: frozenset[str] | None) -> str | None:
    """Why `url` must not be fetched (not http(s), credentials, not on `origins`), or None.
    `origins` None: any http(s) address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return f"only http(s) addresses are fetched, not {parts.scheme or 'this'}:"
    if parts.username or parts.password:
        return "addresses with credentials are not fetched"
    if origins is not None and origin_of(url) not in origins:
        return (f"{origin_of(url)} is not one of the store's origins ({', '.join(sorted(origins))}); "
                "add it to store.origins in the contract if it is the store's")
    return None


def origin_guard(origins: Iterable[str]) -> Callable[[httpx.Request], Awaitable[None]]:
    """An httpx request hook refusing (OffOrigin) any request off `origins`. httpx calls
    request hooks for every redirect hop too, so a redirect cannot leave the store."""
    allowed = normal_origins(origins)

    async def guard(request: httpx.Request) -> None:
        problem = refusal(str(request.url), allowed)
        if problem:
            raise OffOrigin(str(request.url), problem, request)

    return guard
