"""The store's origins: what counts as one, and the guard that keeps every fetch on them.

Nothing is fetched outside the store's origins, on any path: discovery leaves out sitemap and
category links elsewhere (`same_origin`), the browser fetcher checks every request and
redirect hop (`refusal`, in `crawler.browser_fetch`), and the crawl's HTTP client carries
`origin_guard`, which refuses every request and every redirect hop to another host or port,
a loopback service or a non-http(s) address (file:, data:, javascript:) before it is made.
Kept in one module so that every path compares origins the same way (`origin_of`): the
contract's store.origins and the spot-check (in the audits) use it too, so an address the
spot-check accepts is one the crawl fetches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpx


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """The origin of `url` (an origin is a URL too): scheme://host[:port], scheme and host in
    lower case, the scheme's default port left out (https://a:443 is https://a), IPv6 hosts
    in their brackets; no credentials, path, query or fragment.

    The one definition every path compares by: the contract's store.origins, the spot-check,
    discovery, the crawl's HTTP client and the browser. It is by name and exact: another
    spelling of the same machine (localhost and 127.0.0.1, [::1], 2130706433, a trailing dot)
    is another origin; nothing is resolved. A URL whose port cannot be read keeps its
    authority as written, which no origin (see `normal_origin`) equals."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # "host:abc", a port over 65535, "http://[::1"
        return "/".join(url.split("/", 3)[:3]).lower()
    scheme = parts.scheme.lower()
    if not host:
        return f"{scheme}://"
    if ":" in host:  # IPv6: urlsplit drops the brackets
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normal_origin(text: str) -> str:
    """`text` as an origin (see `origin_of`), or ValueError when it is not one: an http(s)
    address with a host, a readable port and nothing else (no credentials, no path beyond
    "/", no query or fragment)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for "host:abc" or a port over 65535
    except ValueError as e:
        raise ValueError(f"{text!r} is not an address that can be read ({e})") from None
    if (parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname
            or "@" in parts.netloc or parts.path not in ("", "/") or parts.query
            or parts.fragment):
        raise ValueError(f"{text!r} is not an origin")
    return origin_of(text)


def normal_origins(origins: Iterable[str]) -> frozenset[str]:
    """Origins as `origin_of` writes them (a trailing slash or upper case changes nothing)."""
    return frozenset(origin_of(o) for o in origins)


def same_origin(url: str, origins: Iterable[str]) -> bool:
    """Whether `url` may be fetched from `origins` (see `refusal`)."""
    return refusal(url, normal_origins(origins)) is None


class OffOrigin(httpx.RequestError):
    """A request, or a redirect hop, to somewhere other than the store's origins: not made."""

    def __init__(self, target: str, problem: str, request: httpx.Request):
        super().__init__(f"{target} not fetched: {problem}", request=request)
        self.target, self.problem = target, problem


def refusal(url: str, origins: frozenset[str] | None) -> str | None:
    """Why `url` must not be fetched (not http(s), credentials, not on `origins`), or None.
    `origins` as `normal_origins` gives them; None: any http(s) address."""
    try:
        parts = urlsplit(url)
    except ValueError as e:  # "http://[::1"
        return f"not an address that can be read ({e})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"only http(s) addresses are fetched, not {parts.scheme or 'this'}:"
    if "@" in parts.netloc:  # even an empty user ("http://@host/"): origin_of drops it
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
