"""The sample store's fault injection: what a store does wrong, on demand, for the tests.

    store.faults["/p/sh-0001-down-jacket"] = "503"
    store.fault_times["/p/sh-0001-down-jacket"] = 2   # only the next two requests

Fault kinds (keyed by exact URL path, query ignored):
  "timeout"  hang `store.timeout_seconds` (asyncio.sleep), then answer 504
  "500" / "503" / "429" / "404"  that status with an error page (503/429 carry
             Retry-After: `store.retry_after`, "1" unless a test sets another)
  "halfpage" the real page, cut off part-way (200, truncated HTML: no price, no closing tags)
  "captcha"  a 200 login / slider-verification wall instead of the page
  "redirectloop" 302 to the same path with ?hop=N+1, for ever
  "offsite"  302 to `store.offsite_url` (another host or port, a file: address ...)
  "notimage" (for image paths) 200 image/jpeg whose body is an HTML error page, not an image
  "truncatedimage" (for image paths) 200 image/jpeg with only the first bytes of a JPEG
  "bomb"     (for image paths) 200 image/png: a 20,000 x 20,000 one-colour PNG of ~50 KB
  "hugeimage" (for image paths) 200 image/jpeg streaming 50 MB with no Content-Length

`store.fault_times[path] = N` makes the fault at that path a passing one: it plays for the next
N requests, then the path answers normally again.

The same middleware counts every request into `store.hits` (by path prefix) and
`store.path_hits` (by full path); the settings and counters are DemoStore's (demostore/app.py).
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from jinja2 import Environment

from . import images as imagegen

FAULT_KINDS = ("timeout", "500", "503", "429", "404", "halfpage", "captcha", "redirectloop",
               "offsite", "notimage", "truncatedimage", "bomb", "hugeimage")


def _prefix(path: str) -> str:
    if path in ("", "/"):
        return "/"
    first = path.lstrip("/").split("/", 1)[0]
    return "/" + first


class StoreMiddleware:
    """Counts requests and plays the faults configured in `store.faults`. Error pages and the
    captcha wall are rendered from `env`, the store's own templates."""

    def __init__(self, app, store, env: Environment) -> None:
        # `store`: the DemoStore (demostore/app.py) whose fault settings and counters this reads
        self.app = app
        self.store = store
        self.env = env

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        store = self.store
        store.hits[_prefix(path)] += 1
        store.path_hits[path] += 1
        fault = store.faults.get(path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if path in store.fault_times:
            store.fault_times[path] -= 1
            if store.fault_times[path] <= 0:
                del store.fault_times[path], store.faults[path]
        if fault == "timeout":
            await asyncio.sleep(store.timeout_seconds)
            await self._send_page(send, 504, "error.html", code=504, message="网关超时，请稍后再试。")
        elif fault in ("500", "503", "429", "404"):
            messages = {
                "500": "服务器开小差了，请稍后再试。",
                "503": "系统繁忙，请稍后再试。",
                "429": "访问过于频繁，请稍后再试。",
                "404": "您访问的页面不存在。",
            }
            headers = {"Retry-After": store.retry_after} if fault in ("503", "429") else {}
            await self._send_page(send, int(fault), "error.html", headers, code=int(fault), message=messages[fault])
        elif fault == "captcha":
            await self._send_page(send, 200, "captcha.html", path=path)
        elif fault == "halfpage":
            await self._halfpage(scope, receive, send)
        elif fault in ("redirectloop", "offsite"):
            if fault == "offsite":
                target = store.offsite_url
            else:
                hop = parse_qs(scope.get("query_string", b"").decode()).get("hop", ["0"])[0]
                target = f"{path}?hop={int(hop) + 1 if hop.isdigit() else 1}"
            await send({"type": "http.response.start", "status": 302, "headers": [
                (b"location", target.encode()), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
        elif fault in ("notimage", "truncatedimage"):
            # Broken images, as CDNs serve them: an error page labelled image/jpeg, or a
            # JPEG cut off after its first bytes. The crawl must record an image error.
            body = (b"<!DOCTYPE html><html><body>403 Forbidden</body></html>"
                    if fault == "notimage" else b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40)
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/jpeg"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif fault == "bomb":
            body = imagegen.decompression_bomb_png()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/png"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif fault == "hugeimage":
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/jpeg")]})
            for piece in imagegen.oversized_body():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            raise RuntimeError(f"unknown fault kind {fault!r} for {path}; known: {', '.join(FAULT_KINDS)}")

    async def _halfpage(self, scope, receive, send) -> None:
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body.find(b'<div class="price-row')
        if cut < 0:
            cut = len(body) // 2
        body = body[:cut]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _send_page(self, send, status: int, template: str, headers: dict | None = None,
                         **ctx) -> None:
        body = self.env.get_template(template).render(**ctx).encode()
        raw = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
